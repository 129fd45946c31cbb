/**
 * The random functions of verge's node:crypto (and timingSafeEqual), drawing on the isolate's
 * `crypto.getRandomValues` (the host's CSPRNG behind verge's bridge), which
 * gives at most 65536 bytes per call: larger requests loop. Argument checks and
 * messages follow Node 24 (lib/internal/crypto/random.js).
 */
import { Buffer } from "node:buffer";
import { isBufferSource, viewBytes } from "./crypto-bytes.js";
import { invalidArgType, nodeError, outOfRange, validateFunction } from "./node-errors.js";

const MAX_POSSIBLE_LENGTH = 2 ** 31 - 1;
/** WebCrypto's limit per getRandomValues call. */
const CHUNK = 65536;
/** randomInt draws 48-bit numbers (Node's RAND_MAX). */
const RAND_MAX = 0xffff_ffff_ffff;

/** Fills a byte view with random bytes, 64 KiB at a time. */
function fill(bytes) {
  for (let at = 0; at < bytes.byteLength; at += CHUNK) globalThis.crypto.getRandomValues(bytes.subarray(at, Math.min(at + CHUNK, bytes.byteLength)));
  return bytes;
}

function assertOffset(offset, elementSize, length) {
  if (typeof offset !== "number") throw invalidArgType("offset", "of type number", offset);
  const bytes = offset * elementSize;
  const max = Math.min(length, MAX_POSSIBLE_LENGTH);
  if (Number.isNaN(bytes) || bytes > max || bytes < 0) throw outOfRange("offset", `>= 0 && <= ${max}`, bytes);
  return bytes >>> 0;
}

function assertSize(size, elementSize, offset, length) {
  if (typeof size !== "number") throw invalidArgType("size", "of type number", size);
  const bytes = size * elementSize;
  if (Number.isNaN(bytes) || bytes > MAX_POSSIBLE_LENGTH || bytes < 0) throw outOfRange("size", `>= 0 && <= ${MAX_POSSIBLE_LENGTH}`, bytes);
  if (bytes + offset > length) throw outOfRange("size + offset", `<= ${length}`, bytes + offset);
  return bytes >>> 0;
}

function assertBuffer(buf) {
  if (!isBufferSource(buf)) throw invalidArgType("buf", "an instance of ArrayBuffer or ArrayBufferView", buf);
}

/** Calls back after the current job, as Node does from its thread pool. */
function later(callback, ...args) {
  setTimeout(() => callback(...args), 0);
}

/**
 * @example
 * randomBytes(16).toString("hex");
 * randomBytes(16, (err, buf) => { ... });
 */
export function randomBytes(size, callback) {
  const n = assertSize(size, 1, 0, Infinity);
  if (callback !== undefined) validateFunction(callback, "callback");
  const buf = Buffer.alloc(n);
  fill(buf);
  if (callback === undefined) return buf;
  later(callback, null, buf);
}

/** @example randomFillSync(new Uint32Array(4)) */
export function randomFillSync(buf, offset = 0, size) {
  assertBuffer(buf);
  const elementSize = buf.BYTES_PER_ELEMENT || 1;
  const start = assertOffset(offset, elementSize, buf.byteLength);
  const n = size === undefined ? buf.byteLength - start : assertSize(size, elementSize, start, buf.byteLength);
  if (n > 0) fill(viewBytes(buf).subarray(start, start + n));
  return buf;
}

/** @example randomFill(new Uint8Array(8), (err, buf) => { ... }) */
export function randomFill(buf, offset, size, callback) {
  assertBuffer(buf);
  const elementSize = buf.BYTES_PER_ELEMENT || 1;
  let start = 0;
  let n;
  if (typeof offset === "function") {
    callback = offset;
    n = buf.byteLength;
  } else if (typeof size === "function") {
    callback = size;
    start = assertOffset(offset, elementSize, buf.byteLength);
    n = buf.byteLength - start;
  } else {
    validateFunction(callback, "callback");
    start = assertOffset(offset, elementSize, buf.byteLength);
    n = size === undefined ? buf.byteLength - start : assertSize(size, elementSize, start, buf.byteLength);
  }
  if (n > 0) fill(viewBytes(buf).subarray(start, start + n));
  later(callback, null, buf);
}

/**
 * A uniform integer in [min, max), by rejection sampling of 48-bit draws as Node does.
 *
 * @example
 * randomInt(6); // 0..5
 * randomInt(1, 7, (err, n) => { ... });
 */
export function randomInt(min, max, callback) {
  const minNotSpecified = typeof max === "undefined" || typeof max === "function";
  if (minNotSpecified) {
    callback = max;
    max = min;
    min = 0;
  }
  if (callback !== undefined) validateFunction(callback, "callback");
  if (!Number.isSafeInteger(min)) throw invalidArgType("min", "a safe integer", min);
  if (!Number.isSafeInteger(max)) throw invalidArgType("max", "a safe integer", max);
  if (max <= min) throw outOfRange("max", `greater than the value of "min" (${min})`, max);
  const range = max - min;
  if (!(range <= RAND_MAX)) throw outOfRange(`max${minNotSpecified ? "" : " - min"}`, `<= ${RAND_MAX}`, range);
  const limit = RAND_MAX - (RAND_MAX % range);
  const six = new Uint8Array(6);
  let x;
  do {
    fill(six);
    x = six[0] * 2 ** 40 + six[1] * 2 ** 32 + ((six[2] << 24) >>> 0) + (six[3] << 16) + (six[4] << 8) + six[5];
  } while (x >= limit);
  const n = min + (x % range);
  if (callback === undefined) return n;
  later(callback, null, n);
}

/** @example randomUUID() // "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed" */
export function randomUUID(options) {
  if (options !== undefined && (typeof options !== "object" || options === null)) throw invalidArgType("options", "of type object", options);
  return globalThis.crypto.randomUUID();
}

/** WebCrypto's getRandomValues, as Node's crypto.getRandomValues is (it throws past 65536 bytes). */
export function getRandomValues(typedArray) {
  return globalThis.crypto.getRandomValues(typedArray);
}

/**
 * Compares two equal-length byte sequences in time that depends on the length only.
 *
 * @example
 * timingSafeEqual(Buffer.from(a), Buffer.from(b));
 */
export function timingSafeEqual(buf1, buf2) {
  for (const [name, value] of [["buf1", buf1], ["buf2", buf2]]) {
    if (!isBufferSource(value)) throw nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `The "${name}" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView.`);
  }
  const a = viewBytes(buf1);
  const b = viewBytes(buf2);
  if (a.byteLength !== b.byteLength) throw nodeError(RangeError, "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH", "Input buffers must have the same byte length");
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
