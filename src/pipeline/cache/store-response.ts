/**
 * A response from `fill` on its way to the viewer: stored if cacheable, its
 * body teed into the cache while the viewer reads it, and committed only once
 * the body ended completely within the object limit.
 */
import type { CacheServeOptions } from "../types.ts";
import { ORIGIN_ERRORS, storeDecision } from "./freshness.ts";
import { entryKey, newEntry } from "./records.ts";
import type { CacheStorage, Found } from "./storage.ts";
import { teeIntoCache } from "./tee.ts";
import { variantId, varyNames, varyValues } from "./vary.ts";

export interface StoreContext {
  storage: CacheStorage;
  /** Largest body stored, in bytes. */
  objectLimit: number;
  maxBytes: number;
}

/**
 * Returns the response for the viewer. `settle(entryKey | null)` is called
 * exactly once: with the stored entry's key after its commit, or with null
 * as soon as it is known that nothing will be stored.
 *
 * @param matches the variants this request matched; a stored response replaces them.
 */
export function storeWhileStreaming(
  ctx: StoreContext,
  o: CacheServeOptions,
  res: Response,
  head: boolean,
  matches: readonly Found[],
  at: number,
  settle: (entryKey: string | null) => void,
): Response {
  // A HEAD response has no body to store; a GET entry answers HEAD instead.
  const decision = head ? ({ store: false, reason: "HEAD" } as const) : storeDecision(res.headers, res.status, o.ttl, at);
  if (!decision.store) {
    // A definitive answer the origin says not to store supersedes stored
    // variants; an origin error does not (they may still serve stale).
    if (head || res.status >= 500 || matches.length === 0) settle(null);
    else {
      Promise.all(matches.map((m) => ctx.storage.remove(m)))
        .catch(() => {})
        .finally(() => settle(null));
    }
    return res;
  }
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > ctx.objectLimit) {
    settle(null);
    return res;
  }

  const vary = varyNames(res.headers.get("vary"));
  const values = varyValues(o.request.headers, vary);
  const key = entryKey(o.distribution, o.key, variantId(vary, values));
  const replace = matches.map((m) => m.entryKey).filter((k) => k !== key);

  const commit = (body: Uint8Array): void => {
    const entry = newEntry({
      distribution: o.distribution,
      path: o.path,
      key: o.key,
      entryKey: key,
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      vary,
      varyValues: values,
      bodyBytes: body.byteLength,
      at,
      timing: decision,
    });
    if (entry.size > ctx.maxBytes) return settle(null);
    ctx.storage.put(entry, key, body, replace).then(
      () => settle(key),
      () => settle(null),
    );
  };

  if (res.body === null) {
    commit(new Uint8Array(0));
    return res;
  }
  const body = teeIntoCache(res.body, ctx.objectLimit, { complete: commit, abandon: () => settle(null) });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** True for statuses that let a stale entry answer instead (stale-if-error). */
export function isOriginError(status: number): boolean {
  return ORIGIN_ERRORS.has(status);
}
