/**
 * Guest halves of binding kinds: the object `env.NAME` is, built from the
 * host's `BindingSpec`. A kind without an entry gets one async function per
 * method (each a "binding" op); KV gets the Workers KV namespace API.
 */
import type { BindingSpec } from "../../bridge/protocol.ts";
import { callOp, primordials } from "../core/host.ts";
import { TextDecoder, TextEncoder } from "../platform/encoding.ts";
import { bytesStream, chunkBytes, isReadableStream, type AnyStream } from "../fetch/streams.ts";
import { concatBytes } from "../fetch/webidl.ts";
import { createKvNamespace, type KvRealm } from "./kv-namespace.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const realm: KvRealm = {
  encode: (s) => encoder.encode(s),
  decode: (b) => decoder.decode(b),
  parseJson: (s) => primordials.JSONParse(s),
  stringifyJson: (v) => primordials.JSONStringify(v),
  isReadableStream,
  bytesStream: (b) => bytesStream(b),
  async readStream(stream, max) {
    const reader = (stream as AnyStream).getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const bytes = chunkBytes(value);
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

function opsObject(spec: BindingSpec): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const method of spec.methods) {
    obj[method] = (...args: unknown[]) => callOp("binding", { binding: spec.name, method, args });
  }
  return obj;
}

export function bindingObject(spec: BindingSpec): unknown {
  if (spec.kind === "kv") return createKvNamespace((method, args) => callOp("binding", { binding: spec.name, method, args }), realm);
  return opsObject(spec);
}
