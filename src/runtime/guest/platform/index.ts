/**
 * The Web platform inside the isolate, other than fetch: URL, URLSearchParams,
 * TextEncoder/TextDecoder, DOMException, atob/btoa, performance, navigator and
 * crypto (getRandomValues, randomUUID) eagerly; URLPattern, Event/EventTarget/
 * CustomEvent, AbortController/AbortSignal, structuredClone, crypto.subtle,
 * CryptoKey and DigestStream from lazy parts (core/lazy.ts) on first use.
 * `installPlatform` puts them on the global; trusted guest code (the fetch API)
 * may import the helpers below instead of reading globals user code can replace.
 */
export { installPlatform, exposeLazyInterfaces } from "./install.ts";
export { DOMException, isDOMException } from "./dom-exception.ts";
export { TextEncoder, TextDecoder, getEncoding } from "./encoding.ts";
export { utf8Encode, createUtf8Decoder } from "./encoding-codecs.ts";
export { URL, URLSearchParams } from "./url.ts";
export { registerCloneHook, forbidClone } from "./clone-rules.ts";
export type { CloneHook } from "./clone-rules.ts";
export { viewBytes, copyBytes, toArrayBuffer } from "./buffer-source.ts";
export { atob, btoa } from "./base64.ts";
