/**
 * The Web platform inside the isolate, other than fetch: URL, URLSearchParams,
 * URLPattern, TextEncoder/TextDecoder, Event/EventTarget/CustomEvent,
 * AbortController/AbortSignal, DOMException, atob/btoa, structuredClone,
 * performance, navigator and crypto (getRandomValues, randomUUID, subtle,
 * DigestStream). `installPlatform` puts them on the global; trusted guest code
 * (the fetch API) may import the helpers below instead of reading globals user
 * code can replace.
 */
export { installPlatform } from "./install.ts";
export { DOMException, isDOMException } from "./dom-exception.ts";
export { Event, EventTarget, CustomEvent, defineEventHandler } from "./events.ts";
export { AbortController, AbortSignal, isAbortSignal, onAbort, signalAbort } from "./abort.ts";
export { TextEncoder, TextDecoder, getEncoding } from "./encoding.ts";
export { utf8Encode, createUtf8Decoder } from "./encoding-codecs.ts";
export { URL, URLSearchParams } from "./url.ts";
export { structuredClone, registerCloneHook, forbidClone } from "./structured-clone.ts";
export type { CloneHook } from "./structured-clone.ts";
export { viewBytes, copyBytes, toArrayBuffer } from "./buffer-source.ts";
export { atob, btoa } from "./base64.ts";
