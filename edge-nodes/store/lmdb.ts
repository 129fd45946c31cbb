/**
 * The LMDB implementation of {@link EdgeStore}: the only module in edge-nodes/
 * that imports `lmdb`. One environment per node data directory, one named
 * database per table; every worker process of the node opens the same one.
 */
import { open, type Database } from "lmdb";
import type { BytesTableName, EdgeStore, EdgeTable, RangeOptions, TableName } from "./store.ts";

const TABLES: readonly TableName[] = ["state", "secrets", "cache-meta"];
const BYTES: readonly BytesTableName[] = ["bundles", "cache-body"];

export interface EdgeStoreOptions {
  /** Directory of the LMDB environment; created if missing. */
  path: string;
}

function wrap<V>(db: Database, copyBytes: boolean): EdgeTable<V> {
  // Binary reads may point into the memory map; copy what must outlive the read.
  const out = (v: unknown): V | undefined => (v === undefined ? undefined : copyBytes ? (Uint8Array.from(v as Uint8Array) as V) : (v as V));
  return {
    get: (key) => out(copyBytes ? db.getBinary(key) : db.get(key)),
    put: async (key, value) => void (await db.put(key, value)),
    remove: async (key) => void (await db.remove(key)),
    putSync: (key, value) => void db.putSync(key, value),
    removeSync: (key) => void db.removeSync(key),
    *range(options: RangeOptions = {}) {
      const spec = options.prefix === undefined ? {} : { start: options.prefix, end: options.prefix + "\uffff" };
      for (const { key, value } of db.getRange({ ...spec, ...(options.limit === undefined ? {} : { limit: options.limit }) })) {
        yield { key: key as string, value: out(value) as V };
      }
    },
  };
}

/**
 * @example
 * const store = openEdgeStore({ path: ".verge/edge-1" });
 * await store.table<{ seq: number }>("state").put("applied", { seq: 3 });
 */
export function openEdgeStore(options: EdgeStoreOptions): EdgeStore {
  const env = open({ path: options.path, maxDbs: TABLES.length + BYTES.length + 2 });
  const tables = new Map<string, EdgeTable<unknown>>();
  for (const name of TABLES) tables.set(name, wrap(env.openDB({ name, encoding: "msgpack" }), false));
  for (const name of BYTES) tables.set(name, wrap(env.openDB({ name, encoding: "binary" }), true));
  return {
    table: <V>(name: TableName) => tables.get(name) as EdgeTable<V>,
    bytes: (name) => tables.get(name) as EdgeTable<Uint8Array>,
    transaction: <T>(fn: () => T) => env.transaction(fn) as Promise<T>,
    close: async () => {
      await env.close();
    },
  };
}
