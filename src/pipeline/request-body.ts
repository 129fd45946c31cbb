/**
 * The viewer's request body on its way to the origin. It streams, except for
 * the bytes an "include body" association must show a function: those are read
 * ahead (up to the exposed-body limit plus one byte, to know whether the body
 * was cut) and sent on first, followed by the rest of the stream. A function
 * that replaces the body drops what is left of the viewer's.
 */
import type { BodyData } from "../shared/http.ts";
import { concatBytes } from "../shared/http.ts";

export interface RequestBody {
  /** Bytes read ahead. */
  head: Uint8Array;
  /** What has not been read yet; null once the body ended (or had none). */
  rest: AsyncIterator<Uint8Array> | null;
  /** No body at all (a GET without one): sent as no body rather than an empty one. */
  absent: boolean;
}

const EMPTY = new Uint8Array(0);

export function bodyFrom(stream: ReadableStream<Uint8Array> | null): RequestBody {
  if (stream === null) return { head: EMPTY, rest: null, absent: true };
  return { head: EMPTY, rest: (stream as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator](), absent: false };
}

export function replacedBody(bytes: Uint8Array, old: RequestBody): RequestBody {
  void old.rest?.return?.().catch(() => {});
  return { head: bytes, rest: null, absent: false };
}

/**
 * Reads ahead until `head` holds more than `limit` bytes or the body ended, and
 * returns what a function is shown: at most `limit + 1` bytes (the event
 * builder cuts at `limit` and sets `inputTruncated` when there are more).
 */
export async function peekBody(body: RequestBody, limit: number): Promise<Uint8Array | null> {
  if (body.absent) return null;
  const chunks: Uint8Array[] = [body.head];
  let size = body.head.byteLength;
  while (size <= limit && body.rest !== null) {
    const r = await body.rest.next();
    if (r.done === true) body.rest = null;
    else {
      chunks.push(r.value);
      size += r.value.byteLength;
    }
  }
  if (chunks.length > 1) body.head = concatBytes(chunks, size);
  return body.head.byteLength > limit + 1 ? body.head.subarray(0, limit + 1) : body.head;
}

/** The body to send on: the bytes read ahead, then the rest as it arrives. */
export function bodyData(body: RequestBody): BodyData {
  if (body.absent) return null;
  if (body.rest === null) return body.head;
  const { head, rest } = body;
  // A stream is taken once: it goes to one place (the origin or a function).
  body.rest = null;
  body.head = EMPTY;
  return (async function* () {
    if (head.byteLength > 0) yield head;
    try {
      while (true) {
        const r = await rest.next();
        if (r.done === true) return;
        yield r.value;
      }
    } finally {
      await rest.return?.();
    }
  })();
}

/** Bytes known in advance (read ahead, nothing left), else null. */
export function knownLength(body: RequestBody): number | null {
  if (body.absent) return 0;
  return body.rest === null ? body.head.byteLength : null;
}

