/**
 * The registry's storage contract (DESIGN.md §8): a few named tables of
 * JSON-like values plus one of raw bytes, read in consistent snapshots and
 * written in serialized, atomic transactions. The LMDB store implements it;
 * a larger deployment can implement it over a replicated store. Keys and the
 * transaction rules are in README.md beside this file.
 */

/** Tables of plain values, keyed by strings (`feed` by sequence number). */
export type Table = "meta" | "tenants" | "tokens" | "functions" | "secrets" | "versions" | "aliases" | "alias-history" | "signing" | "distributions" | "hostnames" | "feed" | "nodes" | "kv" | "kv-namespaces" | "cron-claims" | "logs" | "assets" | "r2" | "r2-buckets" | "r2-chunks" | "r2-uploads";

export type Key = string | number;

export interface RangeOptions {
  /** Keys starting with this prefix (string keys). */
  prefix?: string;
  /** String keys from this one on (inclusive), within `prefix` if given. */
  from?: string;
  /** Numeric keys strictly greater than this (the feed). */
  after?: number;
  /** Numeric keys up to and including this. */
  through?: number;
  limit?: number;
  reverse?: boolean;
  /**
   * With it, a value that cannot be decoded (a damaged or foreign entry) is
   * skipped and reported here instead of failing the whole range; without it
   * the range throws. For readers that must get past bad entries (`verge logs`
   * loading its rings at start).
   */
  onUndecodable?: (key: Key, error: Error) => void;
}

export interface ReadTx {
  get<T>(table: Table, key: Key): T | undefined;
  range<T>(table: Table, options: RangeOptions): Array<{ key: Key; value: T }>;
  /** Raw bundle bytes by hex digest. */
  getBundle(digest: string): Uint8Array | undefined;
  /** A static asset's bytes by hex sha256 (shared by every tenant that uploaded them). */
  getBlob(hash: string): Uint8Array | undefined;
}

export interface WriteTx extends ReadTx {
  put(table: Table, key: Key, value: unknown): void;
  delete(table: Table, key: Key): void;
  putBundle(digest: string, bytes: Uint8Array): void;
  putBlob(hash: string, bytes: Uint8Array): void;
}

export interface Store {
  /** Runs `fn` over one consistent snapshot. */
  read<T>(fn: (tx: ReadTx) => T): T;
  /**
   * Runs `fn` (synchronous) in a write transaction. Transactions are serialized;
   * the promise resolves once the transaction is durable. If `fn` throws, none
   * of its writes are kept and the promise rejects with what it threw.
   */
  write<T>(fn: (tx: WriteTx) => T): Promise<T>;
  close(): Promise<void>;
}
