/**
 * R2 buckets at the registry: the object store of src/shared/r2-store.ts over
 * the registry's Store (tables `r2`, `r2-buckets`, `r2-chunks`; store/README.md).
 * Unlike KV, R2 is not replicated to the nodes: every operation of an edge
 * node's binding is a call to the registry (routes/r2.ts), as Cloudflare keeps
 * a bucket in one place. Nothing of it goes through the feed.
 */
import { createR2Store, type R2Backend, type R2Row, type R2Storage, type R2UploadRow } from "../src/shared/r2-store.ts";
import type { Store } from "./store/store.ts";

/** One bucket of a tenant, as `GET /v1/tenants/:t/r2` lists it. */
export interface R2BucketInfo {
  name: string;
  createdAt: string;
}

const hex = (key: string): string => Buffer.from(key, "utf8").toString("hex");
const PAGE = 256;

function backendOf(store: Store, tenant: string, bucket: string, now: () => number): R2Backend {
  const prefix = `${tenant}/${bucket}/`;
  const chunkKey = (blob: string, i: number) => `${blob}:${i}`;
  return {
    getRow: async (key) => store.read((tx) => tx.get<R2Row>("r2", prefix + hex(key))),
    swap: (key, row, check) =>
      store.write((tx) => {
        const k = prefix + hex(key);
        const current = tx.get<R2Row>("r2", k);
        if (!check(current)) return false;
        if (row === null) {
          if (current !== undefined) tx.delete("r2", k);
        } else {
          // A bucket exists from its first put.
          if (tx.get("r2-buckets", `${tenant}/${bucket}`) === undefined) tx.put("r2-buckets", `${tenant}/${bucket}`, { name: bucket, createdAt: new Date(now()).toISOString() } satisfies R2BucketInfo);
          tx.put("r2", k, row);
        }
        return current;
      }),
    async *rowsFrom(start) {
      // Pages of rows, each from its own snapshot: a list is as consistent as R2's (per page).
      let from = prefix + hex(start);
      let first = true;
      for (;;) {
        const page = store.read((tx) => tx.range<R2Row>("r2", { prefix, from, limit: PAGE + 1 }));
        const rows = page.filter((e, i) => first || i > 0 || e.key !== from);
        for (const { value } of rows.slice(0, PAGE)) yield value;
        if (page.length <= PAGE) return;
        from = String(page[page.length - 1]!.key);
        first = false;
      }
    },
    getChunk: async (blob, i) => {
      const v = store.read((tx) => tx.get<Uint8Array>("r2-chunks", chunkKey(blob, i)));
      // Copied: a decoded value may share memory with the decoder's buffers.
      return v === undefined ? undefined : Uint8Array.from(v);
    },
    putChunk: (blob, i, bytes) => store.write((tx) => tx.put("r2-chunks", chunkKey(blob, i), bytes)),
    dropBlob: (blob, n) =>
      store.write((tx) => {
        for (let i = 0; i < n; i++) tx.delete("r2-chunks", chunkKey(blob, i));
      }),
    getUpload: async (id) => store.read((tx) => tx.get<R2UploadRow>("r2-uploads", `${prefix}${id}`)),
    swapUpload: (id, row, check) =>
      store.write((tx) => {
        const current = tx.get<R2UploadRow>("r2-uploads", `${prefix}${id}`);
        if (!check(current)) return false;
        tx.put("r2-uploads", `${prefix}${id}`, row);
        return current;
      }),
    close: async () => {},
  };
}

/** The object stores of the registry's buckets, one per bucket, opened on first use. */
export function createRegistryR2(store: Store, options: { maxObjectBytes?: number; now?: () => number } = {}): { bucket(tenant: string, bucket: string): R2Storage } {
  const now = options.now ?? Date.now;
  const open = new Map<string, R2Storage>();
  return {
    bucket(tenant, bucket) {
      const key = `${tenant}/${bucket}`;
      let s = open.get(key);
      if (s === undefined) {
        s = createR2Store(backendOf(store, tenant, bucket, now), { now, ...(options.maxObjectBytes !== undefined ? { maxObjectBytes: options.maxObjectBytes } : {}) });
        open.set(key, s);
      }
      return s;
    },
  };
}
