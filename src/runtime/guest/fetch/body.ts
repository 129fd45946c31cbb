/**
 * The Body mixin (https://fetch.spec.whatwg.org/#body-mixin) as the base class
 * of Request and Response, as in workerd. A body is whole bytes, or a stream on
 * the host (an incoming request's, a fetched response's), until someone asks
 * for `.body`: the common `new Response("text")`, `await request.text()` and
 * `await (await fetch(url)).json()` never build a ReadableStream, so most
 * isolates never load the "streams" part (core/lazy.ts).
 */
import { callOp } from "../core/host.ts";
import { chunk, loadedChunk } from "../core/lazy.ts";
import type { Blob } from "./blob.ts";
import type { FormData } from "./form-data.ts";
import type { Headers } from "./headers.ts";
import type { ReadableStream } from "./streams.ts";
import { concatBytes, copyOf, isBufferSource, maybePlatform, toUSVString, utf8Decode, utf8Encode, type AbortSignalLike } from "./webidl.ts";

export type BodyInit = string | ArrayBuffer | ArrayBufferView | Blob | FormData | ReadableStream<Uint8Array> | { toString(): string };

/** A body still on the host: read with "stream.read" ops, or wrapped in a ReadableStream on demand. */
export interface HostBody {
  id: number;
  /** Fetch "abort fetch": a body still being read errors with the signal's reason. */
  signal: AbortSignalLike | null;
}

export interface BodyState {
  /** Whole bytes not yet turned into a stream (null once taken). */
  bytes: Uint8Array | null;
  /** True when another body (a clone) holds the same bytes: hand out copies. */
  shared: boolean;
  stream: ReadableStream<unknown> | null;
  /** A host stream not yet wrapped in `stream` (null once wrapped or read). */
  host: HostBody | null;
  /** Consumed through the bytes or host fast path. */
  used: boolean;
}

export function bytesBody(bytes: Uint8Array): BodyState {
  return { bytes, shared: false, stream: null, host: null, used: false };
}

export function streamBody(stream: ReadableStream<unknown>): BodyState {
  return { bytes: null, shared: false, stream, host: null, used: false };
}

/** A body that is host stream `id` (see HostBody). */
export function hostBody(id: number, signal: AbortSignalLike | null = null): BodyState {
  return { bytes: null, shared: false, stream: null, host: { id, signal }, used: false };
}

