/**
 * createHash, createHmac and the one-shot hash() of verge's node:crypto, over
 * @noble/hashes (pure JS: the hashing runs inside the function's isolate, on its
 * own CPU budget). Names, input conversion, output encodings and errors follow
 * Node 24 (lib/internal/crypto/hash.js); checked against Node in
 * test/integration/node-crypto.test.ts.
 */
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { sha224, sha256, sha384, sha512, sha512_224, sha512_256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { byteSource, encodeOutput, normalizeEncoding, stringBytes, viewBytes } from "./crypto-bytes.js";
import { invalidArgType, invalidArgValue, nodeError, validateString } from "./node-errors.js";

/**
 * The digests, under every name OpenSSL 3 (Node's) accepts for them, lowercased:
 * `sha256`, `SHA-256`, `SHA2-256`, `RSA-SHA256`, `sha256WithRSAEncryption`.
 */
const DIGESTS = new Map();
function names(hash, list) {
  for (const name of list) DIGESTS.set(name.toLowerCase(), hash);
}
names(md5, ["md5", "RSA-MD5", "md5WithRSAEncryption", "ssl3-md5"]);
names(sha1, ["sha1", "SHA-1", "RSA-SHA1", "RSA-SHA1-2", "sha1WithRSAEncryption", "ssl3-sha1"]);
for (const [bits, hash] of [[224, sha224], [256, sha256], [384, sha384], [512, sha512]]) {
  names(hash, [`sha${bits}`, `SHA-${bits}`, `SHA2-${bits}`, `RSA-SHA${bits}`, `sha${bits}WithRSAEncryption`]);
}
for (const [bits, hash] of [[224, sha512_224], [256, sha512_256]]) {
  names(hash, [`sha512-${bits}`, `SHA-512/${bits}`, `SHA2-512/${bits}`, `RSA-SHA512/${bits}`, `sha512-${bits}WithRSAEncryption`]);
}

/** The noble hash for a Node digest name, or undefined. */
export function digestOf(name) {
  return typeof name === "string" ? DIGESTS.get(name.toLowerCase()) : undefined;
}

/** A digest name for pbkdf2, hkdf and createHmac: TypeError ERR_CRYPTO_INVALID_DIGEST when unknown. */
export function requireDigest(name) {
  const hash = digestOf(name);
  if (hash === undefined) throw nodeError(TypeError, "ERR_CRYPTO_INVALID_DIGEST", `Invalid digest: ${name}`);
  return hash;
}

/**
 * The names getHashes() lists: those of Node's own list that verge computes
 * (md5, sha1, sha224, sha256, sha384, sha512, sha512-224, sha512-256 and their aliases).
 */
export function getHashes() {
  return [
    "RSA-MD5", "RSA-SHA1", "RSA-SHA1-2", "RSA-SHA224", "RSA-SHA256", "RSA-SHA384", "RSA-SHA512", "RSA-SHA512/224", "RSA-SHA512/256",
    "md5", "md5WithRSAEncryption", "sha1", "sha1WithRSAEncryption", "sha224", "sha224WithRSAEncryption", "sha256", "sha256WithRSAEncryption",
    "sha384", "sha384WithRSAEncryption", "sha512", "sha512-224", "sha512-224WithRSAEncryption", "sha512-256", "sha512-256WithRSAEncryption",
    "sha512WithRSAEncryption", "ssl3-md5", "ssl3-sha1",
  ];
}

function finalized() {
  return nodeError(Error, "ERR_CRYPTO_HASH_FINALIZED", "Digest already called");
}

/** The bytes update() hashes: Node checks a hex string's length, and takes only strings and views. */
function updateBytes(data, encoding) {
  if (typeof data === "string") {
    if (normalizeEncoding(encoding) === "hex" && data.length % 2 !== 0) {
      throw invalidArgValue("encoding", encoding, `is invalid for data of length ${data.length}`);
    }
    return stringBytes(data, encoding);
  }
  if (!ArrayBuffer.isView(data)) throw invalidArgType("data", "of type string or an instance of Buffer, TypedArray, or DataView", data);
  return viewBytes(data);
}

const STATE = Symbol("state");

/** update() of a Hash or an Hmac: adds the bytes, refuses after digest(). */
function update(self, data, encoding) {
  const state = self[STATE];
  if (state.done) throw finalized();
  state.hash.update(updateBytes(data, encoding));
  return self;
}
const COPY = Symbol("copy");

/**
 * Node's Hash (not a stream here: write(), end() and pipe() are not provided).
 *
 * @example
 * createHash("sha256").update("hello").digest("hex");
 */
export class Hash {
  constructor(algorithm, options) {
    if (algorithm === COPY) {
      this[STATE] = { hash: options.clone(), done: false };
      return;
    }
    validateString(algorithm, "algorithm");
    const hash = digestOf(algorithm);
    if (hash === undefined) throw new Error("Digest method not supported");
    const length = options?.outputLength;
    if (length !== undefined && length !== hash.outputLen) {
      throw nodeError(Error, "ERR_OSSL_EVP_NOT_XOF_OR_INVALID_LENGTH", "error:030000B2:digital envelope routines::not XOF or invalid length");
    }
    this[STATE] = { hash: hash.create(), done: false };
  }

  update(data, encoding) {
    return update(this, data, encoding);
  }

  digest(outputEncoding) {
    const state = this[STATE];
    if (state.done) throw finalized();
    state.done = true;
    return encodeOutput(state.hash.digest(), outputEncoding);
  }

  copy() {
    const state = this[STATE];
    if (state.done) throw finalized();
    return new Hash(COPY, state.hash);
  }
}

/** The key of createHmac: a string (in options.encoding, default utf8) or bytes. KeyObject and CryptoKey are not supported. */
function hmacKey(key, encoding) {
  if (typeof key === "string") return stringBytes(key, encoding);
  return byteSource(key, "key", "of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey");
}

/**
 * Node's Hmac. As in Node, digest() a second time returns an empty Buffer (or "").
 *
 * @example
 * createHmac("sha256", "secret").update("message").digest("base64");
 */
export class Hmac {
  constructor(algorithm, key, options) {
    validateString(algorithm, "hmac");
    const bytes = hmacKey(key, options?.encoding);
    this[STATE] = { hash: hmac.create(requireDigest(algorithm), bytes), done: false };
  }

  update(data, encoding) {
    return update(this, data, encoding);
  }

  digest(outputEncoding) {
    const state = this[STATE];
    if (state.done) {
      const enc = outputEncoding || "buffer";
      if (enc !== "buffer" && normalizeEncoding(enc) === undefined) throw nodeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
      return encodeOutput(new Uint8Array(0), enc);
    }
    state.done = true;
    return encodeOutput(state.hash.digest(), outputEncoding);
  }
}

/** @example createHash("sha1").update("abc").digest("hex") */
export function createHash(algorithm, options) {
  return new Hash(algorithm, options);
}

/** @example createHmac("sha256", key).update(body).digest("hex") */
export function createHmac(algorithm, key, options) {
  return new Hmac(algorithm, key, options);
}

/**
 * Node's one-shot `crypto.hash(algorithm, data, options = "hex")` (Node 21.7+): options is
 * an output encoding or `{ outputEncoding, outputLength }` (the length must be the digest's: no XOF here).
 *
 * @example
 * hash("sha1", "abc"); // "a9993e36..."
 */
export function hash(algorithm, input, options) {
  validateString(algorithm, "algorithm");
  if (typeof input !== "string" && !ArrayBuffer.isView(input)) {
    throw invalidArgType("input", "of type string or an instance of Buffer, TypedArray, or DataView", input);
  }
  let outputEncoding = "hex";
  let outputLength;
  if (typeof options === "string") outputEncoding = options;
  else if (options !== undefined) {
    if (typeof options !== "object" || options === null) throw invalidArgType("options", "of type object", options);
    if (options.outputEncoding !== undefined) outputEncoding = options.outputEncoding;
    outputLength = options.outputLength;
    if (outputLength !== undefined && typeof outputLength !== "number") throw invalidArgType("outputLength", "of type number", outputLength);
  }
  let encoding = outputEncoding;
  if (outputEncoding !== "hex") {
    validateString(outputEncoding, "outputEncoding");
    encoding = normalizeEncoding(outputEncoding);
    if (encoding === undefined) {
      if (outputEncoding.toLowerCase() !== "buffer") throw invalidArgValue("outputEncoding", outputEncoding);
      encoding = "buffer";
    }
  }
  const fn = digestOf(algorithm);
  if (fn === undefined) throw new Error(`Digest method ${algorithm} is not supported`);
  if (outputLength !== undefined && outputLength !== fn.outputLen) {
    throw new Error(`Output length ${outputLength} is invalid for ${algorithm}, which does not support XOF`);
  }
  return encodeOutput(fn(typeof input === "string" ? stringBytes(input, "utf8") : viewBytes(input)), encoding);
}
