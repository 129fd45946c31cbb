/**
 * An edge node's storage contract: named tables in one LMDB environment that
 * every worker process of the node opens (LMDB is multi-process safe), so the
 * applied state, the bundles and the response cache are shared by the node's
 * workers and survive restarts. `lmdb.ts` is the only module in edge-nodes/
 * that imports `lmdb`.
 *
 * Tables:
 * - `state`: the applied desired state and the sequence it is at (sync/).
 * - `bundles`: verified bundle bytes by hex digest (sync/).
 * - `assets`: verified static asset bytes by hex sha256 (sync/assets.ts).
 * - `secrets`: secret values per function, as delivered by the registry (sync/).
 * - `cache-meta`, `cache-body`: the response cache (cache/).
 * - `kv`: Workers KV entries of every tenant, as the feed delivered them, and
 *   tombstones of deletes; `kv-tombstones` indexes those by seq (sync/kv.ts).
 */

export type TableName = "state" | "secrets" | "cache-meta";
export type BytesTableName = "bundles" | "cache-body" | "assets";

export interface RangeOptions {
  /** Keys starting with this prefix. */
  prefix?: string;
  limit?: number;
}

/** One table of msgpack values (or raw bytes) keyed by strings. */
export interface EdgeTable<V> {
  get(key: string): V | undefined;
  /** Resolves once the write is committed (writes are batched by LMDB). */
  put(key: string, value: V): Promise<void>;
  remove(key: string): Promise<void>;
  /** Synchronous put/remove, for use inside {@link EdgeStore.transaction}. */
  putSync(key: string, value: V): void;
  removeSync(key: string): void;
  range(options?: RangeOptions): Iterable<{ key: string; value: V }>;
  // Values of `cache-meta` are shared by every reader and frozen: copy to change.
}

/** One KV entry on the node: value, expiration (s), metadata JSON, seq of the change that wrote it. */
export interface EdgeKvRow {
  v: Uint8Array;
  e?: number;
  m?: string;
  s: number;
}

/**
 * KV entries keyed by `scope` (`tenant/namespace`) and key name, in UTF-8 byte
 * order (binary LMDB keys, so any key name works). Writes are ordered by the
 * seq of the change that made them: an older change never overwrites a newer
 * entry, so a write applied early (read-your-writes) or an export page is not
 * undone when the feed replays older changes.
 */
export interface EdgeKv {
  get(scope: string, key: string): EdgeKvRow | undefined;
  /** Entries of `scope` whose key starts with `prefix`, strictly after `after`. */
  range(scope: string, prefix: string, after?: string): Iterable<{ key: string; row: EdgeKvRow }>;
  /** Writes `row` unless the stored entry (or a delete's tombstone) comes from a later change. */
  put(scope: string, key: string, row: EdgeKvRow): Promise<void>;
  /**
   * Deletes the entry unless it comes from a change after `seq`, leaving a
   * tombstone at `seq`, so an older put replayed from the feed (after a local
   * delete that ran ahead of it) cannot bring the key back. `seq` null: the
   * registry had nothing to delete; drop what is here, leave no tombstone.
   */
  remove(scope: string, key: string, seq: number | null): Promise<void>;
  /** Drops the tombstones of deletes at or before `seq` (the feed applied so far: nothing older replays). */
  sweepTombstones(seq: number): Promise<number>;
  /** Drops every entry and tombstone (before a full import). */
  clear(): Promise<void>;
}

export interface EdgeStore {
  table<V>(name: TableName): EdgeTable<V>;
  kv(): EdgeKv;
  bytes(name: BytesTableName): EdgeTable<Uint8Array>;
  /** Runs `fn` (synchronous, using the *Sync writes) as one atomic write transaction. */
  transaction<T>(fn: () => T): Promise<T>;
  close(): Promise<void>;
}
