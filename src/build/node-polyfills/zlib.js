/**
 * verge's `node:zlib` for `nodejs_compat`, with Node 24's API and errors,
 * bundled into a function only when it imports `node:zlib` (or `zlib`).
 *
 * - the buffer functions: gzipSync, gunzipSync, deflateSync, inflateSync,
 *   deflateRawSync, inflateRawSync, unzipSync, and their callback forms
 *   (gzip(buf, [opts], cb)..., which util.promisify takes as they are);
 * - the streams: createGzip... and the classes, Node Transform streams over
 *   node:stream, in zlib-stream.js (bundled only when used, with named or
 *   namespace imports);
 * - crc32(data, [value]), constants, codes and the legacy Z_* names.
 *
 * Decompression is verge's own inflater (zlib-inflate.js: zlib's messages for
 * corrupt data, checksums verified, output checked against maxOutputLength as
 * it grows); compression is fflate's DEFLATE in zlib's wrappers
 * (zlib-deflate.js). All of it runs as JavaScript in the isolate, under the
 * function's CPU and memory limits. Brotli and Zstandard are there by name
 * and throw ERR_METHOD_NOT_IMPLEMENTED when called.
 */
import { Buffer } from "node:buffer";
import { invalidArgType, nodeError, validateFunction, validateInteger } from "./node-errors.js";
import { crc32Update } from "./zlib-checksum.js";
import { codes, constants } from "./zlib-constants.js";
import { DEFLATE, DEFLATERAW, GUNZIP, GZIP, INFLATE, INFLATERAW, UNZIP, chunkInput, readOptions, runOnce, syncInput } from "./zlib-engine.js";

export { codes, constants };
import {
  Deflate, Inflate, Gzip, Gunzip, DeflateRaw, InflateRaw, Unzip,
  createDeflate, createInflate, createGzip, createGunzip, createDeflateRaw, createInflateRaw, createUnzip,
} from "./zlib-stream.js";

export {
  Deflate, Inflate, Gzip, Gunzip, DeflateRaw, InflateRaw, Unzip,
  createDeflate, createInflate, createGzip, createGunzip, createDeflateRaw, createInflateRaw, createUnzip,
};

function syncForm(mode) {
  return (buffer, opts) => {
    const options = readOptions(mode, opts);
    return runOnce(mode, options, syncInput(buffer));
  };
}

/** The callback form: options and arguments checked at once (as Node throws them), the work in a later job of the isolate. */
function callbackForm(mode) {
  return (buffer, opts, callback) => {
    if (typeof opts === "function") {
      callback = opts;
      opts = {};
    }
    const options = readOptions(mode, opts);
    validateFunction(callback, "callback");
    const input = chunkInput(buffer);
    setTimeout(() => {
      let result;
      try {
        result = runOnce(mode, options, input);
      } catch (err) {
        callback(err);
        return;
      }
      callback(null, result);
    }, 0);
  };
}

export const deflateSync = syncForm(DEFLATE);
export const inflateSync = syncForm(INFLATE);
export const gzipSync = syncForm(GZIP);
export const gunzipSync = syncForm(GUNZIP);
export const deflateRawSync = syncForm(DEFLATERAW);
export const inflateRawSync = syncForm(INFLATERAW);
export const unzipSync = syncForm(UNZIP);
export const deflate = callbackForm(DEFLATE);
export const inflate = callbackForm(INFLATE);
export const gzip = callbackForm(GZIP);
export const gunzip = callbackForm(GUNZIP);
export const deflateRaw = callbackForm(DEFLATERAW);
export const inflateRaw = callbackForm(INFLATERAW);
export const unzip = callbackForm(UNZIP);

