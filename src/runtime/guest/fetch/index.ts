/**
 * Fetch API inside the isolate: Headers, Request, Response and fetch eagerly;
 * streams (with text, compression and Workers streams) and Blob, File, FormData
 * from lazy parts (core/lazy.ts) on first use. The exports below are the
 * contract the dispatcher (core/dispatch.ts) relies on.
 */
import type { GuestBody, GuestRequestData, GuestResponseHead } from "../../bridge/protocol.ts";
import { defineGlobal, defineLazyGlobal, markNative } from "../core/globals.ts";
import { chunk, whenLoaded } from "../core/lazy.ts";
import { forbidClone } from "../platform/clone-rules.ts";
import { exposeLazyInterfaces } from "../platform/install.ts";
import { bodyForBridge, bodyState, bodyHeaders, bytesBody, hostBody } from "./body.ts";
import { fetch, trustedHeaders } from "./fetch.ts";
import { Headers, headerList } from "./headers.ts";
import { Request, makeRequest } from "./request.ts";
import { Response, isResponse as isGuestResponse, responseState } from "./response.ts";
import { capturePlatform } from "./webidl.ts";
// In the eager build for the "caches" lazy part (see the module).
import "./cache-support.ts";

const STREAM_GLOBALS = [
  "ReadableStream",
  "ReadableStreamDefaultReader",
  "ReadableStreamBYOBReader",
  "ReadableStreamBYOBRequest",
  "ReadableStreamDefaultController",
  "ReadableByteStreamController",
  "WritableStream",
  "WritableStreamDefaultWriter",
  "WritableStreamDefaultController",
  "TransformStream",
  "TransformStreamDefaultController",
  "ByteLengthQueuingStrategy",
  "CountQueuingStrategy",
  "TextEncoderStream",
  "TextDecoderStream",
  "CompressionStream",
  "DecompressionStream",
  "IdentityTransformStream",
  "FixedLengthStream",
] as const;

const native = (name: string, value: Function) => void markNative(value, name);

/** Installs ReadableStream & co, Headers, Request, Response, fetch, Blob, File, FormData, CompressionStream... on globalThis. */
export function installFetchApi(): void {
  capturePlatform();
  const globals: Record<string, Function> = { Headers, Request, Response, fetch };
  for (const [name, value] of Object.entries(globals)) defineGlobal(name, markNative(value, name));
  exposeLazyInterfaces("streams", STREAM_GLOBALS, native);
  exposeLazyInterfaces("form", ["Blob", "File", "FormData"], native);
  // The Workers Cache API: `caches` is the isolate's one CacheStorage, made when first read.
  exposeLazyInterfaces("caches", ["Cache", "CacheStorage"]);
  whenLoaded("caches", (ns) => forbidClone(...([ns.Cache, ns.CacheStorage] as unknown as Array<abstract new (...args: never[]) => unknown>)));
  defineLazyGlobal("caches", () => chunk("caches").cacheStorage());
}

/** Builds a guest `Request` from bridge data; a `{ stream }` body reads the host stream through "stream.read" ops. */
export function requestFromData(data: GuestRequestData, cf: Record<string, unknown> | undefined): unknown {
  const body = data.body === null ? null : data.body instanceof Uint8Array ? bytesBody(data.body) : hostBody(data.body.stream);
  // As in Workers: an incoming request's headers are immutable and its redirect mode is "manual".
  return makeRequest(
    { method: data.method, url: data.url, redirect: "manual", signal: null, cf, cache: "default", integrity: "", keepalive: false },
    trustedHeaders(data.headers),
    body,
  );
}

/** True for a guest `Response` (brand check, not instanceof on a user-replaceable global). */
export function isResponse(value: unknown): boolean {
  return isGuestResponse(value);
}

/**
 * Splits a guest Response into bridge data. A body that is already whole bytes
 * (string, ArrayBuffer, Uint8Array, Blob... given to the constructor and not yet
 * read) comes back as `Uint8Array` without going through a stream; otherwise as
 * the ReadableStream itself. A used body throws TypeError.
 */
export function responseToData(res: unknown): { head: GuestResponseHead; body: null | Uint8Array | ReadableStreamLike } {
  if (!isGuestResponse(res)) throw new TypeError("responseToData: not a Response");
  const r = res as Response;
  const s = responseState(r);
  const head: GuestResponseHead = {
    status: s.status,
    statusText: s.statusText,
    headers: headerList(bodyHeaders(r)).map(([k, v]) => [k, v] as [string, string]),
  };
  return { head, body: bodyForBridge(bodyState(r)) as null | Uint8Array | ReadableStreamLike };
}

export interface ReadableStreamLike {
  getReader(): { read(): Promise<{ done: boolean; value?: unknown }>; cancel(reason?: unknown): Promise<void> };
}
export type { GuestBody };
