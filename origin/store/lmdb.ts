/**
 * The LMDB implementation of {@link Store}: the only module in origin/ that
 * imports `lmdb`. One environment, one named database per table, bundles as raw
 * bytes. Keys and transactions are described in README.md beside this file.
 */
import { open, type Database, type RootDatabase } from "lmdb";
import { VergeError } from "../../src/shared/errors.ts";
import type { Key, RangeOptions, ReadTx, Store, Table, WriteTx } from "./store.ts";

const TABLES: readonly Table[] = ["meta", "tenants", "tokens", "functions", "secrets", "versions", "aliases", "alias-history", "signing", "distributions", "hostnames", "feed", "nodes", "kv", "kv-namespaces", "cron-claims", "logs", "assets", "r2", "r2-buckets", "r2-chunks", "r2-uploads"];

export interface LmdbStoreOptions {
  /** Directory of the LMDB environment; created if missing. */
  path: string;
}

/** Bytes read in a transaction may point into the map; hand out a copy that outlives it. */
const copy = (b: Uint8Array | undefined): Uint8Array | undefined => (b === undefined ? undefined : Uint8Array.from(b));

type Txn = ReturnType<RootDatabase["useReadTransaction"]>;

/**
 * @example
 * const store = openLmdbStore({ path: "./data" });
 * await store.write((tx) => tx.put("meta", "hello", { at: Date.now() }));
 * store.read((tx) => tx.get("meta", "hello"));
 */
export function openLmdbStore(options: LmdbStoreOptions): Store {
  // overlappingSync off: a resolved write has been fsynced, so an acknowledged
  // publish survives a power loss, not only a killed process (issue 3).
  const env = open({ path: options.path, maxDbs: TABLES.length + 3, overlappingSync: false });
  const dbs = new Map<Table, Database>(TABLES.map((t) => [t, env.openDB({ name: t, encoding: "msgpack" })]));
  const bundles = env.openDB({ name: "bundles", encoding: "binary" });
  const blobs = env.openDB({ name: "blobs", encoding: "binary" });
  const db = (t: Table): Database => dbs.get(t)!;

  function range<T>(t: Table, o: RangeOptions, transaction?: Txn): Array<{ key: Key; value: T }> {
    let start: Key | undefined;
    let end: Key | undefined;
    if (o.prefix !== undefined) {
      start = o.prefix;
      end = o.prefix + "\uffff";
      if (o.from !== undefined && o.from > start) start = o.from;
    } else if (o.from !== undefined) {
      start = o.from;
    } else {
      // Numeric keys are integers (feed sequence numbers).
      start = o.after === undefined ? 0 : o.after + 1;
      end = o.through === undefined ? Number.MAX_SAFE_INTEGER : o.through + 1;
    }
    const spec = o.reverse
      ? { start: typeof end === "number" ? end - 1 : end, end: typeof start === "number" ? start - 1 : start, reverse: true }
      : { start, end };
    const out: Array<{ key: Key; value: T }> = [];
    const tx = transaction === undefined ? {} : { transaction };
    if (o.onUndecodable !== undefined) {
      // A value that fails to decode throws out of getRange's iterator and ends it; walk the
      // keys instead and decode each value on its own, so one bad entry costs only itself.
      for (const key of db(t).getKeys({ ...spec, ...tx })) {
        if (o.limit !== undefined && out.length >= o.limit) break;
        try {
          out.push({ key: key as Key, value: db(t).get(key, tx) as T });
        } catch (err) {
          o.onUndecodable(key as Key, err instanceof Error ? err : new Error(String(err)));
        }
      }
      return out;
    }
    const iterable = db(t).getRange({ ...spec, ...(o.limit === undefined ? {} : { limit: o.limit }), ...tx });
    for (const { key, value } of iterable) out.push({ key: key as Key, value: value as T });
    return out;
  }

  const writeTx: WriteTx = {
    get: <T>(t: Table, key: Key) => db(t).get(key) as T | undefined,
    range: (t, o) => range(t, o),
    getBundle: (digest) => copy(bundles.getBinary(digest)),
    getBlob: (hash) => copy(blobs.getBinary(hash)),
    put: (t, key, value) => void db(t).putSync(key, value),
    delete: (t, key) => void db(t).removeSync(key),
    putBundle: (digest, bytes) => void bundles.putSync(digest, bytes),
    putBlob: (hash, bytes) => void blobs.putSync(hash, bytes),
  };

  // Set when close() starts. A request handler still running when the server shuts down (its
  // socket gone, an await pending) must not touch the environment after that: lmdb-js lets a read
  // begin while close() waits for pending writes, then its read-txn reset timer throws
  // "Attempt to reset an invalid read txn" as an uncaught exception once the environment is gone.
  let closed = false;
  const usable = (): void => {
    if (closed) throw new VergeError("ERR_INTERNAL", "the registry's store is closed: the server is shutting down");
  };

  return {
    read<T>(fn: (tx: ReadTx) => T): T {
      usable();
      const transaction = env.useReadTransaction();
      try {
        return fn({
          get: <V>(t: Table, key: Key) => db(t).get(key, { transaction }) as V | undefined,
          range: (t, o) => range(t, o, transaction),
          getBundle: (digest) => copy(bundles.get(digest, { transaction }) as Uint8Array | undefined),
          getBlob: (hash) => copy(blobs.get(hash, { transaction }) as Uint8Array | undefined),
        });
      } finally {
        transaction.done();
      }
    },
    write<T>(fn: (tx: WriteTx) => T): Promise<T> {
      if (closed) return Promise.reject(new VergeError("ERR_INTERNAL", "the registry's store is closed: the server is shutting down"));
      // A child transaction, so a callback that throws leaves none of its writes
      // in the batch the other queued callbacks commit with (lmdb write.js).
      return env.childTransaction(() => fn(writeTx)) as Promise<T>;
    },
    async close() {
      closed = true;
      await env.close();
    },
  };
}
