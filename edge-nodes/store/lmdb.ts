/**
 * The LMDB implementation of {@link EdgeStore}: the only module in edge-nodes/
 * that imports `lmdb`. One environment per node data directory, one named
 * database per table; every worker process of the node opens the same one.
 */
import { open, type Database, type RootDatabase } from "lmdb";
import { VergeError } from "../../src/shared/errors.ts";
import type { BytesTableName, EdgeKv, EdgeKvRow, EdgeStore, EdgeTable, RangeOptions, TableName } from "./store.ts";

const TABLES: readonly TableName[] = ["state", "secrets", "cache-meta"];
const BYTES: readonly BytesTableName[] = ["bundles", "cache-body", "assets"];
/** Tables read on every request, whose decoded values are kept (see DecodedMemo). */
const MEMOIZED = new Set<TableName>(["cache-meta"]);
const MEMO_ENTRIES = 8192;

export interface EdgeStoreOptions {
  /** Directory of the LMDB environment; created if missing. */
  path: string;
}

function wrap<V>(db: Database, copyBytes: boolean, memo: DecodedMemo | null): EdgeTable<V> {
  // Binary reads may point into the memory map; copy what must outlive the read.
  const out = (v: unknown): V | undefined => (v === undefined ? undefined : copyBytes ? (Uint8Array.from(v as Uint8Array) as V) : (v as V));
  const get = memo === null ? (key: string) => out(copyBytes ? db.getBinary(key) : db.get(key)) : (key: string) => memo.get(db, key) as V | undefined;
  return {
    get,
    put: async (key, value) => void (await db.put(key, value)),
    remove: async (key) => void (await db.remove(key)),
    putSync: (key, value) => void db.putSync(key, value),
    removeSync: (key) => void db.removeSync(key),
    *range(options: RangeOptions = {}) {
      const spec = { ...(options.prefix === undefined ? {} : { start: options.prefix, end: options.prefix + "\uffff" }), ...(options.limit === undefined ? {} : { limit: options.limit }) };
      if (memo !== null) {
        for (const key of db.getKeys(spec)) {
          const value = get(key as string);
          if (value !== undefined) yield { key: key as string, value };
        }
        return;
      }
      for (const { key, value } of db.getRange(spec)) yield { key: key as string, value: out(value) as V };
    },
  };
}

/**
 * Decoded values by key, reused while the stored bytes are the same: a hot
 * cache entry is read on every hit, and decoding it costs several times more
 * than reading and comparing its bytes. Any process may rewrite a record, so
 * the bytes are always read; only the decoding is saved. Values are frozen
 * (deeply), since every reader shares them.
 */
