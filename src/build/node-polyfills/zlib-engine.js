/**
 * What every form of verge's node:zlib shares: Node 24's option checks (the
 * same errors, in the same order, as lib/zlib.js's Zlib and ZlibBase
 * constructors), the engine for a mode (compressor or inflater), input
 * conversion, Node's error objects, and the one-shot run the Sync and
 * callback forms use. No stream code here: a Worker that never creates a
 * zlib stream does not bundle node:stream.
 */
import { Buffer } from "node:buffer";
import { invalidArgType, nodeError, outOfRange } from "./node-errors.js";
import { codes } from "./zlib-constants.js";
import { Compressor } from "./zlib-deflate.js";
import { Inflater, ZlibFailure } from "./zlib-inflate.js";

export const DEFLATE = 1, INFLATE = 2, GZIP = 3, GUNZIP = 4, DEFLATERAW = 5, INFLATERAW = 6, UNZIP = 7;
export const Z_NO_FLUSH = 0, Z_SYNC_FLUSH = 2, Z_FULL_FLUSH = 3, Z_FINISH = 4, Z_BLOCK = 5;
/** Node 24's buffer.kMaxLength (2^53 - 1), the default and upper bound of maxOutputLength. */
const K_MAX_LENGTH = Number.MAX_SAFE_INTEGER;
const Z_DEFAULT_CHUNK = 16 * 1024;
const Z_MIN_CHUNK = 64;

/** Node's checkFiniteNumber: false for undefined and NaN (take the default), true for a finite number, else an error. */
function isFiniteOption(value, name) {
  if (value === undefined) return false;
  if (Number.isFinite(value)) return true;
  if (Number.isNaN(value)) return false;
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  throw outOfRange(name, "a finite number", value);
}

/** Node's checkRangesOrGetDefault. */
function ranged(value, name, lower, upper, fallback) {
  if (!isFiniteOption(value, name)) return fallback;
  if (value < lower || value > upper) throw outOfRange(name, `>= ${lower} and <= ${upper}`, value);
  return value;
}

/** The bytes of an ArrayBufferView or (Shared)ArrayBuffer, not copied; undefined for anything else. */
export function bytesOf(value) {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer)) return new Uint8Array(value);
  return undefined;
}

/**
 * A mode's options, checked as Node checks them, defaults filled in. `opts`
 * may be anything: a non-object reads as no options, as in Node.
 */
export function readOptions(mode, opts) {
  const o = opts ?? {};
  const inflating = mode === INFLATE || mode === GUNZIP || mode === UNZIP;
  let windowBits = 15;
  if (opts) {
    if ((o.windowBits == null || o.windowBits === 0) && inflating) windowBits = 0;
    else windowBits = ranged(o.windowBits, "options.windowBits", 8 + (mode === GZIP ? 1 : 0), 15, 15);
  } else if (inflating) windowBits = 0;
  const level = ranged(o.level, "options.level", -1, 9, -1);
  const memLevel = ranged(o.memLevel, "options.memLevel", 1, 9, 8);
  const strategy = ranged(o.strategy, "options.strategy", 0, 4, 0);
  let dictionary = o.dictionary;
  if (dictionary !== undefined) {
    const bytes = bytesOf(dictionary);
    if (bytes === undefined) throw invalidArgType("options.dictionary", "an instance of Buffer, TypedArray, DataView, or ArrayBuffer", dictionary);
    dictionary = bytes;
  }
  let chunkSize = o.chunkSize;
  if (!isFiniteOption(chunkSize, "options.chunkSize")) chunkSize = Z_DEFAULT_CHUNK;
  else if (chunkSize < Z_MIN_CHUNK) throw outOfRange("options.chunkSize", `>= ${Z_MIN_CHUNK}`, chunkSize);
  const flush = ranged(o.flush, "options.flush", Z_NO_FLUSH, Z_BLOCK, Z_NO_FLUSH);
  const finishFlush = ranged(o.finishFlush, "options.finishFlush", Z_NO_FLUSH, Z_BLOCK, Z_FINISH);
  const maxOutputLength = ranged(o.maxOutputLength, "options.maxOutputLength", 1, K_MAX_LENGTH, K_MAX_LENGTH);
  return { windowBits, level, memLevel, strategy, dictionary, chunkSize, flush, finishFlush, maxOutputLength, info: Boolean(o.info) };
}

