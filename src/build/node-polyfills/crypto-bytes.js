/**
 * Bytes in and out of verge's node:crypto the way Node converts them: strings
 * decoded with an encoding name as Node's C++ ParseEncoding reads it (case
 * insensitive, an unknown name meaning utf8 on input and a Buffer on output),
 * any ArrayBufferView or ArrayBuffer taken as its bytes.
 */
import { Buffer } from "node:buffer";
import { invalidArgType } from "./node-errors.js";

const ENCODINGS = {
  utf8: "utf8", "utf-8": "utf8",
  ucs2: "utf16le", "ucs-2": "utf16le", utf16le: "utf16le", "utf-16le": "utf16le",
  latin1: "latin1", binary: "latin1",
  base64: "base64", base64url: "base64url", hex: "hex", ascii: "ascii",
};

/** Node's normalizeEncoding: the canonical name of a Buffer encoding, or undefined. */
export function normalizeEncoding(encoding) {
  if (encoding === undefined || encoding === null) return "utf8";
  const name = String(encoding).toLowerCase();
  return Object.hasOwn(ENCODINGS, name) ? ENCODINGS[name] : undefined;
}

/** A string's bytes in `encoding` (utf8 when the name is unknown, as Node's hashing does). */
export function stringBytes(text, encoding) {
  const enc = normalizeEncoding(encoding) ?? "utf8";
  // The buffer package decodes both base64 alphabets under "base64" (as Node does) but has no "base64url".
  return Buffer.from(text, enc === "base64url" ? "base64" : enc);
}

/** Whether a value is an ArrayBuffer, a SharedArrayBuffer or a view of one. */
export function isBufferSource(value) {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer);
}

/** The bytes of an ArrayBuffer or any ArrayBufferView (DataView and wider typed arrays included), not copied. */
export function viewBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

/**
 * Node's getArrayBufferOrView: a string (in `encoding`, default utf8), an ArrayBuffer
 * or an ArrayBufferView, else ERR_INVALID_ARG_TYPE naming `name` and `what`.
 */
export function byteSource(value, name, what = "of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView", encoding) {
  if (typeof value === "string") return stringBytes(value, encoding);
  if (isBufferSource(value)) return viewBytes(value);
  throw invalidArgType(name, what, value);
}

/** A digest as Node returns it: a Buffer, or a string for a known encoding ("buffer" and unknown names give a Buffer). */
export function encodeOutput(bytes, encoding) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const enc = encoding === undefined || encoding === null ? undefined : normalizeEncoding(encoding);
  if (enc === undefined) return buf;
  if (enc === "base64url") return buf.toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  // Node decodes utf8 as the WHATWG decoder does (U+FFFD per maximal invalid subpart).
  if (enc === "utf8") return new TextDecoder().decode(bytes);
  return buf.toString(enc);
}
