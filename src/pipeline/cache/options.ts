/**
 * Options of {@link createResponseCache} and their checks. Bad options are a
 * caller's bug: they throw `ERR_INVALID_OPTIONS` at once, naming the field.
 */
import { VergeError } from "../../shared/errors.ts";
import type { Ttl } from "../../shared/protocol.ts";
import type { CacheStore } from "./store.ts";

export interface ResponseCacheOptions {
  /** Where records live: an edge node's LMDB store, or {@link createMemoryCacheStore}; the cache uses its `cache-meta` and `cache-body` tables. */
  store: CacheStore;
  /** Cap on stored bytes (bodies, headers and a per-entry overhead). Default 256 MiB. */
  maxBytes?: number;
  /** Responses with bigger bodies stream through uncached. Default 10 MiB. */
  maxObjectBytes?: number;
  /** Clock in ms (tests inject one). Default `Date.now`. */
  now?: () => number;
  /**
   * Longest a request waits on a concurrent fill of its key (request
   * collapsing) before asking the origin itself. Default 10 000 ms.
   */
  collapseWaitMs?: number;
}

export interface ResponseCacheConfig {
  store: CacheStore;
  maxBytes: number;
  maxObjectBytes: number;
  now: () => number;
  collapseWaitMs: number;
}

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_OBJECT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_COLLAPSE_WAIT_MS = 10_000;

function positiveInteger(value: unknown, field: string, fallback: number, unit = "bytes"): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new VergeError("ERR_INVALID_OPTIONS", `createResponseCache: options.${field}: expected a positive integer (${unit}), found ${JSON.stringify(value)}`);
  }
  return value;
}

export function normalizeOptions(options: ResponseCacheOptions): ResponseCacheConfig {
  if (typeof options?.store?.table !== "function" || typeof options.store.bytes !== "function") {
    throw new VergeError("ERR_INVALID_OPTIONS", "createResponseCache: options.store: expected a CacheStore (an edge node's openEdgeStore() or createMemoryCacheStore()), found " + typeof options?.store);
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new VergeError("ERR_INVALID_OPTIONS", `createResponseCache: options.now: expected a function returning ms, found ${typeof options.now}`);
  }
  return {
    store: options.store,
    maxBytes: positiveInteger(options.maxBytes, "maxBytes", DEFAULT_MAX_BYTES),
    maxObjectBytes: positiveInteger(options.maxObjectBytes, "maxObjectBytes", DEFAULT_MAX_OBJECT_BYTES),
    now: options.now ?? Date.now,
    collapseWaitMs: positiveInteger(options.collapseWaitMs, "collapseWaitMs", DEFAULT_COLLAPSE_WAIT_MS, "ms"),
  };
}

/** A behavior's TTLs as `serve` needs them: seconds, 0 ≤ min ≤ max. */
export function checkTtl(ttl: Ttl, distribution: string): void {
  const ok = (n: unknown): boolean => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (!ttl || !ok(ttl.min) || !ok(ttl.default) || !ok(ttl.max) || ttl.min > ttl.max) {
    throw new VergeError(
      "ERR_INVALID_OPTIONS",
      `cache.serve: ttl of distribution "${distribution}": expected seconds with 0 <= min <= max, found ${JSON.stringify(ttl)}`,
    );
  }
}
