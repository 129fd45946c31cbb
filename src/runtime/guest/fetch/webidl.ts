/**
 * The few WebIDL conversions the Fetch API needs (https://webidl.spec.whatwg.org/),
 * and access to the platform globals installed before this module's globals
 * (platform/ owns them; they are read from globalThis, never imported).
 */

export interface TextEncoderLike {
  encode(input: string): Uint8Array;
}
export interface TextDecoderLike {
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", fn: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", fn: () => void): void;
}
export interface URLLike {
  href: string;
  hash: string;
  username: string;
  password: string;
  toString(): string;
}
export interface URLSearchParamsLike {
  toString(): string;
  [Symbol.iterator](): Iterator<[string, string]>;
}

interface PlatformGlobals {
  TextEncoder: new () => TextEncoderLike;
  TextDecoder: new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => TextDecoderLike;
  URL: new (url: string, base?: string) => URLLike;
  URLSearchParams: new (init?: string) => URLSearchParamsLike;
  DOMException: new (message?: string, name?: string) => Error;
}

const captured: Partial<PlatformGlobals> = {};
// Not AbortController and AbortSignal: they are lazy globals (reading one loads its part); trusted
// code takes them from the part itself (core/lazy.ts).
const NAMES = ["TextEncoder", "TextDecoder", "URL", "URLSearchParams", "DOMException"] as const;

/** Captures the platform globals once, before user code can replace them (called by installFetchApi). */
export function capturePlatform(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  for (const name of NAMES) if (typeof g[name] === "function") (captured as Record<string, unknown>)[name] = g[name];
}

/** A platform global: captured at install time, else looked up now (a TypeError if absent). */
export function platform<K extends keyof PlatformGlobals>(name: K): PlatformGlobals[K] {
  const v = captured[name] ?? (globalThis as unknown as Record<string, PlatformGlobals[K] | undefined>)[name];
  if (v === undefined) throw new TypeError(`${name} is not available in this isolate`);
  return v;
}

/** A platform global, or undefined when the platform does not provide it. */
export function maybePlatform<K extends keyof PlatformGlobals>(name: K): PlatformGlobals[K] | undefined {
  return captured[name] ?? (globalThis as unknown as Record<string, PlatformGlobals[K] | undefined>)[name];
}

let encoder: TextEncoderLike | undefined;
let decoder: TextDecoderLike | undefined;

export function utf8Encode(s: string): Uint8Array {
  return (encoder ??= new (platform("TextEncoder"))()).encode(s);
}

/** UTF-8 decode with replacement characters and BOM stripping (Fetch "UTF-8 decode"). */
export function utf8Decode(bytes: Uint8Array): string {
  return (decoder ??= new (platform("TextDecoder"))()).decode(bytes);
}

export function isObject(v: unknown): v is object {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
export function toUSVString(v: unknown): string {
  if (typeof v === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  return String(v).toWellFormed();
}

/** WebIDL ByteString: every code unit must be ≤ 0xFF. */
export function toByteString(v: unknown, what: string): string {
  if (typeof v === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  const s = String(v);
  if (/[^\x00-\xff]/.test(s)) throw new TypeError(`${what}: ${JSON.stringify(s)} is not a valid ByteString`);
  return s;
}

const SAB: SharedArrayBufferConstructor | undefined = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer : undefined;

export function isBufferSource(v: unknown): v is ArrayBuffer | ArrayBufferView {
  return ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (SAB !== undefined && v instanceof SAB);
}

/** A view of a BufferSource's bytes (no copy). */
export function viewOf(v: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v);
}

/** A copy of a BufferSource's bytes ("get a copy of the bytes held by the buffer source"). */
export function copyOf(v: ArrayBuffer | ArrayBufferView): Uint8Array {
  return viewOf(v).slice();
}

export function concatBytes(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let size = total ?? 0;
  if (total === undefined) for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Defines `Symbol.toStringTag` the way WebIDL does ("[object Headers]"). */
export function tag(ctor: { prototype: object }, name: string): void {
  Object.defineProperty(ctor.prototype, Symbol.toStringTag, { value: name, configurable: true });
}
