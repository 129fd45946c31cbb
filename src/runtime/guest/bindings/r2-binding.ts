/**
 * The guest's R2 bucket object over "binding" ops, with the realm's own classes
 * (trusted code's Headers, Response, streams and Blob). A put's stream goes to the
 * host as a guest stream it pulls; a large get body comes back as a host stream.
 * In the "r2" lazy part: loaded when a function's env has an R2 binding.
 */
import { callOp, primordials } from "../core/host.ts";
import { chunk, loadedChunk } from "../core/lazy.ts";
import { registerOutgoing } from "../core/streams-out.ts";
import { TextEncoder } from "../platform/encoding.ts";
import { Headers } from "../fetch/headers.ts";
import { Response } from "../fetch/response.ts";
import { createR2Bucket, type R2Realm } from "./r2-bucket.ts";

const encoder = new TextEncoder();
const { DateCtor } = primordials;

const realm: R2Realm = {
  isHeaders: (v): v is { get(name: string): string | null } => v instanceof Headers,
  isDate: (v): v is Date => v instanceof DateCtor,
  parseDate: (s) => DateCtor.parse(s),
  isArrayBuffer: (v): v is ArrayBuffer => v instanceof ArrayBuffer,
  encode: (s) => encoder.encode(s),
  newDate: (ms) => new DateCtor(ms),
  // No stream or Blob exists before its part is loaded.
  isReadableStream: (v) => loadedChunk("streams")?.isReadableStream(v) ?? false,
  isBlob: (v) => {
    const form = loadedChunk("form");
    return form !== undefined && v instanceof form.Blob;
  },
  blobBytes: async (b) => chunk("form").blobBytes(b as Parameters<ReturnType<typeof chunk<"form">>["blobBytes"]>[0]).slice(),
  outgoing: async (stream) => ({ stream: registerOutgoing(stream as Parameters<typeof registerOutgoing>[0]) }),
  bodyResponse(body, contentType) {
    const source = body instanceof Uint8Array ? body : chunk("streams").hostStream(body.stream);
    let headers: Headers | undefined;
    if (contentType !== undefined) {
      try {
        headers = new Headers([["content-type", contentType]]);
      } catch {
        // A type no header can carry: the blob has no type.
      }
    }
    return new Response(source as ConstructorParameters<typeof Response>[0], headers === undefined ? {} : { headers });
  },
};

/** `env.NAME` for an R2 binding named `name`. */
export function r2Binding(name: string): unknown {
  return createR2Bucket((method, args) => callOp("binding", { binding: name, method, args }), realm);
}
