/**
 * The `r2` binding kind: a Cloudflare R2 bucket. Declared as
 * `{ type: "r2", value: { bucket, persist?, maxObjectBytes? } }`: `bucket` names it,
 * `persist` is the directory of an LMDB environment (absent: in memory, for the life
 * of the process), `maxObjectBytes` caps one object (default 100 MiB). Every binding
 * of the same bucket in one process shares one store, so a function and the
 * harness's `getR2Bucket` see the same objects.
 */
import type { BindingKind } from "../index.ts";
import { describe, type Diagnostic } from "../../../shared/limits.ts";
import { createR2Handler } from "./handler.ts";
import { createMemoryR2Backend } from "./memory-backend.ts";
import { createR2Store, type R2Backend, type R2Storage } from "../../../shared/r2-store.ts";

export interface R2BindingValue {
  /** The bucket name (Miniflare: the value of `r2Buckets: { NAME: "bucket" }`, or the binding name). */
  bucket: string;
  /** Directory of the LMDB environment that persists it; absent = in memory. */
  persist?: string;
  /** Largest object one put may store, in bytes (default R2_LIMITS.defaultMaxObjectBytes). */
  maxObjectBytes?: number;
}

const stores = new Map<string, R2Storage>();

/** The store of a bucket in this process, opened on first use. */
export function openR2Storage(value: R2BindingValue): R2Storage {
  const key = `${value.persist ?? ""}\u0000${value.bucket}\u0000${value.maxObjectBytes ?? ""}`;
  let s = stores.get(key);
  if (s === undefined) {
    const backend = value.persist === undefined ? createMemoryR2Backend() : lazyLmdb(value.persist, value.bucket);
    s = createR2Store(backend, value.maxObjectBytes !== undefined ? { maxObjectBytes: value.maxObjectBytes } : {});
    stores.set(key, s);
  }
  return s;
}

/** Closes every store this process opened (in-memory objects are dropped). */
export async function closeR2Storages(): Promise<void> {
  const all = [...stores.values()];
  stores.clear();
  await Promise.all(all.map((s) => s.close()));
}

/** LMDB is loaded only by a process that persists R2 (a native module costs at start-up). */
function lazyLmdb(path: string, bucket: string): R2Backend {
  const ready = import("./lmdb-backend.ts").then((m) => m.createLmdbR2Backend({ path, bucket }));
  return {
    getRow: async (k) => (await ready).getRow(k),
    swap: async (k, row, check) => (await ready).swap(k, row, check),
    async *rowsFrom(start) {
      yield* (await ready).rowsFrom(start);
    },
    getChunk: async (b, i) => (await ready).getChunk(b, i),
    putChunk: async (b, i, bytes) => (await ready).putChunk(b, i, bytes),
    dropBlob: async (b, n) => (await ready).dropBlob(b, n),
    getUpload: async (id) => (await ready).getUpload(id),
    swapUpload: async (id, row, check) => (await ready).swapUpload(id, row, check),
    close: async () => (await ready).close(),
  };
}

export const r2Kind: BindingKind = {
  validate(name, value) {
    const out: Diagnostic[] = [];
    const v = value as Partial<R2BindingValue> | null;
    if (v === null || typeof v !== "object") return [{ path: `bindings.${name}`, message: `an R2 binding needs { bucket, persist?, maxObjectBytes? }, found ${describe(value)}` }];
    if (typeof v.bucket !== "string" || v.bucket === "" || v.bucket.length > 256) out.push({ path: `bindings.${name}.bucket`, message: `expected a bucket name (1 to 256 characters), found ${describe(v.bucket)}` });
    if (v.persist !== undefined && (typeof v.persist !== "string" || v.persist === "")) out.push({ path: `bindings.${name}.persist`, message: `expected a directory path, found ${describe(v.persist)}` });
    if (v.maxObjectBytes !== undefined && (typeof v.maxObjectBytes !== "number" || !Number.isSafeInteger(v.maxObjectBytes) || v.maxObjectBytes < 0)) {
      out.push({ path: `bindings.${name}.maxObjectBytes`, message: `expected a number of bytes (a non-negative integer), found ${describe(v.maxObjectBytes)}` });
    }
    return out;
  },
  create: (_name, value) => ({ handler: createR2Handler(openR2Storage(value as R2BindingValue)) }),
};

export { createR2Handler, R2_WIRE_METHODS } from "./handler.ts";
export { createR2Store, type R2Backend, type R2GetResult, type R2Row, type R2Storage } from "../../../shared/r2-store.ts";
