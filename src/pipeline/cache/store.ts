/**
 * Where the response cache keeps its records: two tables and atomic write
 * transactions. An edge node passes its LMDB store (edge-nodes/store, shared
 * by the node's worker processes, surviving restarts); the harness and
 * `verge dev` pass {@link createMemoryCacheStore}, so the same cache code runs
 * locally and in production.
 */

export interface CacheRange {
  /** Keys starting with this prefix. */
  prefix?: string;
  limit?: number;
}

/** One table keyed by strings, values in key order by {@link CacheTable.range}. */
export interface CacheTable<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): Promise<void>;
  remove(key: string): Promise<void>;
  /** Synchronous writes, for use inside {@link CacheStore.transaction}. */
  putSync(key: string, value: V): void;
  removeSync(key: string): void;
  range(options?: CacheRange): Iterable<{ key: string; value: V }>;
}

/**
 * Values of `cache-meta` are shared by every reader and frozen: copy to change.
 * Bytes read from `cache-body` belong to the caller.
 */
export interface CacheStore {
  table<V>(name: "cache-meta"): CacheTable<V>;
  bytes(name: "cache-body"): CacheTable<Uint8Array>;
  /** Runs `fn` (synchronous, using the *Sync writes) as one atomic write transaction. */
  transaction<T>(fn: () => T): Promise<T>;
}

/**
 * A cache store in this process's memory: for the harness and `verge dev`,
 * where nothing is shared between processes or kept across restarts.
 *
 * @example
 * const cache = createResponseCache({ store: createMemoryCacheStore(), maxBytes: 64 << 20 });
 */
export function createMemoryCacheStore(): CacheStore {
  const meta = memoryTable<unknown>((v) => deepFreeze(structuredClone(v)), (v) => v);
  const bodies = memoryTable<Uint8Array>((v) => Uint8Array.from(v), (v) => Uint8Array.from(v));
  return {
    table: <V>() => meta as CacheTable<V>,
    bytes: () => bodies,
    // One thread: a synchronous function is atomic. A throw leaves earlier writes in
    // place, unlike LMDB's rollback; the cache's transactions do not throw midway.
    transaction: async <T>(fn: () => T) => fn(),
  };
}

function memoryTable<V>(onPut: (v: V) => V, onGet: (v: V) => V): CacheTable<V> {
  const rows = new Map<string, V>();
  const putSync = (key: string, value: V): void => void rows.set(key, onPut(value));
  const removeSync = (key: string): void => void rows.delete(key);
  return {
    get: (key) => {
      const v = rows.get(key);
      return v === undefined ? undefined : onGet(v);
    },
    put: async (key, value) => putSync(key, value),
    remove: async (key) => removeSync(key),
    putSync,
    removeSync,
    *range(options: CacheRange = {}) {
      const { prefix = "", limit = Infinity } = options;
      const keys = [...rows.keys()].filter((k) => k.startsWith(prefix)).sort();
      let n = 0;
      for (const key of keys) {
        if (n++ >= limit) return;
        const v = rows.get(key);
        if (v !== undefined) yield { key, value: onGet(v) };
      }
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