class DecodedMemo {
  #entries = new Map<string, { raw: Buffer; value: unknown }>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(db: Database, key: string): unknown {
    const raw = db.getBinary(key) as Buffer | undefined;
    if (raw === undefined) {
      this.#entries.delete(key);
      return undefined;
    }
    const known = this.#entries.get(key);
    if (known !== undefined && known.raw.equals(raw)) return known.value;
    const value = deepFreeze((db as unknown as { decoder: { decode(b: Uint8Array): unknown } }).decoder.decode(raw));
    if (known === undefined && this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { raw, value });
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A stored KV row: an entry, or the tombstone of a delete (`d`, empty value). */
type KvRow = EdgeKvRow & { d?: true };

const EMPTY = new Uint8Array(0);

function openKv(env: RootDatabase): EdgeKv {
  const db: Database<KvRow, Buffer> = env.openDB<KvRow, Buffer>({ name: "kv", encoding: "msgpack", keyEncoding: "binary" });
  // Tombstones by seq (8 bytes, big-endian) + entry key, so a sweep reads only the old ones.
  const tombs: Database<true, Buffer> = env.openDB<true, Buffer>({ name: "kv-tombstones", encoding: "msgpack", keyEncoding: "binary" });
  const keyOf = (scope: string, key: string) => Buffer.from(`${scope}/${key}`, "utf8");
  const tombKey = (seq: number, k: Buffer) => {
    const b = Buffer.alloc(8 + k.length);
    b.writeBigUInt64BE(BigInt(seq));
    k.copy(b, 8);
    return b;
  };
  // Decoded bytes may share memory with the decoder's buffers: copy what outlives the read.
  const copy = (row: KvRow): EdgeKvRow => {
    const out: EdgeKvRow = { v: Uint8Array.from(row.v), s: row.s };
    if (row.e !== undefined) out.e = row.e;
    if (row.m !== undefined) out.m = row.m;
    return out;
  };
  return {
    get(scope, key) {
      const row = db.get(keyOf(scope, key));
      return row === undefined || row.d ? undefined : copy(row);
    },
    *range(scope, prefix, after) {
      const base = Buffer.from(`${scope}/`, "utf8");
      const pre = keyOf(scope, prefix);
      const from = after === undefined ? pre : keyOf(scope, after);
      const start = Buffer.compare(from, pre) > 0 ? from : pre;
      for (const { key, value } of db.getRange({ start })) {
        const k = key as Buffer;
        if (k.subarray(0, pre.length).compare(pre) !== 0) return;
        if (after !== undefined && k.equals(from)) continue;
        if (value.d) continue;
        yield { key: k.subarray(base.length).toString("utf8"), row: copy(value) };
      }
    },
    put: (scope, key, row) =>
      env.transaction(() => {
        const k = keyOf(scope, key);
        const old = db.get(k);
        if (old === undefined || old.s <= row.s) {
          if (old?.d) tombs.removeSync(tombKey(old.s, k));
          db.putSync(k, row);
        }
      }) as Promise<void>,
    remove: (scope, key, seq) =>
      env.transaction(() => {
        const k = keyOf(scope, key);
        const old = db.get(k);
        if (seq === null) {
          if (old !== undefined) db.removeSync(k);
          if (old?.d) tombs.removeSync(tombKey(old.s, k));
          return;
        }
        if (old !== undefined && old.s > seq) return;
        if (old?.d) tombs.removeSync(tombKey(old.s, k));
        db.putSync(k, { v: EMPTY, s: seq, d: true });
        tombs.putSync(tombKey(seq, k), true);
      }) as Promise<void>,
    sweepTombstones: (seq) =>
      env.transaction(() => {
        let n = 0;
        const end = Buffer.alloc(8);
        end.writeBigUInt64BE(BigInt(seq) + 1n);
        for (const { key } of tombs.getRange({ end })) {
          const t = Buffer.from(key as Buffer);
          const k = t.subarray(8);
          const row = db.get(k);
          if (row?.d && row.s <= seq) {
            db.removeSync(k);
            n++;
          }
          tombs.removeSync(t);
        }
        return n;
      }) as Promise<number>,
    clear: async () => {
      await db.clearAsync();
      await tombs.clearAsync();
    },
  };
}

/** Methods that return a promise: after close() they reject rather than throw. */
const ASYNC_METHODS = new Set(["put", "remove", "clear", "sweepTombstones", "transaction"]);

/**
 * `target`'s methods, refused once the store's close() began. A request still
 * running while the node shuts down must not reach the closing environment:
 * lmdb-js lets a read start while close() waits for pending writes, then its
 * read-txn reset timer throws uncaught once the environment is gone (seen in
 * the registry's store, which has the same guard).
 */
function guarded<T extends object>(target: T, life: { closed: boolean }): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== "function") {
      out[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    const refuse = () => new VergeError("ERR_INTERNAL", `the edge store is closed (${name}): the node is shutting down`);
    out[name] = ASYNC_METHODS.has(name)
      ? (...args: unknown[]) => (life.closed ? Promise.reject(refuse()) : fn.apply(target, args))
      : (...args: unknown[]) => {
          if (life.closed) throw refuse();
          return fn.apply(target, args);
        };
  }
  return out as T;
}

/**
 * @example
 * const store = openEdgeStore({ path: ".verge/edge-1" });
 * await store.table<{ seq: number }>("state").put("applied", { seq: 3 });
 */
export function openEdgeStore(options: EdgeStoreOptions): EdgeStore {
  // noSync: a commit reaches the OS (so it survives a crash of any of the
  // node's processes) without waiting for the disk; a power loss may drop the
  // last commits, never corrupt the environment, and everything here can be
  // had again: state and bundles from the registry, responses from the origin.
  // Waiting for fsync put milliseconds on every cache fill.
  const env = open({ path: options.path, maxDbs: TABLES.length + BYTES.length + 3, noSync: true });
  const life = { closed: false };
  const kv = guarded(openKv(env), life);
  const tables = new Map<string, EdgeTable<unknown>>();
  for (const name of TABLES) tables.set(name, guarded(wrap(env.openDB({ name, encoding: "msgpack" }), false, MEMOIZED.has(name) ? new DecodedMemo(MEMO_ENTRIES) : null), life));
  for (const name of BYTES) tables.set(name, guarded(wrap(env.openDB({ name, encoding: "binary" }), true, null), life));
  const transaction = guarded({ transaction: <T>(fn: () => T) => env.transaction(fn) as Promise<T> }, life).transaction;
  return {
    table: <V>(name: TableName) => tables.get(name) as EdgeTable<V>,
    bytes: (name) => tables.get(name) as EdgeTable<Uint8Array>,
    kv: () => kv,
    transaction,
    close: async () => {
      life.closed = true;
      await env.close();
    },
  };
}