/** "Extract a body": the body and the Content-Type it implies. */
export function extractBody(init: unknown): { body: BodyState; type: string | null } {
  if (typeof init === "string") return { body: bytesBody(utf8Encode(init.toWellFormed())), type: "text/plain;charset=UTF-8" };
  // A stream, Blob or FormData can only exist once its lazy part is loaded.
  const streams = loadedChunk("streams");
  if (streams !== undefined && streams.isReadableStream(init)) {
    if (init.locked || streams.isDisturbed(init)) throw new TypeError("The ReadableStream is locked or has already been read from.");
    return { body: streamBody(init), type: null };
  }
  const form = loadedChunk("form");
  if (form !== undefined && init instanceof form.Blob) return { body: { ...bytesBody(form.blobBytes(init)), shared: true }, type: init.type || null };
  if (isBufferSource(init)) return { body: bytesBody(copyOf(init)), type: null };
  if (form !== undefined && init instanceof form.FormData) {
    const { bytes, type } = form.serializeMultipart(init);
    return { body: bytesBody(bytes), type };
  }
  const USP = maybePlatform("URLSearchParams");
  if (USP !== undefined && init instanceof USP) {
    return { body: bytesBody(utf8Encode(String(init))), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  return { body: bytesBody(utf8Encode(toUSVString(init))), type: "text/plain;charset=UTF-8" };
}

function take(b: BodyState): Uint8Array {
  const bytes = b.bytes ?? new Uint8Array(0);
  b.bytes = null;
  return b.shared ? bytes.slice() : bytes;
}

export function isUsed(b: BodyState | null): boolean {
  return b !== null && (b.used || (b.stream !== null && chunk("streams").isDisturbed(b.stream)));
}

function assertUsable(b: BodyState | null): void {
  if (b !== null && (isUsed(b) || b.stream?.locked === true)) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
}

/** A stream that looks like a fully read one: locked and disturbed. */
function spentStream(): ReadableStream<unknown> {
  const s = new (chunk("streams").ReadableStream)({ start: (c) => c.close() });
  void s.getReader().read();
  return s;
}

/** The body's stream, created on first use. */
export function streamOf(b: BodyState): ReadableStream<unknown> {
  if (b.stream === null) {
    const streams = chunk("streams");
    if (b.used) b.stream = spentStream();
    else if (b.host !== null) b.stream = streams.hostStream(b.host.id, b.host.signal);
    else b.stream = streams.bytesStream(take(b));
    b.host = null;
  }
  return b.stream;
}

/** "Clone a body": shared bytes, or a tee of the stream. */
export function cloneBody(b: BodyState | null): BodyState | null {
  assertUsable(b);
  if (b === null) return null;
  if (b.host !== null) streamOf(b);
  if (b.stream === null) {
    b.shared = true;
    return { bytes: b.bytes, shared: true, stream: null, host: null, used: false };
  }
  const [one, two] = b.stream.tee();
  b.stream = one;
  return streamBody(two);
}

/** Moves a body to a new owner (new Request(request)); the old owner reads as used. */
export function transferBody(b: BodyState): BodyState {
  assertUsable(b);
  const moved: BodyState = { ...b };
  b.bytes = null;
  b.stream = null;
  b.host = null;
  b.used = true;
  return moved;
}

/** The body as the bridge wants it: whole bytes (fast path), or the stream itself. */
export function bodyForBridge(b: BodyState | null): Uint8Array | ReadableStream<unknown> | null {
  assertUsable(b);
  if (b === null) return null;
  if (b.host !== null) return streamOf(b);
  if (b.stream !== null) return b.stream;
  b.used = true;
  return take(b);
}

/** "Fully read" the body; a used or locked body is a TypeError (thrown synchronously). */
export function consumeBody(b: BodyState | null): Promise<Uint8Array> {
  assertUsable(b);
  if (b === null) return Promise.resolve(new Uint8Array(0));
  // A signal can abort the read midway: that is the stream's job.
  if (b.host !== null && b.host.signal !== null) streamOf(b);
  if (b.host !== null) {
    const id = b.host.id;
    b.host = null;
    b.used = true;
    return readHost(id);
  }
  if (b.stream === null) {
    b.used = true;
    return Promise.resolve(take(b));
  }
  return chunk("streams").readAllBytes(b.stream);
}

/** Reads host stream `id` to its end without a ReadableStream (the bytes cross as they do for one). */
async function readHost(id: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const c = await callOp<unknown>("stream.read", { stream: id });
    if (c === null || c === undefined) break;
    if (!(c instanceof Uint8Array)) throw new TypeError("This ReadableStream did not return bytes.");
    if (c.byteLength === 0) continue;
    chunks[chunks.length] = c;
    total += c.byteLength;
  }
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, total);
}

const INTERNAL = Symbol("internal");
/** Token for Body's constructor: only Request and Response may make one. */
export const BODY_TOKEN: symbol = INTERNAL;

export let bodyState: (o: Body) => BodyState | null;
export let setBodyState: (o: Body, b: BodyState | null) => void;
export let bodyHeaders: (o: Body) => Headers;
export let setBodyHeaders: (o: Body, h: Headers) => void;

export class Body {
  #body: BodyState | null = null;
  #headers!: Headers;

  constructor(token: symbol) {
    if (token !== INTERNAL) throw new TypeError("Illegal constructor");
  }

  get body(): ReadableStream<unknown> | null {
    return this.#body === null ? null : streamOf(this.#body);
  }

  get bodyUsed(): boolean {
    return isUsed(this.#body);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await consumeBody(this.#body);
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
  }

  async bytes(): Promise<Uint8Array> {
    return consumeBody(this.#body);
  }

  async text(): Promise<string> {
    return utf8Decode(await consumeBody(this.#body));
  }

  async json(): Promise<unknown> {
    return JSON.parse(utf8Decode(await consumeBody(this.#body)));
  }

  async blob(): Promise<Blob> {
    const type = this.#headers.get("content-type") ?? "";
    const bytes = await consumeBody(this.#body);
    return chunk("form").blobFrom(bytes, /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "");
  }

  async formData(): Promise<FormData> {
    const type = this.#headers.get("content-type");
    const form = chunk("form");
    const essence = form.mimeEssence(type);
    const bytes = await consumeBody(this.#body);
    if (essence === "multipart/form-data") {
      const boundary = form.mimeParam(type!, "boundary");
      if (boundary === null || boundary === "") throw new TypeError("Could not parse content as FormData: no boundary in the Content-Type");
      return form.parseMultipart(bytes, boundary);
    }
    if (essence === "application/x-www-form-urlencoded") return form.parseUrlEncoded(utf8Decode(bytes));
    throw new TypeError(`Could not parse content as FormData: unsupported Content-Type ${JSON.stringify(type ?? "")}`);
  }

  static {
    bodyState = (o) => o.#body;
    setBodyState = (o, b) => {
      o.#body = b;
    };
    bodyHeaders = (o) => o.#headers;
    setBodyHeaders = (o, h) => {
      o.#headers = h;
    };
  }
}
