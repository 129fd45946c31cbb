/**
 * An {@link R2Backend} in LMDB (with the KV storage, the only modules of src/ that
 * import `lmdb`). One environment per directory, shared by every bucket opened on
 * it in this process; per bucket two named databases: `r2:<bucket>` (rows, keyed
 * by "k" and the UTF-8 bytes of the object key, so LMDB's order is R2's list order) and
 * `r2c:<bucket>` (chunks, keyed by blob id and index), and `r2u:<bucket>` (multipart
 * uploads by id). LMDB is multi-process safe,
 * so the harness and `verge dev` may open the same directory.
 */
import type { Database } from "lmdb";
import { acquireEnv, releaseEnv } from "../lmdb-envs.ts";
import { resolve } from "node:path";
import type { R2Backend, R2Row, R2UploadRow } from "../../../shared/r2-store.ts";

export function createLmdbR2Backend(options: { path: string; bucket: string }): R2Backend {
  const dir = resolve(options.path);
  const env = acquireEnv(dir);
  const rows: Database<R2Row, Buffer> = env.openDB<R2Row, Buffer>({ name: `r2:${options.bucket}`, encoding: "msgpack", keyEncoding: "binary" });
  const chunks: Database<Uint8Array, Buffer> = env.openDB<Uint8Array, Buffer>({ name: `r2c:${options.bucket}`, encoding: "binary", keyEncoding: "binary" });
  // LMDB refuses an empty key and R2 allows one: every key is stored after a "k", which keeps the order.
  const uploads: Database<R2UploadRow, string> = env.openDB<R2UploadRow, string>({ name: `r2u:${options.bucket}`, encoding: "msgpack" });
  const keyOf = (k: string) => Buffer.from(`k${k}`, "utf8");
  const chunkKey = (blob: string, i: number) => Buffer.from(`${blob}:${i.toString(16).padStart(8, "0")}`, "latin1");
  let closed = false;
  return {
    getRow: async (key) => rows.get(keyOf(key)),
    swap(key, row, check) {
      const k = keyOf(key);
      return env.transaction(() => {
        const current = rows.get(k);
        if (!check(current)) return false;
        if (row === null) {
          if (current !== undefined) rows.removeSync(k);
        } else rows.putSync(k, row);
        return current;
      }) as Promise<R2Row | undefined | false>;
    },
    async *rowsFrom(start) {
      for (const { value } of rows.getRange({ start: keyOf(start) })) yield value;
    },
    async getChunk(blob, i) {
      // getBinary returns a copy (getBinaryFast would reuse its buffer).
      return chunks.getBinary(chunkKey(blob, i));
    },
    putChunk: async (blob, i, bytes) => void (await chunks.put(chunkKey(blob, i), bytes)),
    async dropBlob(blob, n) {
      if (n === 0 || closed) return;
      await env.transaction(() => {
        for (let i = 0; i < n; i++) chunks.removeSync(chunkKey(blob, i));
      });
    },
    getUpload: async (id) => uploads.get(id),
    swapUpload(id, row, check) {
      return env.transaction(() => {
        const current = uploads.get(id);
        if (!check(current)) return false;
        uploads.putSync(id, row);
        return current;
      }) as Promise<R2UploadRow | undefined | false>;
    },
    async close() {
      if (closed) return;
      closed = true;
      await releaseEnv(dir);
    },
  };
}