/** Node's error for a zlib failure: an Error with errno and code, as its binding reports it. */
export function zlibError(failure) {
  const err = new Error(failure.message);
  err.errno = codes[failure.code];
  err.code = failure.code;
  return err;
}

/** ERR_BUFFER_TOO_LARGE, for output past maxOutputLength. */
export function tooLarge(max) {
  return nodeError(RangeError, "ERR_BUFFER_TOO_LARGE", `Cannot create a Buffer larger than ${max} bytes`);
}

/**
 * One mode's engine, fed chunk by chunk with a flush value; output goes to
 * `onOutput`. Failures come out as Node's errors. Also the `engine` of
 * `{ info: true }` results (bytesWritten is the input it consumed).
 */
export class ZlibEngine {
  constructor(mode, options, onOutput) {
    this.mode = mode;
    this.options = options;
    this.onOutput = onOutput;
    this.bytesWritten = 0;
    this.reset();
  }

  reset() {
    const { mode, options } = this;
    const out = (bytes) => this.onOutput(bytes);
    if (mode === DEFLATE || mode === GZIP || mode === DEFLATERAW) {
      this.inner = new Compressor(mode === DEFLATE ? "zlib" : mode === GZIP ? "gzip" : "raw", options, out);
    } else {
      const wrap = mode === INFLATE ? "zlib" : mode === GUNZIP ? "gzip" : mode === UNZIP ? "auto" : "raw";
      this.inner = new Inflater(wrap, options.windowBits, options.dictionary, out);
    }
    this.failed = undefined;
  }

  /** Processes `bytes` with a flush value; throws Node's error (and keeps throwing it) once the data is found corrupt. */
  write(bytes, flush) {
    if (this.failed !== undefined) throw this.failed;
    try {
      if (this.inner instanceof Compressor) this.inner.write(bytes, flush);
      else {
        this.inner.push(bytes);
        const ended = this.inner.run();
        if (!ended && flush === Z_FINISH) throw new ZlibFailure("unexpected end of file", "Z_BUF_ERROR");
      }
    } catch (err) {
      this.failed = err instanceof ZlibFailure ? zlibError(err) : err;
      throw this.failed;
    } finally {
      this.bytesWritten = this.inner.consumed;
    }
  }

  /** params(): a compressor's new level and strategy from here on. */
  params(level, strategy) {
    if (this.inner instanceof Compressor) this.inner.params(level, strategy);
  }
}

/** Input of the Sync forms: a string (UTF-8), any ArrayBufferView or an ArrayBuffer; else Node's ERR_INVALID_ARG_TYPE. */
export function syncInput(buffer) {
  if (typeof buffer === "string") return Buffer.from(buffer);
  const bytes = bytesOf(buffer);
  if (bytes === undefined) throw invalidArgType("buffer", "of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer", buffer);
  return bytes;
}

/** Input of the callback forms, which Node writes into a stream (an ArrayBuffer is taken first): the stream's ERR_INVALID_ARG_TYPE names "chunk". */
export function chunkInput(buffer) {
  if (typeof buffer === "string") return Buffer.from(buffer);
  const bytes = bytesOf(buffer);
  if (bytes === undefined) throw invalidArgType("chunk", "of type string or an instance of Buffer, TypedArray, or DataView", buffer);
  return bytes;
}

/** Compresses or decompresses `input` in one go, as the Sync forms do: a Buffer, or `{ buffer, engine }` with `info`. */
export function runOnce(mode, options, input) {
  const chunks = [];
  let size = 0;
  const engine = new ZlibEngine(mode, options, (bytes) => {
    size += bytes.length;
    if (size > options.maxOutputLength) throw tooLarge(options.maxOutputLength);
    chunks.push(bytes);
  });
  engine.write(input, options.finishFlush);
  const buffer = Buffer.alloc(size);
  let at = 0;
  for (const c of chunks) {
    buffer.set(c, at);
    at += c.length;
  }
  return options.info ? { buffer, engine } : buffer;
}
