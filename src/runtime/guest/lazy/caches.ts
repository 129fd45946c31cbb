/** Lazy part "caches": the Workers Cache API (`caches`, Cache, CacheStorage), loaded when a function first reads one. */
export { Cache, CacheStorage, cacheStorage } from "../fetch/cache.ts";
