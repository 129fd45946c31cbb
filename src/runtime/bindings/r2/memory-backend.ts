/** An {@link R2Backend} in memory, for the life of the process (a binding declared without `persist`). */
import type { R2Backend, R2Row, R2UploadRow } from "../../../shared/r2-store.ts";

export function createMemoryR2Backend(): R2Backend {
  const rows = new Map<string, R2Row>();
  const chunks = new Map<string, Uint8Array>();
  const uploads = new Map<string, R2UploadRow>();
  const id = (blob: string, i: number) => `${blob}:${i}`;
  const sortedKeys = () => [...rows.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
  return {
    getRow: async (key) => rows.get(key),
    async swap(key, row, check) {
      const current = rows.get(key);
      if (!check(current)) return false;
      if (row === null) rows.delete(key);
      else rows.set(key, row);
      return current;
    },
    async *rowsFrom(start) {
      const from = Buffer.from(start, "utf8");
      for (const k of sortedKeys()) {
        if (Buffer.compare(Buffer.from(k, "utf8"), from) < 0) continue;
        const row = rows.get(k);
        if (row !== undefined) yield row;
      }
    },
    getChunk: async (blob, i) => chunks.get(id(blob, i)),
    putChunk: async (blob, i, bytes) => void chunks.set(id(blob, i), bytes),
    async dropBlob(blob, n) {
      for (let i = 0; i < n; i++) chunks.delete(id(blob, i));
    },
    getUpload: async (id) => uploads.get(id),
    async swapUpload(id, row, check) {
      const current = uploads.get(id);
      if (!check(current)) return false;
      uploads.set(id, row);
      return current;
    },
    async close() {
      uploads.clear();
      rows.clear();
      chunks.clear();
    },
  };
}
