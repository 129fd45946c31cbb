export { createResponseCache } from "./cache.ts";
export type { EdgeResponseCache } from "./cache.ts";
export type { ResponseCacheOptions } from "./options.ts";
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_OBJECT_BYTES } from "./options.ts";
export { DEFAULT_STALE_IF_ERROR } from "./freshness.ts";
export type { CacheEntry } from "./records.ts";
export { createMemoryCacheStore } from "./store.ts";
export type { CacheStore, CacheTable, CacheRange } from "./store.ts";
