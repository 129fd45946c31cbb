/**
 * The `kv` binding kind: a Workers KV namespace. Declared as
 * `{ type: "kv", value: { id, persist? } }`: `id` names the namespace, `persist`
 * is the directory of an LMDB environment (absent: in memory, for the life of
 * the process). Every binding of the same namespace in one process shares one
 * storage, so a function and the harness's `getKVNamespace` see the same data.
 */
import type { BindingKind } from "../index.ts";
import { describe, type Diagnostic } from "../../../shared/limits.ts";
import { createKvHandler } from "./handler.ts";
import { createMemoryKvStorage } from "./memory-storage.ts";
import type { KvStorage } from "./storage.ts";

export interface KvBindingValue {
  /** The namespace id (Miniflare: the value of `kvNamespaces: { NAME: "id" }`, or the binding name). */
  id: string;
  /** Directory of the LMDB environment that persists it; absent = in memory. */
  persist?: string;
}

const storages = new Map<string, KvStorage>();

/** The storage of a namespace in this process, opened on first use. */
export function openKvStorage(value: KvBindingValue): KvStorage {
  const key = `${value.persist ?? ""}\u0000${value.id}`;
  let s = storages.get(key);
  if (s === undefined) {
    s = value.persist === undefined ? createMemoryKvStorage() : lazyLmdb(value.persist, value.id);
    storages.set(key, s);
  }
  return s;
}

/** Closes every storage this process opened (in-memory data is dropped). */
export async function closeKvStorages(): Promise<void> {
  const all = [...storages.values()];
  storages.clear();
  await Promise.all(all.map((s) => s.close()));
}

/** LMDB is loaded only by a process that persists KV (a native module costs at start-up). */
function lazyLmdb(path: string, namespace: string): KvStorage {
  const ready = import("./lmdb-storage.ts").then((m) => m.createLmdbKvStorage({ path, namespace }));
  return {
    get: async (key) => (await ready).get(key),
    put: async (key, entry) => (await ready).put(key, entry),
    delete: async (key) => (await ready).delete(key),
    list: async (options) => (await ready).list(options),
    purgeExpired: async () => (await ready).purgeExpired!(),
    close: async () => (await ready).close(),
  };
}

export const kvKind: BindingKind = {
  validate(name, value) {
    const out: Diagnostic[] = [];
    const v = value as Partial<KvBindingValue> | null;
    if (v === null || typeof v !== "object") return [{ path: `bindings.${name}`, message: `a KV binding needs { id, persist? }, found ${describe(value)}` }];
    if (typeof v.id !== "string" || v.id === "" || v.id.length > 256) out.push({ path: `bindings.${name}.id`, message: `expected a namespace id (1 to 256 characters), found ${describe(v.id)}` });
    if (v.persist !== undefined && (typeof v.persist !== "string" || v.persist === "")) out.push({ path: `bindings.${name}.persist`, message: `expected a directory path, found ${describe(v.persist)}` });
    return out;
  },
  create: (_name, value) => ({ handler: createKvHandler(openKvStorage(value as KvBindingValue)) }),
};

export { createKvHandler } from "./handler.ts";
export { createMemoryKvStorage } from "./memory-storage.ts";
export type { KvEntry, KvKey, KvListOptions, KvListResult, KvStorage, KvStorageOptions } from "./storage.ts";
