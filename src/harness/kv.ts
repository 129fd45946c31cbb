/**
 * The harness's host-side KV namespace (`verge.getKVNamespace("NS")`, Miniflare 4's
 * `getKVNamespace`): the same namespace code the isolate runs, with Node's own
 * classes, calling the child process's KV handler over the child channel. The
 * child opens the storage (an LMDB directory: `kvPersist`'s, or the instance's
 * scratch directory, scratch.ts), so the parent never loads lmdb, and a test
 * that seeds a key sees exactly what the function will see.
 */
import { concatBytes } from "../shared/http.ts";
import { createKvNamespace, type KvRealm } from "../runtime/guest/bindings/kv-namespace.ts";

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
    return concatBytes(chunks, total);
  },
  newMap: () => new Map(),
};

/** A host-side namespace whose calls go to `call(method, args)` (the child's KV handler). */
export function createHostKvNamespace(call: (method: string, args: unknown[]) => Promise<unknown>): KVNamespace {
  return createKvNamespace(call, nodeRealm) as KVNamespace;
}
