/** WebIDL BufferSource helpers for trusted guest code. */

/**
 * A Uint8Array over the bytes of an ArrayBuffer, SharedArrayBuffer or
 * ArrayBufferView, without copying. Anything else is a TypeError naming `what`.
 */
export function viewBytes(input: unknown, what: string): Uint8Array {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (typeof SharedArrayBuffer === "function" && input instanceof SharedArrayBuffer) return new Uint8Array(input);
  throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
}

/** A copy of a BufferSource's bytes, so later changes by user code cannot reach what was captured. */
export function copyBytes(input: unknown, what: string): Uint8Array {
  return viewBytes(input, what).slice();
}

/** `bytes` as a fresh ArrayBuffer of exactly its length. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer;
}
