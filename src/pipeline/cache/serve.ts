/**
 * One viewer request through the cache (issue 4; CloudFront's behaviour):
 *
 * 1. Methods other than GET and HEAD: `fill`, answered as Bypass.
 * 2. Another request of this process is filling the same key: wait for it,
 *    then answer from what it stored; if it stored nothing that fits, fill
 *    alone (request collapsing, as CloudFront does it).
 * 3. A fresh variant matching the request's Vary values: Hit.
 * 4. Otherwise fill: with the stale entry's validators when it has some.
 *    - `fill` throws or answers 500/502/503/504 and the stale entry is within
 *      its stale-if-error window: StaleHit.
 *    - 304 to our conditional: the entry's headers and TTL are refreshed and
 *      its body served: RefreshHit.
 *    - anything else: Miss, stored while it streams if it is cacheable.
 * Every answer from the cache gets `Age`, and a 304 when the viewer's own
 * conditionals say its copy is current. A GET with a byte `Range` (and an
 * `If-Range`, if any, naming the entry) gets a 206 or 416 from the stored body;
 * on a Miss the origin was asked for the whole body (fill.ts), which is stored
 * while the viewer gets its one range sliced from it (range.ts).
 */
import type { CachedResponse, CacheResult, CacheServeOptions } from "../types.ts";
import { revalidationHeaders, viewerNotModified } from "./conditional.ts";
import { currentAge, isFresh, storeDecision, usableOnError } from "./freshness.ts";
import { entryResponse, keyPrefix, mergeHeaders, notModifiedResponse, partialResponse, servedHeaders, sizeOf, tagsOf, withAge, type CacheEntry } from "./records.ts";
import { ifRangeAllows, rangeAnswer, rangeOfMiss } from "./range.ts";
import type { Found } from "./storage.ts";
import { isOriginError, storeWhileStreaming, type StoreContext } from "./store-response.ts";
import { requestHeaders } from "./vary.ts";

export interface ServeContext extends StoreContext {
  now: () => number;
  /** Longest a request waits on another's fill before asking the origin itself. */
  collapseWaitMs: number;
  counters: { hits: number; misses: number };
}

type Served = { response: Response; result: CacheResult };

/**
 * Releases a body nobody will read. Not awaited: cancelling one branch of a
 * teed stream resolves only once the other branch is cancelled too.
 */
function discard(res: Response): void {
  res.body?.cancel().catch(() => {});
}

/**
 * A flight's outcome, or null after `ms`: the leader's viewer may read its
 * body slowly, or drop it without cancelling, and waiters must not hang on it.
 */
