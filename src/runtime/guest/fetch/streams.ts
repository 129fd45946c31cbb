/**
 * WHATWG Streams from web-streams-polyfill's ponyfill build (spec reference
 * implementation, no globals touched), plus the byte helpers the bodies use.
 */
import { ReadableStream } from "web-streams-polyfill";
import { concatBytes, isBufferSource, viewOf } from "./webidl.ts";

export {
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest,
  ReadableStreamDefaultController,
  ReadableByteStreamController,
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,
  TransformStream,
  TransformStreamDefaultController,
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
} from "web-streams-polyfill";

export type AnyStream = ReadableStream<unknown>;

export function isReadableStream(v: unknown): v is AnyStream {
  return v instanceof ReadableStream;
}

/** "Disturbed" (spec: a read or cancel happened). The ponyfill keeps it in `_disturbed`. */
export function isDisturbed(s: AnyStream): boolean {
  return (s as unknown as { _disturbed?: boolean })._disturbed === true;
}

/** A byte stream with the whole of `bytes` as its one chunk (ownership passes to the stream). */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    start(c) {
      if (bytes.byteLength > 0) c.enqueue(bytes);
      c.close();
    },
  });
}

/**
 * A body chunk as bytes. The Fetch spec accepts only Uint8Array; other views and
 * ArrayBuffer are accepted too, as Workers and the host side (core/streams-out.ts) do.
 */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (isBufferSource(chunk)) return viewOf(chunk);
  throw new TypeError("This ReadableStream did not return bytes.");
}

/** Reads a stream to its end ("fully read"); the stream must not be locked. */
export async function readAllBytes(stream: AnyStream): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let bytes: Uint8Array;
    try {
      bytes = chunkBytes(value);
    } catch (e) {
      await reader.cancel(e).catch(() => {});
      throw e;
    }
    chunks.push(bytes);
    total += bytes.byteLength;
  }
  reader.releaseLock();
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, total);
}
