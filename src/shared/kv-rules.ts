/**
 * Workers KV limits and their errors, shared by the guest's KV namespace
 * (src/runtime/guest/bindings/kv-namespace.ts), the harness's host-side
 * namespace, the host handler (src/runtime/bindings/kv/handler.ts) and the
 * registry's KV API (origin/routes/kv.ts), so every side throws the same error.
 * The guest prelude bundles this file (the architecture test allows it): keep
 * it pure, with no import and no globals beyond the language. Numbers and message texts follow
 * Cloudflare's documented limits and workerd's wording (as Miniflare 4 says
 * them: `KV PUT failed: 400 ...`); verge adds the key the call was about.
 * https://developers.cloudflare.com/kv/platform/limits/
 */

export const KV_LIMITS = {
  /** UTF-8 bytes of a key name. */
  maxKeyBytes: 512,
  /** Bytes of a value (25 MiB). */
  maxValueBytes: 25 * 1024 * 1024,
  /** UTF-8 bytes of the metadata's JSON serialization. */
  maxMetadataBytes: 1024,
  /** Seconds: expirationTtl, and how far in the future an expiration must be. */
  minExpirationTtl: 60,
  /** Seconds (Cloudflare lowered it from 60 to 30 in 2025; workerd says 30). */
  minCacheTtl: 30,
  /** Keys per list() page, and the default. */
  maxListKeys: 1000,
  /** Keys per bulk get. */
  maxBulkKeys: 100,
} as const;

export const KV_TYPES = ["text", "json", "arrayBuffer", "stream"] as const;
export type KvType = (typeof KV_TYPES)[number];

/** UTF-8 length of a string, lone surrogates counted as U+FFFD (3 bytes), as an encoder would. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function showKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

/** `KV <OP> failed: <status> <text>`, plus the key when there is one. */
export function kvError(op: string, status: number, text: string, key?: string): Error {
  return new Error(`KV ${op} failed: ${status} ${text}${key === undefined ? "" : ` (key ${showKey(key)})`}`);
}

/** Names Workers refuses before any request: empty, "." and "..". */
export function checkKeyName(key: string): void {
  if (key === "") throw new TypeError("Key name cannot be empty.");
  if (key === "." || key === "..") throw new TypeError(`"${key}" is not allowed as a key name.`);
}

export function checkKeyLength(op: string, key: string, what: "key" | "prefix" = "key"): void {
  const n = utf8Length(key);
  if (n > KV_LIMITS.maxKeyBytes) {
    throw kvError(op, 414, `UTF-8 encoded length of ${n} exceeds key length limit of ${KV_LIMITS.maxKeyBytes}.`, what === "key" ? key : undefined);
  }
}

export function checkKey(op: string, key: string): void {
  checkKeyName(key);
  checkKeyLength(op, key);
}

export function checkCacheTtl(op: string, key: string, cacheTtl: number | undefined): void {
  if (cacheTtl === undefined) return;
  if (Number.isNaN(cacheTtl) || cacheTtl < KV_LIMITS.minCacheTtl) {
    throw kvError(op, 400, `Invalid cache_ttl of ${cacheTtl}. Cache TTL must be at least ${KV_LIMITS.minCacheTtl}.`, key);
  }
}

/** The absolute expiration (seconds) a put asks for, or undefined; throws for values Workers refuses. */
export function checkExpiration(key: string, nowSeconds: number, expiration: number | undefined, expirationTtl: number | undefined): number | undefined {
  if (expirationTtl !== undefined) {
    if (Number.isNaN(expirationTtl) || expirationTtl <= 0) throw kvError("PUT", 400, `Invalid expiration_ttl of ${expirationTtl}. Please specify integer greater than 0.`, key);
    if (expirationTtl < KV_LIMITS.minExpirationTtl) throw kvError("PUT", 400, `Invalid expiration_ttl of ${expirationTtl}. Expiration TTL must be at least ${KV_LIMITS.minExpirationTtl}.`, key);
    return nowSeconds + expirationTtl;
  }
  if (expiration !== undefined) {
    if (Number.isNaN(expiration) || expiration <= nowSeconds) {
      throw kvError("PUT", 400, `Invalid expiration of ${expiration}. Please specify integer greater than the current number of seconds since the UNIX epoch.`, key);
    }
    if (expiration < nowSeconds + KV_LIMITS.minExpirationTtl) {
      throw kvError("PUT", 400, `Invalid expiration of ${expiration}. Expiration times must be at least ${KV_LIMITS.minExpirationTtl} seconds in the future.`, key);
    }
    return expiration;
  }
  return undefined;
}

export function checkMetadata(key: string, metadata: string | undefined): void {
  if (metadata === undefined) return;
  const n = utf8Length(metadata);
  if (n > KV_LIMITS.maxMetadataBytes) throw kvError("PUT", 413, `Metadata length of ${n} exceeds limit of ${KV_LIMITS.maxMetadataBytes}.`, key);
}

export function valueTooLarge(key: string, length: number): Error {
  return kvError("PUT", 413, `Value length of ${length} exceeds limit of ${KV_LIMITS.maxValueBytes}.`, key);
}

export function checkListLimit(limit: number): void {
  if (Number.isNaN(limit) || limit < 1) throw kvError("GET", 400, `Invalid key_count_limit of ${limit}. Please specify an integer greater than 0.`);
  if (limit > KV_LIMITS.maxListKeys) throw kvError("GET", 400, `Invalid key_count_limit of ${limit}. Please specify an integer less than ${KV_LIMITS.maxListKeys}.`);
}

export function checkBulkCount(count: number): void {
  if (count < 1) throw kvError("GET_BULK", 400, "You must request a minimum of 1 key");
  if (count > KV_LIMITS.maxBulkKeys) throw kvError("GET_BULK", 400, `You can request a maximum of ${KV_LIMITS.maxBulkKeys} keys`);
}

/** WebIDL-style number conversion of an option: absent stays absent, NaN becomes 0, fractions are truncated. */
export function toInteger(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}
