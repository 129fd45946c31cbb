/**
 * Blob and File (https://w3c.github.io/FileAPI/), held in memory as one
 * immutable byte array; slices share it.
 */
import { chunk } from "../core/lazy.ts";
import type { ReadableStream } from "./streams.ts";
import { concatBytes, copyOf, isBufferSource, isObject, tag, toUSVString, utf8Decode, utf8Encode } from "./webidl.ts";

export type BlobPart = string | ArrayBuffer | ArrayBufferView | Blob;
export interface BlobPropertyBag {
  type?: string;
  endings?: "transparent" | "native";
}
export interface FilePropertyBag extends BlobPropertyBag {
  lastModified?: number;
}

/** The Blob's bytes (shared, never to be written). */
export let blobBytes: (b: Blob) => Uint8Array;
/** Builds a Blob around bytes the caller gives up. */
export let blobFrom: (bytes: Uint8Array, type: string) => Blob;
let setBlobBytes: (b: Blob, bytes: Uint8Array) => void;

// A type is kept only if it is printable ASCII, then lowercased (File API "type").
function normalizeType(t: unknown): string {
  const s = t === undefined ? "" : String(t);
  return /^[\x20-\x7e]*$/.test(s) ? s.toLowerCase() : "";
}

function partsToBytes(parts: unknown, endings: unknown): Uint8Array {
  if (parts === undefined) return new Uint8Array(0);
  if (!isObject(parts) || typeof (parts as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new TypeError("Blob constructor: blobParts must be a sequence");
  }
  const native = endings === "native";
  if (endings !== undefined && endings !== "transparent" && !native) {
    throw new TypeError(`Blob constructor: endings must be "transparent" or "native", found ${String(endings)}`);
  }
  const chunks: Uint8Array[] = [];
  for (const part of parts as Iterable<unknown>) {
    if (part instanceof Blob) chunks.push(blobBytes(part));
    else if (isBufferSource(part)) chunks.push(copyOf(part));
    else {
      let s = toUSVString(part);
      if (native) s = s.replace(/\r\n?/g, "\n");
      chunks.push(utf8Encode(s));
    }
  }
  return chunks.length === 1 ? chunks[0]!.slice() : concatBytes(chunks);
}

export class Blob {
  #bytes: Uint8Array;
  #type: string;

  constructor(blobParts?: Iterable<BlobPart>, options?: BlobPropertyBag) {
    if (options !== undefined && options !== null && !isObject(options)) throw new TypeError("Blob constructor: options must be an object");
    this.#bytes = partsToBytes(blobParts, options?.endings);
    this.#type = normalizeType(options?.type);
  }

  get size(): number {
    return this.#bytes.byteLength;
  }

  get type(): string {
    return this.#type;
  }

  slice(start?: number, end?: number, contentType?: string): Blob {
    const size = this.#bytes.byteLength;
    const rel = (v: number | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      const n = Math.trunc(Number(v)) || 0;
      return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    };
    const from = rel(start, 0);
    const to = rel(end, size);
    return blobFrom(this.#bytes.subarray(from, Math.max(from, to)), normalizeType(contentType));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#bytes.slice().buffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#bytes.slice();
  }

  async text(): Promise<string> {
    return utf8Decode(this.#bytes);
  }

  stream(): ReadableStream<Uint8Array> {
    return chunk("streams").bytesStream(this.#bytes.slice());
  }

  static {
    blobBytes = (b) => b.#bytes;
    blobFrom = (bytes, type) => {
      const b = new Blob();
      b.#bytes = bytes;
      b.#type = type;
      return b;
    };
    setBlobBytes = (b, bytes) => {
      b.#bytes = bytes;
    };
  }
}
tag(Blob, "Blob");

export class File extends Blob {
  #name: string;
  #lastModified: number;

  constructor(fileBits: Iterable<BlobPart>, fileName: string, options?: FilePropertyBag) {
    if (arguments.length < 2) throw new TypeError(`File constructor: 2 arguments required, but only ${arguments.length} present`);
    super(fileBits, options);
    this.#name = toUSVString(fileName);
    const lm = options?.lastModified;
    this.#lastModified = lm === undefined ? Date.now() : Math.trunc(Number(lm)) || 0;
  }

  get name(): string {
    return this.#name;
  }

  get lastModified(): number {
    return this.#lastModified;
  }

  get webkitRelativePath(): string {
    return "";
  }
}
tag(File, "File");

/** A File sharing the (immutable) bytes of `blob` (FormData's "create an entry"). */
export function fileFrom(blob: Blob, name: string, type: string, lastModified?: number): File {
  const f = new File([], name, { type, lastModified });
  setBlobBytes(f, blobBytes(blob));
  return f;
}
