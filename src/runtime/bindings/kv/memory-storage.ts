/** In-memory {@link KvStorage}: one Map per namespace, gone with its process. */
import { decodeCursor, encodeCursor, isExpired, type KvEntry, type KvListOptions, type KvListResult, type KvStorage, type KvStorageOptions } from "./storage.ts";

function copy(e: KvEntry): KvEntry {
  return { value: e.value.slice(), ...(e.expiration !== undefined ? { expiration: e.expiration } : {}), ...(e.metadata !== undefined ? { metadata: e.metadata } : {}) };
}

/** UTF-8 byte order (Workers KV lists keys so; JS string order differs past U+FFFF). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function createMemoryKvStorage(options: KvStorageOptions = {}): KvStorage {
  const now = options.now ?? Date.now;
  const entries = new Map<string, KvEntry>();
  return {
    async get(key) {
      const e = entries.get(key);
      if (e === undefined) return null;
      if (isExpired(e, now())) {
        entries.delete(key);
        return null;
      }
      return copy(e);
    },
    async put(key, entry) {
      entries.set(key, copy(entry));
    },
    async delete(key) {
      entries.delete(key);
    },
    async list({ prefix = "", limit, cursor }: KvListOptions): Promise<KvListResult> {
      const after = decodeCursor(cursor);
      const t = now();
      const names = [...entries.keys()].filter((k) => k.startsWith(prefix) && (after === undefined || byteOrder(k, after) > 0)).sort(byteOrder);
      const keys = [];
      let more = false;
      for (const name of names) {
        const e = entries.get(name)!;
        if (isExpired(e, t)) {
          entries.delete(name);
          continue;
        }
        if (keys.length === limit) {
          more = true;
          break;
        }
        keys.push({ name, ...(e.expiration !== undefined ? { expiration: e.expiration } : {}), ...(e.metadata !== undefined ? { metadata: e.metadata } : {}) });
      }
      return more ? { keys, cursor: encodeCursor(keys[keys.length - 1]!.name) } : { keys };
    },
    async purgeExpired() {
      const t = now();
      let n = 0;
      for (const [name, e] of entries) if (isExpired(e, t) && entries.delete(name)) n++;
      return n;
    },
    async close() {
      entries.clear();
    },
  };
}
