/**
 * {@link KvStorage} in LMDB: the only module of src/ that imports `lmdb`
 * (CONVENTIONS.md: one lmdb-owning store module per server). One environment
 * per directory, shared by every namespace opened on it in this process, one
 * named database per namespace id. LMDB is multi-process safe, so two harness
 * instances (or a dev server and a test) may open the same directory.
 *
 * Each put is one LMDB write transaction: a crash leaves the previous entry or
 * the new one, never half a value. Keys are the UTF-8 bytes of the name, so
 * LMDB's order is the byte order Workers KV lists in.
 */
import type { Database } from "lmdb";
import { acquireEnv, releaseEnv } from "../lmdb-envs.ts";
import { resolve } from "node:path";
import { PURGE_INTERVAL_MS, decodeCursor, encodeCursor, isExpired, type KvEntry, type KvListOptions, type KvListResult, type KvStorage, type KvStorageOptions } from "./storage.ts";

/** What a record holds: value bytes, expiration (s), metadata JSON. */
interface Row {
  v: Uint8Array;
  e?: number;
  m?: string;
}

function toEntry(row: Row): KvEntry {
  // Copied: a decoded Buffer may share memory with the decoder's buffers.
  return { value: Uint8Array.from(row.v), ...(row.e !== undefined ? { expiration: row.e } : {}), ...(row.m !== undefined ? { metadata: row.m } : {}) };
}

export interface LmdbKvStorageOptions extends KvStorageOptions {
  /** Directory of the LMDB environment; created if missing. */
  path: string;
  /** The namespace id: the named database within the environment. */
  namespace: string;
}

export function createLmdbKvStorage(options: LmdbKvStorageOptions): KvStorage {
  const now = options.now ?? Date.now;
  const dir = resolve(options.path);
  const env = acquireEnv(dir);
  const db: Database<Row, Buffer> = env.openDB<Row, Buffer>({ name: `kv:${options.namespace}`, encoding: "msgpack", keyEncoding: "binary" });
  let closed = false;
  const keyOf = (name: string) => Buffer.from(name, "utf8");
  /**
   * Removes the given keys that are still expired when the write transaction
   * runs: another process (or this one) may have put a new value meanwhile.
   */
  const removeExpired = (keys: Buffer[]): Promise<number> => {
    if (keys.length === 0 || closed) return Promise.resolve(0);
    return env.transaction(() => {
      const t = now();
      let n = 0;
      for (const k of keys) {
        const row = db.get(k);
        if (row !== undefined && isExpired({ expiration: row.e }, t)) {
          db.removeSync(k);
          n++;
        }
      }
      return n;
    }) as Promise<number>;
  };
  const quietly = (p: Promise<unknown>) => void p.catch(() => {});
  const purgeExpired = (): Promise<number> => {
    const t = now();
    const keys: Buffer[] = [];
    for (const { key, value } of db.getRange({})) if (isExpired({ expiration: value.e }, t)) keys.push(Buffer.from(key as Buffer));
    return removeExpired(keys);
  };
  const sweeper = setInterval(() => quietly(purgeExpired()), PURGE_INTERVAL_MS);
  sweeper.unref();
  quietly(Promise.resolve().then(purgeExpired));
  return {
    async get(key) {
      const k = keyOf(key);
      const row = db.get(k);
      if (row === undefined) return null;
      if (isExpired({ expiration: row.e }, now())) {
        quietly(removeExpired([k]));
        return null;
      }
      return toEntry(row);
    },
    async put(key, entry) {
      const row: Row = { v: entry.value };
      if (entry.expiration !== undefined) row.e = entry.expiration;
      if (entry.metadata !== undefined) row.m = entry.metadata;
      await db.put(keyOf(key), row);
    },
    async delete(key) {
      await db.remove(keyOf(key));
    },
    async list({ prefix = "", limit, cursor }: KvListOptions): Promise<KvListResult> {
      const after = decodeCursor(cursor);
      const pre = keyOf(prefix);
      const from = after === undefined ? pre : keyOf(after);
      const start = Buffer.compare(from, pre) > 0 ? from : pre;
      const t = now();
      const keys = [];
      const expired: Buffer[] = [];
      let more = false;
      for (const { key, value } of db.getRange({ start })) {
        const k = key as Buffer;
        if (k.subarray(0, pre.length).compare(pre) !== 0) break;
        const name = k.toString("utf8");
        if (after !== undefined && name === after) continue;
        if (isExpired({ expiration: value.e }, t)) {
          expired.push(Buffer.from(k));
          continue;
        }
        if (keys.length === limit) {
          more = true;
          break;
        }
        keys.push({ name, ...(value.e !== undefined ? { expiration: value.e } : {}), ...(value.m !== undefined ? { metadata: value.m } : {}) });
      }
      quietly(removeExpired(expired));
      return more ? { keys, cursor: encodeCursor(keys[keys.length - 1]!.name) } : { keys };
    },
    purgeExpired,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      await releaseEnv(dir);
    },
  };
}
