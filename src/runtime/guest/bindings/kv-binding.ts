/**
 * The guest's Workers KV namespace object over "binding" ops, with the realm's
 * own classes (captured by trusted code, not read from user-replaceable globals).
 * In the "kv" lazy part: loaded when a function's env has a KV binding.
 */
import { callOp, primordials } from "../core/host.ts";
import { chunk, loadedChunk } from "../core/lazy.ts";
import { TextDecoder, TextEncoder } from "../platform/encoding.ts";
import { concatBytes } from "../fetch/webidl.ts";
import type { AnyStream } from "../fetch/streams.ts";
import { createKvNamespace, type KvRealm } from "./kv-namespace.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const realm: KvRealm = {
  encode: (s) => encoder.encode(s),
  decode: (b) => decoder.decode(b),
  parseJson: (s) => primordials.JSONParse(s),
  stringifyJson: (v) => primordials.JSONStringify(v),
  // No stream exists before the "streams" part is loaded.
  isReadableStream: (v): v is AnyStream => loadedChunk("streams")?.isReadableStream(v) ?? false,
  bytesStream: (b) => chunk("streams").bytesStream(b),
  async readStream(stream, max) {
    const reader = (stream as AnyStream).getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const bytes = chunk("streams").chunkBytes(value);
      total += bytes.byteLength;
      // Past the limit keep counting (the error names the length) but hold nothing.
      if (total <= max) chunks.push(bytes.slice());
      else chunks.length = 0;
    }
    reader.releaseLock();
    return total > max ? total : concatBytes(chunks, total);
  },
  newMap: () => new primordials.MapCtor(),
};

/** `env.NAME` for a KV binding named `name`. */
export function kvBinding(name: string): unknown {
  return createKvNamespace((method, args) => callOp("binding", { binding: name, method, args }), realm);
}
