/**
 * Fetch API inside the isolate: streams, Headers, Request, Response, fetch,
 * Blob, File, FormData, text and compression streams. The exports below are
 * the contract the dispatcher (core/dispatch.ts) relies on.
 */
import type { GuestBody, GuestRequestData, GuestResponseHead } from "../../bridge/protocol.ts";
import { defineGlobal, markNative } from "../core/globals.ts";
import { bodyForBridge, bodyState, bodyHeaders, bytesBody, streamBody } from "./body.ts";
import { Blob, File } from "./blob.ts";
import { CompressionStream, DecompressionStream } from "./compression.ts";
import { fetch, trustedHeaders } from "./fetch.ts";
import { FormData } from "./form-data.ts";
import { Headers, headerList } from "./headers.ts";
import { hostStream } from "./host-stream.ts";
import { Request, makeRequest } from "./request.ts";
import { Response, isResponse as isGuestResponse, responseState } from "./response.ts";
import * as streams from "./streams.ts";
import { TextDecoderStream, TextEncoderStream } from "./text-streams.ts";
import { capturePlatform } from "./webidl.ts";
import { FixedLengthStream, IdentityTransformStream } from "./workers-streams.ts";

/** Installs ReadableStream & co, Headers, Request, Response, fetch, Blob, File, FormData, CompressionStream... on globalThis. */
export function installFetchApi(): void {
  capturePlatform();
  const globals: Record<string, Function> = {
    ReadableStream: streams.ReadableStream,
    ReadableStreamDefaultReader: streams.ReadableStreamDefaultReader,
    ReadableStreamBYOBReader: streams.ReadableStreamBYOBReader,
    ReadableStreamBYOBRequest: streams.ReadableStreamBYOBRequest,
    ReadableStreamDefaultController: streams.ReadableStreamDefaultController,
    ReadableByteStreamController: streams.ReadableByteStreamController,
    WritableStream: streams.WritableStream,
    WritableStreamDefaultWriter: streams.WritableStreamDefaultWriter,
    WritableStreamDefaultController: streams.WritableStreamDefaultController,
    TransformStream: streams.TransformStream,
    TransformStreamDefaultController: streams.TransformStreamDefaultController,
    ByteLengthQueuingStrategy: streams.ByteLengthQueuingStrategy,
    CountQueuingStrategy: streams.CountQueuingStrategy,
    TextEncoderStream,
    TextDecoderStream,
    CompressionStream,
    DecompressionStream,
    IdentityTransformStream,
    FixedLengthStream,
    Headers,
    Request,
    Response,
    Blob,
    File,
    FormData,
    fetch,
  };
  for (const [name, value] of Object.entries(globals)) defineGlobal(name, markNative(value, name));
}

/** Builds a guest `Request` from bridge data; a `{ stream }` body reads the host stream through "stream.read" ops. */
export function requestFromData(data: GuestRequestData, cf: Record<string, unknown> | undefined): unknown {
  const body = data.body === null ? null : data.body instanceof Uint8Array ? bytesBody(data.body) : streamBody(hostStream(data.body.stream));
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
