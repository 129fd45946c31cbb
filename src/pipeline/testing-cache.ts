/**
 * An in-memory `ResponseCache` for tests: the real cache key (cache/key.ts),
 * TTL from s-maxage / max-age / Expires clamped to the behavior's min and max
 * (its default when the origin says nothing), no-store and private honoured,
 * stale entries revalidated with the conditional headers (304 → RefreshHit),
 * stale-if-error (StaleHit), other methods bypassed, bodies streamed to the
 * caller while a copy is stored. Not done here (the real cache in edge-nodes/
 * cache does them): Vary, collapsing concurrent misses, size limits.
 */
import { cacheKey } from "./cache/key.ts";
import type { CacheKeyInput, CacheResult, CacheServeOptions, ResponseCache } from "./types.ts";

interface Entry {
  distribution: string;
  path: string;
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  expires: number;
}

const CACHEABLE = new Set([200, 203, 204, 300, 301, 404, 405, 410, 414, 501]);

export interface TestCache extends ResponseCache {
  /** Keys stored now. */
  keys(): string[];
  /** Every `serve` call's result, in order. */
  readonly results: CacheResult[];
}

export function createTestCache(now: () => number = Date.now): TestCache {
  const entries = new Map<string, Entry>();
  const results: CacheResult[] = [];
  let hits = 0;
  let misses = 0;

  function answer(entry: Entry, method: string): Response {
    return new Response(method === "HEAD" || entry.status === 204 ? null : entry.body.slice(), { status: entry.status, statusText: entry.statusText, headers: entry.headers });
  }

  /** Seconds to keep `res`, or 0 to not store it. */
  function ttlOf(res: Response, ttl: CacheServeOptions["ttl"]): number {
    if (!CACHEABLE.has(res.status)) return 0;
    const cc = (res.headers.get("cache-control") ?? "").toLowerCase();
    if (/(?:^|,)\s*(?:no-store|private)\b/.test(cc)) return 0;
    const sMaxAge = /s-maxage=(\d+)/.exec(cc);
    const maxAge = /(?:^|[,\s])max-age=(\d+)/.exec(cc);
    const expires = res.headers.get("expires");
    let seconds: number;
    if (sMaxAge) seconds = Number(sMaxAge[1]);
    else if (maxAge) seconds = Number(maxAge[1]);
    else if (expires !== null && !Number.isNaN(Date.parse(expires))) seconds = Math.max(0, (Date.parse(expires) - now()) / 1000);
    else return ttl.default;
    return Math.min(ttl.max, Math.max(ttl.min, seconds));
  }

  function store(key: string, o: CacheServeOptions, res: Response, seconds: number): Response {
    const head = { status: res.status, statusText: res.statusText, headers: [...res.headers] as Array<[string, string]> };
    const save = (body: Uint8Array) => entries.set(key, { distribution: o.distribution, path: o.path, ...head, body, expires: now() + seconds * 1000 });
    if (res.body === null) {
      save(new Uint8Array(0));
      return res;
    }
    const [toCaller, toStore] = res.body.tee();
    new Response(toStore).arrayBuffer().then((b) => save(new Uint8Array(b)), () => {});
    return new Response(toCaller, head);
  }

  return {
    results,
    keys: () => [...entries.keys()],

    // The real key (policy semantics are not the double's to approximate).
    key: (input: CacheKeyInput) => cacheKey(input),

    async serve(o: CacheServeOptions) {
      const method = o.request.method;
      let result: CacheResult;
      let response: Response;
      if (method !== "GET" && method !== "HEAD") {
        result = "Bypass";
        response = await o.fill({});
      } else {
        const entry = entries.get(o.key);
        if (entry !== undefined && now() < entry.expires) {
          hits++;
          result = "Hit";
          response = answer(entry, method);
        } else {
          misses++;
          const conditional: Record<string, string> = {};
          const etag = entry?.headers.find(([k]) => k === "etag")?.[1];
          const modified = entry?.headers.find(([k]) => k === "last-modified")?.[1];
          if (etag !== undefined) conditional["if-none-match"] = etag;
          if (modified !== undefined) conditional["if-modified-since"] = modified;
          let res: Response;
          try {
            res = await o.fill(conditional);
          } catch (err) {
            if (entry === undefined) throw err;
            results.push("StaleHit");
            return { response: answer(entry, method), result: "StaleHit" as const };
          }
          if (res.status === 304 && entry !== undefined) {
            entry.expires = now() + ttlOf(new Response(null, { status: 200, headers: res.headers }), o.ttl) * 1000;
            result = "RefreshHit";
            response = answer(entry, method);
          } else {
            result = "Miss";
            const seconds = method === "GET" ? ttlOf(res, o.ttl) : 0;
            response = seconds > 0 ? store(o.key, o, res, seconds) : res;
          }
        }
      }
      results.push(result);
      return { response, result };
    },

    async purge(p) {
      let n = 0;
      for (const [key, e] of entries) {
        if (e.distribution !== p.distribution) continue;
        const tagged = p.tag !== undefined && (e.headers.find(([k]) => k === "cache-tag")?.[1] ?? "").split(",").map((t) => t.trim()).includes(p.tag);
        if ((p.prefix !== undefined && e.path.startsWith(p.prefix)) || tagged) {
          entries.delete(key);
          n++;
        }
      }
      return n;
    },

    stats() {
      let bytes = 0;
      for (const e of entries.values()) bytes += e.body.byteLength;
      return { entries: entries.size, bytes, maxBytes: Infinity, hits, misses, evictions: 0 };
    },
  };
}
