/**
 * The response cache over a {@link CacheStore} (an edge node's LMDB store, or
 * memory for the harness): {@link ResponseCache} of src/pipeline/types.ts. README.md beside this file has the model.
 */
import type { CacheServeOptions, ResponseCache } from "../types.ts";
import type { CacheStore } from "./store.ts";
import { cacheKey } from "./key.ts";
import { checkTtl, normalizeOptions, type ResponseCacheOptions } from "./options.ts";
import { RECORD_OVERHEAD, type CacheEntry } from "./records.ts";
import { createDirect } from "./direct.ts";
import { createServe } from "./serve.ts";
import { createCacheStorage } from "./storage.ts";

/** {@link ResponseCache} plus what the node needs at shutdown. */
export interface EdgeResponseCache extends ResponseCache {
  get: NonNullable<ResponseCache["get"]>;
  put: NonNullable<ResponseCache["put"]>;
  delete: NonNullable<ResponseCache["delete"]>;
  /** Responses with bigger bodies are not stored (the option `maxObjectBytes`, within `maxBytes`). */
  readonly maxObjectBytes: number;
  /**
   * Resolves once every cache write started so far has committed (stores of
   * fully read bodies, refreshes, purges): await it before closing the store.
   */
  drain(): Promise<void>;
}

/**
 * @example
 * const cache = createResponseCache({ store: openEdgeStore({ path: ".verge/edge-1" }) });
 * const key = cache.key({ distribution, behavior: "default", host, url, headers: request.headers, policy });
 * const { response, result } = await cache.serve({ key, request, path: url.pathname, distribution, ttl, fill });
 */
export function createResponseCache(options: ResponseCacheOptions): EdgeResponseCache {
  const config = normalizeOptions(options);
  const storage = createCacheStorage(config.store, config.maxBytes);
  const counters = { hits: 0, misses: 0 };
  const objectLimit = Math.min(config.maxObjectBytes, Math.max(0, config.maxBytes - RECORD_OVERHEAD));
  const { serve: serveCacheable, lookup } = createServe({
    storage,
    now: config.now,
    collapseWaitMs: config.collapseWaitMs,
    counters,
    maxBytes: config.maxBytes,
    objectLimit,
  });
  const direct = createDirect({ storage, now: config.now, counters, maxBytes: config.maxBytes, objectLimit });

  return {
    key: cacheKey,
    async serve(o: CacheServeOptions) {
      const method = o.request.method.toUpperCase();
      // CloudFront caches GET and HEAD only; everything else goes to the origin.
      if (method !== "GET" && method !== "HEAD") return { response: await o.fill({}), result: "Bypass" };
      checkTtl(o.ttl, o.distribution);
      return serveCacheable(o);
    },
    lookup(o) {
      checkTtl(o.ttl, o.distribution);
      return lookup(o);
    },
    get: direct.get,
    put: direct.put,
    delete: direct.delete,
    purge({ distribution, prefix, tag }) {
      const match = (e: CacheEntry): boolean => {
        // Neither given: the whole distribution (a purge of "/*").
        if (prefix === undefined && tag === undefined) return true;
        return (prefix !== undefined && e.path.startsWith(prefix)) || (tag !== undefined && e.tags.includes(tag));
      };
      return storage.purge(distribution, match);
    },
    stats() {
      const { entries, bytes } = storage.counts();
      return { entries, bytes, maxBytes: config.maxBytes, hits: counters.hits, misses: counters.misses, evictions: storage.evictions };
    },
    drain: () => storage.drain(),
    maxObjectBytes: objectLimit,
  };
}
