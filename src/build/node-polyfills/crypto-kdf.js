/**
 * pbkdf2 and hkdf of verge's node:crypto, over @noble/hashes. The callback
 * forms compute in a later job of the same isolate (Node uses its thread
 * pool): the work still counts against the function's CPU budget, so a huge
 * iteration count ends in ERR_CPU_LIMIT rather than holding the host.
 * Argument checks and messages follow Node 24 (lib/internal/crypto/pbkdf2.js, hkdf.js).
 */
import { Buffer } from "node:buffer";
import { pbkdf2 as noblePbkdf2 } from "@noble/hashes/pbkdf2.js";
import { hkdf as nobleHkdf } from "@noble/hashes/hkdf.js";
import { byteSource } from "./crypto-bytes.js";
import { requireDigest } from "./crypto-hash.js";
import { nodeError, outOfRange, validateFunction, validateInteger, validateString } from "./node-errors.js";

const INT32_MAX = 2 ** 31 - 1;
/** Node's buffer.constants.MAX_LENGTH on 64-bit platforms. */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;
const BYTE_SOURCE = "of type string or an instance of ArrayBuffer, TypedArray, DataView, or Buffer";

function derivingFailed() {
  return new Error("Deriving bits failed");
}

/** Runs `work` in a later job and hands its result, or the error it threw, to `callback`. */
function later(work, callback) {
  setTimeout(() => {
    let result;
    try {
      result = work();
    } catch (err) {
      callback(err);
      return;
    }
    callback(null, result);
  }, 0);
}

function pbkdf2Args(password, salt, iterations, keylen, digest) {
  validateString(digest, "digest");
  const pass = byteSource(password, "password");
  const s = byteSource(salt, "salt");
  validateInteger(iterations, "iterations", 1, INT32_MAX);
  validateInteger(keylen, "keylen", 0, INT32_MAX);
  return { digest, pass, s, iterations, keylen };
}

/** Node's PBKDF2Job: checks the digest when created, derives when run. */
function pbkdf2Job({ digest, pass, s, iterations, keylen }) {
  const hash = requireDigest(digest);
  return () => {
    if (keylen === 0) throw derivingFailed();
    const out = noblePbkdf2(hash, pass, s, { c: iterations, dkLen: keylen });
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  };
}

/**
 * @example
 * pbkdf2Sync("password", "salt", 100_000, 32, "sha256").toString("hex");
 */
export function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  return pbkdf2Job(pbkdf2Args(password, salt, iterations, keylen, digest))();
}

/** @example pbkdf2("password", "salt", 100_000, 32, "sha256", (err, key) => { ... }) */
export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  if (typeof digest === "function") {
    callback = digest;
    digest = undefined;
  }
  const args = pbkdf2Args(password, salt, iterations, keylen, digest);
  validateFunction(callback, "callback");
  later(pbkdf2Job(args), callback);
}

function hkdfArgs(digest, ikm, salt, info, keylen) {
  validateString(digest, "digest");
  const key = byteSource(ikm, "ikm", "of type string or an instance of SecretKeyObject, ArrayBuffer, TypedArray, DataView, or Buffer");
  const s = byteSource(salt, "salt", BYTE_SOURCE);
  const i = byteSource(info, "info", BYTE_SOURCE);
  validateInteger(keylen, "length", 0, MAX_LENGTH);
  if (i.byteLength > 1024) throw outOfRange("info", "must not contain more than 1024 bytes", i.byteLength);
  return { digest, key, s, i, keylen };
}

/** Node's HKDFJob: checks the digest and the length when created, derives when run. */
function hkdfJob({ digest, key, s, i, keylen }) {
  const hash = requireDigest(digest);
  if (keylen > 255 * hash.outputLen) throw nodeError(RangeError, "ERR_CRYPTO_INVALID_KEYLEN", "Invalid key length");
  return () => {
    if (keylen === 0) throw derivingFailed();
    const out = nobleHkdf(hash, key, s, i, keylen);
    // Node returns an ArrayBuffer of exactly the derived bytes.
    return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer : out.slice().buffer;
  };
}

/**
 * HKDF (RFC 5869); returns an ArrayBuffer, as Node does.
 *
 * @example
 * Buffer.from(hkdfSync("sha256", "key", "salt", "info", 64)).toString("hex");
 */
export function hkdfSync(digest, ikm, salt, info, keylen) {
  return hkdfJob(hkdfArgs(digest, ikm, salt, info, keylen))();
}

/** @example hkdf("sha256", "key", "salt", "info", 64, (err, derived) => { ... }) */
export function hkdf(digest, ikm, salt, info, keylen, callback) {
  const args = hkdfArgs(digest, ikm, salt, info, keylen);
  validateFunction(callback, "callback");
  later(hkdfJob(args), callback);
}
