/**
 * The harness's host-side KV namespace (`verge.getKVNamespace("NS")`, Miniflare 4's
 * `getKVNamespace`): the same namespace code the isolate runs, with Node's own
 * classes, calling the child process's KV handler over the child channel. The
 * storage lives where the runtime runs (the child), so one path serves both
 * in-memory and LMDB namespaces and the parent never loads lmdb; a test that
 * seeds a key sees exactly what the function will see.
 */
import { createKvNamespace, type KvRealm } from "../runtime/guest/bindings/kv-namespace.ts";
import type { BindingDecl } from "../runtime/index.ts";

/** The Workers KV API on the host (types as @cloudflare/workers-types `KVNamespace`, loosely). */
export interface KVNamespace {
  get(key: string, options?: "text" | { type?: "text"; cacheTtl?: number }): Promise<string | null>;
  get(key: string, options: "json" | { type: "json"; cacheTtl?: number }): Promise<unknown>;
  get(key: string, options: "arrayBuffer" | { type: "arrayBuffer"; cacheTtl?: number }): Promise<ArrayBuffer | null>;
  get(key: string, options: "stream" | { type: "stream"; cacheTtl?: number }): Promise<ReadableStream<Uint8Array> | null>;
  get(keys: string[], options?: "text" | "json" | { type?: "text" | "json"; cacheTtl?: number }): Promise<Map<string, unknown>>;
  getWithMetadata<M = unknown>(key: string, options?: string | { type?: string; cacheTtl?: number }): Promise<{ value: unknown; metadata: M | null; cacheStatus: null }>;
  getWithMetadata(keys: string[], options?: string | { type?: string; cacheTtl?: number }): Promise<Map<string, { value: unknown; metadata: unknown } | null>>;
  put(key: string, value: string | ArrayBuffer | ArrayBufferView | ReadableStream, options?: { expiration?: number; expirationTtl?: number; metadata?: unknown }): Promise<void>;
  delete(key: string): Promise<void>;
  list<M = unknown>(options?: { prefix?: string; limit?: number; cursor?: string }): Promise<{
    keys: Array<{ name: string; expiration?: number; metadata?: M }>;
    list_complete: boolean;
    cursor?: string;
    cacheStatus: null;
  }>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const nodeRealm: KvRealm = {
  encode: (s) => encoder.encode(s),
  decode: (b) => decoder.decode(b),
  parseJson: (s) => JSON.parse(s),
  stringifyJson: (v) => JSON.stringify(v),
  isReadableStream: (v) => v instanceof ReadableStream,
  bytesStream: (b) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        if (b.byteLength > 0) c.enqueue(b);
        c.close();
      },
    }),
  async readStream(stream, max) {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of stream as AsyncIterable<unknown>) {
      const bytes = chunk instanceof Uint8Array ? chunk : ArrayBuffer.isView(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : null;
      if (bytes === null) throw new TypeError("This ReadableStream did not return bytes.");
      total += bytes.byteLength;
      if (total <= max) chunks.push(bytes.slice());
      else chunks.length = 0;
    }
    if (total > max) return total;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  },
  newMap: () => new Map(),
};

/** A host-side namespace whose calls go to `call(method, args)` (the child's KV handler). */
export function createHostKvNamespace(call: (method: string, args: unknown[]) => Promise<unknown>): KVNamespace {
  return createKvNamespace(call, nodeRealm) as KVNamespace;
}

type BindingCall = (name: string, decl: BindingDecl, method: string, args: unknown[]) => Promise<unknown>;

/**
 * Copies every in-memory KV namespace that both declarations bind (the same
 * namespace id, not persisted) from one child process to another, keys with
 * their metadata and expiration: a new child (another outbound policy) keeps
 * what a test stored, as Miniflare keeps KV across `setOptions`. Namespaces on
 * disk (`kvPersist`) are shared by both already.
 */
export async function carryMemoryKv(from: BindingCall, fromDecls: Record<string, BindingDecl>, to: BindingCall, toDecls: Record<string, BindingDecl>): Promise<void> {
  const inMemory = (decls: Record<string, BindingDecl>) =>
    new Map(
      Object.entries(decls)
        .filter(([, d]) => d.type === "kv" && !(d.value as { persist?: unknown }).persist)
        .map(([name, d]) => [(d.value as { id: string }).id, { name, decl: d }]),
    );
  const sources = inMemory(fromDecls);
  for (const [id, target] of inMemory(toDecls)) {
    const source = sources.get(id);
    if (source === undefined) continue;
    const src = createHostKvNamespace((method, args) => from(source.name, source.decl, method, args));
    const dst = createHostKvNamespace((method, args) => to(target.name, target.decl, method, args));
    let cursor: string | undefined;
    do {
      const page = await src.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
      for (const key of page.keys) {
        const { value, metadata } = await src.getWithMetadata(key.name, "arrayBuffer");
        if (value === null) continue;
        await dst.put(key.name, value as ArrayBuffer, { ...(key.expiration !== undefined ? { expiration: key.expiration } : {}), ...(metadata !== null ? { metadata } : {}) });
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
  }
}
