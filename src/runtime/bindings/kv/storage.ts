/**
 * Where a KV namespace keeps its entries. Two implementations: in memory
 * (memory-storage.ts) and LMDB in a directory (lmdb-storage.ts). Storages do
 * no validation of the Workers limits (the binding does, see handler.ts);
 * they keep entries, hide expired ones and list keys in UTF-8 byte order, as
 * Workers KV does. Expired entries are also removed: when a read or a list
 * meets one, and by {@link KvStorage.purgeExpired} (the LMDB storage runs it
 * when it opens and every {@link PURGE_INTERVAL_MS} after).
 */

/** How often a persisted namespace drops its expired entries. */
export const PURGE_INTERVAL_MS = 60_000;

export interface KvEntry {
  value: Uint8Array;
  /** Seconds since the UNIX epoch after which the entry is gone. */
  expiration?: number;
  /** The metadata as JSON text (kept serialized, so it always crosses as a copy). */
  metadata?: string;
}

export interface KvKey {
  name: string;
  expiration?: number;
  metadata?: string;
}

export interface KvListOptions {
  prefix?: string;
  /** At most this many keys (1..1000). */
  limit: number;
  /** Opaque: the `cursor` of the previous page. */
  cursor?: string;
}

export interface KvListResult {
  keys: KvKey[];
  /** Present when more keys follow. */
  cursor?: string;
}

export interface KvStorage {
  /** The entry, or null when absent or expired. The value is the caller's own copy. */
  get(key: string): Promise<KvEntry | null>;
  /** Replaces the entry in one atomic write. */
  put(key: string, entry: KvEntry): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: KvListOptions): Promise<KvListResult>;
  /** Removes every entry expired now; resolves with how many were removed (local storages). */
  purgeExpired?(): Promise<number>;
  close(): Promise<void>;
}

export interface KvStorageOptions {
  /** Milliseconds since the epoch; injectable for tests (default Date.now). */
  now?: () => number;
}

export function isExpired(entry: { expiration?: number | undefined }, nowMs: number): boolean {
  return entry.expiration !== undefined && entry.expiration * 1000 <= nowMs;
}

/** A cursor names the last key of a page (base64 of its UTF-8, as Miniflare's). */
export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  return Buffer.from(cursor, "base64").toString("utf8");
}
