/**
 * Framed messages between the parent and the child-process host over a pipe
 * (the child's fd 3), instead of Node's IPC channel. Node's "advanced" IPC
 * serialization cost ~160 µs of CPU per harness call across both processes
 * (bench/results/2026-11-22-profile.md); a JSON frame with byte attachments
 * costs a fraction of that and still moves bodies as raw bytes.
 *
 * Frame: u32 JSON length, u32 attachment count, one u32 length per attachment,
 * the JSON text, then the attachments' bytes. In the JSON a Uint8Array is
 * replaced by `{ "\u0000": index }`.
 */
import type { Duplex } from "node:stream";

const MARK = "\u0000";

export interface Channel<In, Out> {
  send(message: Out): void;
  /** Bytes written and not yet taken by the other side's pipe (a flood's measure). */
  pending(): number;
  ref(): void;
  unref(): void;
  close(): void;
}

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const attachments: Uint8Array[] = [];
  // A walk plus a plain stringify: a replacer function (or a reviver below) takes JSON off V8's fast path.
  const json = JSON.stringify(extract(message, attachments));
  const jsonBytes = Buffer.byteLength(json);
  let size = 8 + 4 * attachments.length + jsonBytes;
  for (const a of attachments) size += a.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(jsonBytes, 0);
  out.writeUInt32LE(attachments.length, 4);
  let at = 8;
  for (const a of attachments) {
    out.writeUInt32LE(a.byteLength, at);
    at += 4;
  }
  at += out.write(json, at, "utf8");
  for (const a of attachments) {
    out.set(a, at);
    at += a.byteLength;
  }
  return out;
}

/** Splits a byte stream into messages; keeps partial frames until the rest arrives (one copy per frame). */
export function createFrameDecoder(onMessage: (message: unknown) => void): (chunk: Buffer) => void {
  let chunks: Buffer[] = [];
  let total = 0;
  /** Bytes the frame at the head needs, once its header has arrived. */
  let need = 8;
  return (chunk) => {
    chunks.push(chunk);
    total += chunk.length;
    while (total >= need) {
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      chunks = [buf];
      const size = frameSize(buf);
      if (size === -1 || buf.length < size) {
        need = size === -1 ? 8 + 4 * buf.readUInt32LE(4) : size;
        return;
      }
      onMessage(decodeFrame(buf));
      const rest = buf.subarray(size);
      chunks = rest.length > 0 ? [rest] : [];
      total = rest.length;
      need = 8;
    }
  };
}

/** The whole frame's size, or -1 when its attachment lengths have not all arrived. */
function frameSize(buf: Buffer): number {
  const count = buf.readUInt32LE(4);
  const head = 8 + 4 * count;
  if (buf.length < head) return -1;
  let size = head + buf.readUInt32LE(0);
  for (let i = 0; i < count; i++) size += buf.readUInt32LE(8 + 4 * i);
  return size;
}

function decodeFrame(buf: Buffer): unknown {
  const jsonBytes = buf.readUInt32LE(0);
  const count = buf.readUInt32LE(4);
  const head = 8 + 4 * count;
  const json = buf.toString("utf8", head, head + jsonBytes);
  if (count === 0) return JSON.parse(json);
  const parts: Uint8Array[] = [];
  let at = head + jsonBytes;
  for (let i = 0; i < count; i++) {
    const n = buf.readUInt32LE(8 + 4 * i);
    // A copy in its own ArrayBuffer: the frame's bytes are reused, and a Buffer is not what callers expect.
    parts.push(new Uint8Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + n)));
    at += n;
  }
  return restore(JSON.parse(json), parts);
}

/** `value` with each Uint8Array replaced by a marker; objects without one are returned as they are. */
function extract(value: unknown, out: Uint8Array[]): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Uint8Array) return { [MARK]: out.push(value) - 1 };
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v = extract(value[i], out);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | null = null;
  for (const key in value) {
    const original = (value as Record<string, unknown>)[key];
    const v = extract(original, out);
    if (v !== original) (copy ??= { ...(value as Record<string, unknown>) })[key] = v;
  }
  return copy ?? value;
}

/** Puts the attachments back where their markers are, in place. */
function restore(value: unknown, parts: Uint8Array[]): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = restore(value[i], parts);
    return value;
  }
  const index = (value as Record<string, unknown>)[MARK];
  if (typeof index === "number") return parts[index];
  for (const key in value) (value as Record<string, unknown>)[key] = restore((value as Record<string, unknown>)[key], parts);
  return value;
}

/**
 * A channel over a duplex stream (a socket from `stdio: [..., "pipe"]` in the
 * parent, `new Socket({ fd: 3 })` in the child).
 */
export function createChannel<In, Out>(socket: Duplex & { ref?(): unknown; unref?(): unknown }, onMessage: (message: In) => void): Channel<In, Out> {
  socket.on("data", createFrameDecoder((m) => onMessage(m as In)));
  // A write error means the other side is gone; 'close' reports that.
  socket.on("error", () => {});
  return {
    send(message) {
      if (!socket.destroyed) socket.write(encodeFrame(message));
    },
    pending: () => socket.writableLength,
    ref: () => void socket.ref?.(),
    unref: () => void socket.unref?.(),
    close: () => void socket.end(),
  };
}

/** Where the answer to one read of a pulled body lands. */
export interface ChunkWaiter {
  resolve(chunk: Uint8Array | null): void;
  reject(err: unknown): void;
}

/**
 * A body the other side sends one chunk per read (a response body crossing the channel):
 * `slot()` is the call's state, where the next chunk's waiter is put (undefined once the call
 * is gone: the body ends); `read()` asks for the next chunk; `stop(finished)` runs when the
 * reader is done, `finished` false when it gave up before the end (the other side is to be told).
 */
export function pulledBody(slot: () => { chunk?: ChunkWaiter | undefined } | undefined, read: () => void, stop: (finished: boolean) => void): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      let finished = false;
      try {
        for (;;) {
          const s = slot();
          if (s === undefined) return;
          const chunk = await new Promise<Uint8Array | null>((resolve, reject) => {
            s.chunk = { resolve, reject };
            read();
          });
          if (chunk === null) {
            finished = true;
            return;
          }
          yield chunk;
        }
      } finally {
        stop(finished);
      }
    },
  };
}