/** CRC-32 of a string (UTF-8) or an ArrayBufferView, continuing from `value` (Node 22+). */
export function crc32(data, value = 0) {
  if (typeof data !== "string" && !ArrayBuffer.isView(data)) {
    throw invalidArgType("data", "of type string or an instance of Buffer, TypedArray, or DataView", data);
  }
  validateInteger(value, "value", 0, 4294967295);
  const bytes = typeof data === "string" ? Buffer.from(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return crc32Update(value, bytes);
}

/** A Node function (or class) verge does not provide: it loads, and calling or constructing it throws. */
function unsupported(name) {
  return {
    [name]: function () {
      throw nodeError(
        Error,
        "ERR_METHOD_NOT_IMPLEMENTED",
        `zlib.${name} is not supported: verge's nodejs_compat provides gzip, deflate and deflate-raw (and unzip) only, not Brotli or Zstandard (a Worker can answer with Content-Encoding: br only if the bytes are already compressed)`,
      );
    },
  }[name];
}

export const brotliCompress = unsupported("brotliCompress");
export const brotliCompressSync = unsupported("brotliCompressSync");
export const brotliDecompress = unsupported("brotliDecompress");
export const brotliDecompressSync = unsupported("brotliDecompressSync");
export const createBrotliCompress = unsupported("createBrotliCompress");
export const createBrotliDecompress = unsupported("createBrotliDecompress");
export const BrotliCompress = unsupported("BrotliCompress");
export const BrotliDecompress = unsupported("BrotliDecompress");
export const zstdCompress = unsupported("zstdCompress");
export const zstdCompressSync = unsupported("zstdCompressSync");
export const zstdDecompress = unsupported("zstdDecompress");
export const zstdDecompressSync = unsupported("zstdDecompressSync");
export const createZstdCompress = unsupported("createZstdCompress");
export const createZstdDecompress = unsupported("createZstdDecompress");
export const ZstdCompress = unsupported("ZstdCompress");
export const ZstdDecompress = unsupported("ZstdDecompress");

/** Node's deprecated top-level constants (every key of `constants` but the Brotli ones). */
export const {
  Z_NO_FLUSH, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH, Z_BLOCK, Z_OK, Z_STREAM_END, Z_NEED_DICT, Z_ERRNO,
  Z_STREAM_ERROR, Z_DATA_ERROR, Z_MEM_ERROR, Z_BUF_ERROR, Z_VERSION_ERROR, Z_NO_COMPRESSION, Z_BEST_SPEED, Z_BEST_COMPRESSION,
  Z_DEFAULT_COMPRESSION, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED, Z_DEFAULT_STRATEGY, ZLIB_VERNUM,
  Z_MIN_WINDOWBITS, Z_MAX_WINDOWBITS, Z_DEFAULT_WINDOWBITS, Z_MIN_CHUNK, Z_MAX_CHUNK, Z_DEFAULT_CHUNK, Z_MIN_MEMLEVEL,
  Z_MAX_MEMLEVEL, Z_DEFAULT_MEMLEVEL, Z_MIN_LEVEL, Z_MAX_LEVEL, Z_DEFAULT_LEVEL,
} = constants;
export { DEFLATE, INFLATE, GZIP, GUNZIP, DEFLATERAW, INFLATERAW, UNZIP };

/**
 * `import zlib from "node:zlib"` (and `require("zlib")`): the whole module as one object, as Node's
 * module.exports, the legacy constants as its non-enumerable properties. It names the stream
 * classes, so such an import bundles node:stream too; named imports do not.
 */
const zlib = /* @__PURE__ */ withLegacyConstants({
  crc32, constants, codes,
  Deflate, Inflate, Gzip, Gunzip, DeflateRaw, InflateRaw, Unzip, BrotliCompress, BrotliDecompress, ZstdCompress, ZstdDecompress,
  deflate, deflateSync, gzip, gzipSync, deflateRaw, deflateRawSync, unzip, unzipSync, inflate, inflateSync, gunzip, gunzipSync,
  inflateRaw, inflateRawSync, brotliCompress, brotliCompressSync, brotliDecompress, brotliDecompressSync,
  zstdCompress, zstdCompressSync, zstdDecompress, zstdDecompressSync,
  createDeflate, createInflate, createDeflateRaw, createInflateRaw, createGzip, createGunzip, createUnzip,
  createBrotliCompress, createBrotliDecompress, createZstdCompress, createZstdDecompress,
});
export default zlib;

function withLegacyConstants(target) {
  for (const key of Object.keys(constants)) {
    if (!key.startsWith("BROTLI")) Object.defineProperty(target, key, { value: constants[key], enumerable: false, writable: false });
  }
  return target;
}