async function waitFor(flight: Flight, ms: number): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    return await Promise.race([flight.done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a filling request tells the requests waiting on it: which entry to answer from, and as what. */
type Outcome = { entryKey: string; result: CacheResult } | null;

/** A fill in progress; `answered` once the origin's response (or failure) came back. */
interface Flight {
  done: Promise<Outcome>;
  answered: boolean;
}

export interface ServeFunctions {
  serve(o: CacheServeOptions): Promise<Served>;
  /** {@link ResponseCache.lookup} (src/pipeline/types.ts). */
  lookup(o: Omit<CacheServeOptions, "fill">): CachedResponse | undefined;
}

export function createServe(ctx: ServeContext): ServeFunctions {
  const inflight = new Map<string, Flight>();

  function respond(entry: CacheEntry, body: Uint8Array, o: CacheServeOptions, head: boolean, result: CacheResult, at: number): Served {
    const age = currentAge(entry, at);
    ctx.counters.hits++;
    const viewer = requestHeaders(o.request);
    if (viewerNotModified(viewer, entry)) return { response: notModifiedResponse(entry, age), result };
    const range = head || entry.status !== 200 ? null : viewer.get("range");
    if (range !== null && ifRangeAllows(viewer.get("if-range"), entry)) {
      const partial = rangeAnswer(range, body, entry.headers.find(([n]) => n === "content-type")?.[1]);
      if (partial !== undefined) return { response: partialResponse(entry, partial, age), result };
    }
    return { response: entryResponse(entry, entry.headers, head ? null : body, age), result };
  }

  /** Answers from a stored variant; undefined when its body is gone (another process replaced or evicted it). */
  /** @param fresh `found` comes from `storage.find` in this same synchronous run */
  function fromFound(found: Found, o: CacheServeOptions, head: boolean, result: CacheResult, at: number, fresh = false): Served | undefined {
    const body = ctx.storage.body(found.entry, fresh);
    if (body === undefined) return undefined;
    ctx.storage.hit(found.entryKey, at);
    return respond(found.entry, body, o, head, result, at);
  }

  /** RFC 9111 §4.3.4: a 304 updates the stored headers and restarts the entry's age. */
  async function refresh(found: Found, res: Response, o: CacheServeOptions, at: number): Promise<{ entry: CacheEntry; body: Uint8Array; kept: boolean } | undefined> {
    const body = ctx.storage.body(found.entry);
    if (body === undefined) return undefined;
    const headers = mergeHeaders(found.entry.headers, res.headers);
    const merged = new Headers(headers);
    // The stored headers never keep Age; the 304's own Age starts the refreshed entry's.
    const age = res.headers.get("age");
    const decision = storeDecision(age === null ? merged : new Headers([...headers, ["age", age]]), found.entry.status, o.ttl, at);
    const patch = {
      headers,
      storedAt: at,
      lastAccess: at,
      etag: merged.get("etag"),
      lastModified: merged.get("last-modified"),
      tags: tagsOf(merged),
      size: sizeOf(body.byteLength, headers),
      ...(decision.store
        ? { ttl: decision.ttl, noCache: decision.noCache, staleIfError: decision.staleIfError, initialAge: decision.initialAge }
        : { ttl: 0, noCache: true, staleIfError: 0, initialAge: 0 }),
    };
    // Validated: this viewer gets the body even if the origin now says not to keep it.
    const kept = decision.store && (await ctx.storage.refresh(found, patch)) !== undefined;
    if (!decision.store) await ctx.storage.remove(found);
    if (kept) ctx.storage.hit(found.entryKey, at);
    return { entry: { ...found.entry, ...patch }, body, kept };
  }

  async function fill(o: CacheServeOptions, head: boolean, stale: Found | undefined, matches: Found[]): Promise<Served> {
    const group = keyPrefix(o.distribution, o.key);
    let resolve!: (outcome: Outcome) => void;
    const flight: Flight = { done: new Promise<Outcome>((r) => (resolve = r)), answered: false };
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      flight.answered = true;
      if (inflight.get(group) === flight) inflight.delete(group);
      resolve(outcome);
    };
    // HEAD never stores, so it never leads a group others would wait on.
    if (!head && !inflight.has(group)) inflight.set(group, flight);
    let handedOff = false;
    try {
      const conditional = stale === undefined ? {} : revalidationHeaders(stale.entry);
      let res: Response;
      try {
        res = await o.fill(conditional);
        flight.answered = true;
      } catch (err) {
        const served = staleOnError(stale, o, head);
        if (served !== undefined) {
          settle({ entryKey: stale!.entryKey, result: "StaleHit" });
          return served;
        }
        throw err;
      }
      const at = ctx.now();
      if (isOriginError(res.status)) {
        const served = staleOnError(stale, o, head);
        if (served !== undefined) {
          discard(res);
          settle({ entryKey: stale!.entryKey, result: "StaleHit" });
          return served;
        }
      }
      if (res.status === 304 && stale !== undefined && Object.keys(conditional).length > 0) {
        discard(res);
        const refreshed = await refresh(stale, res, o, at);
        if (refreshed !== undefined) {
          settle(refreshed.kept ? { entryKey: stale.entryKey, result: "RefreshHit" } : null);
          return respond(refreshed.entry, refreshed.body, o, head, "RefreshHit", at);
        }
        // Evicted or purged meanwhile: the 304 has no body to give, so ask again without validators.
        res = await o.fill({});
      }
      ctx.counters.misses++;
      handedOff = true;
      const response = storeWhileStreaming(ctx, o, res, head, matches, at, (entryKey) =>
        settle(entryKey === null ? null : { entryKey, result: "Hit" }),
      );
      return { response: head ? response : rangeOfMiss(response, requestHeaders(o.request), ctx.objectLimit), result: "Miss" };
    } finally {
      if (!handedOff) settle(null);
    }
  }

  function staleOnError(stale: Found | undefined, o: CacheServeOptions, head: boolean): Served | undefined {
    if (stale === undefined) return undefined;
    const at = ctx.now();
    if (!usableOnError(stale.entry, at)) return undefined;
    return fromFound(stale, o, head, "StaleHit", at);
  }

  /**
   * @param canWait false after a collapsed fill stored nothing: then fill alone, at once
   * @param seen a flight already waited on, whose entry did not fit this request
   */
  async function lookupOrFill(o: CacheServeOptions, head: boolean, canWait: boolean, seen?: Flight): Promise<Served> {
    const pending = canWait ? inflight.get(keyPrefix(o.distribution, o.key)) : undefined;
    if (pending !== undefined && pending !== seen) {
      const joinedBeforeAnswer = !pending.answered;
      const outcome = await waitFor(pending, ctx.collapseWaitMs);
      // Nothing stored (uncacheable, aborted, failed, or too slow): every waiter asks the origin itself.
      if (outcome === null) return lookupOrFill(o, head, false);
      const at = ctx.now();
      const found = ctx.storage.find(o.distribution, o.key, requestHeaders(o.request)).find((f) => f.entryKey === outcome.entryKey);
      // The origin's answer fits a request that arrived before it was given
      // (even a no-cache one, just validated); a later arrival needs it fresh.
      const fits =
        found !== undefined &&
        (outcome.result === "StaleHit" ? usableOnError(found.entry, at) : joinedBeforeAnswer || isFresh(found.entry, at));
      const served = fits ? fromFound(found, o, head, outcome.result, at, true) : undefined;
      if (served !== undefined) return served;
      // Another variant, or stale by now: look again, and collapse onto a newer fill if one started.
      return lookupOrFill(o, head, true, pending);
    }
    const at = ctx.now();
    const matches = ctx.storage.find(o.distribution, o.key, requestHeaders(o.request));
    const found = matches[0];
    if (found !== undefined && isFresh(found.entry, at)) {
      const served = fromFound(found, o, head, "Hit", at, true);
      if (served !== undefined) return served;
    }
    return fill(o, head, found, matches);
  }

  /** Step 3 alone, when nothing is in flight for the key and the answer is a plain Hit (not a 304 to the viewer). */
  function lookup(o: Omit<CacheServeOptions, "fill">): CachedResponse | undefined {
    const method = o.request.method.toUpperCase();
    if ((method !== "GET" && method !== "HEAD") || inflight.has(keyPrefix(o.distribution, o.key))) return undefined;
    const headers = requestHeaders(o.request);
    const at = ctx.now();
    const found = ctx.storage.find(o.distribution, o.key, headers)[0];
    if (found === undefined || !isFresh(found.entry, at) || viewerNotModified(headers, found.entry)) return undefined;
    // A byte range is `serve`'s to answer (a 206 from the stored body).
    if (method === "GET" && found.entry.status === 200 && headers.get("range") !== null) return undefined;
    const body = ctx.storage.body(found.entry, true);
    if (body === undefined) return undefined;
    ctx.storage.hit(found.entryKey, at);
    ctx.counters.hits++;
    const entry = found.entry;
    const stored = servedHeaders(entry.headers).list;
    const age = String(currentAge(entry, at));
    const out = withAge(stored, age);
    return { result: "Hit", status: entry.status, statusText: entry.statusText, headers: out, body: method === "HEAD" ? null : body, stored, age };
  }

  return { serve: async (o) => lookupOrFill(o, o.request.method.toUpperCase() === "HEAD", true), lookup };
}
