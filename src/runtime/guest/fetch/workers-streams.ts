/**
 * Workers extras: IdentityTransformStream (bytes in, the same bytes out) and
 * FixedLengthStream (the same, checking the total length).
 * https://developers.cloudflare.com/workers/runtime-apis/streams/transformstream/
 */
import { TransformStream } from "./streams.ts";
import { isBufferSource, tag, viewOf } from "./webidl.ts";

function bytesOf(chunk: unknown, who: string): Uint8Array {
  if (!isBufferSource(chunk)) throw new TypeError(`${who}: this TransformStream is being used as a byte stream, but received a value that is not an ArrayBuffer or ArrayBufferView`);
  return viewOf(chunk);
}

export class IdentityTransformStream extends TransformStream<ArrayBuffer | ArrayBufferView, Uint8Array> {
  constructor() {
    super({
      transform(chunk, c) {
        const bytes = bytesOf(chunk, "IdentityTransformStream");
        if (bytes.byteLength > 0) c.enqueue(bytes);
      },
    });
  }
}
tag(IdentityTransformStream, "IdentityTransformStream");

export class FixedLengthStream extends TransformStream<ArrayBuffer | ArrayBufferView, Uint8Array> {
  constructor(expectedLength: number | bigint) {
    const n = typeof expectedLength === "bigint" ? Number(expectedLength) : expectedLength;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw new TypeError("FixedLengthStream requires a non-negative integer expected length.");
    }
    let seen = 0;
    super({
      transform(chunk, c) {
        const bytes = bytesOf(chunk, "FixedLengthStream");
        seen += bytes.byteLength;
        if (seen > n) throw new TypeError("Attempt to write too many bytes through a FixedLengthStream.");
        if (bytes.byteLength > 0) c.enqueue(bytes);
      },
      flush() {
        if (seen < n) throw new TypeError("FixedLengthStream did not see all expected bytes before close().");
      },
    });
  }
}
tag(FixedLengthStream, "FixedLengthStream");
