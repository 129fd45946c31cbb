/**
 * verge's `node:crypto` for `nodejs_compat`: what Workers' node:crypto gives
 * for the common cases, with Node's semantics, bundled into a function only
 * when it imports `node:crypto` (or `crypto`).
 *
 * - hashing: createHash, createHmac, hash, getHashes, Hash, Hmac (md5, sha1,
 *   sha224, sha256, sha384, sha512, sha512-224, sha512-256, over @noble/hashes);
 * - key derivation: pbkdf2, pbkdf2Sync, hkdf, hkdfSync;
 * - randomness: randomBytes, randomFill, randomFillSync, randomInt, randomUUID,
 *   getRandomValues, and timingSafeEqual;
 * - webcrypto (the isolate's `crypto`) and subtle (`crypto.subtle`).
 *
 * Everything runs as JavaScript inside the isolate, never on the host, so the
 * function's CPU budget covers it. The rest of Node's API (ciphers, signatures,
 * key objects, scrypt, Diffie-Hellman...) is present by name and throws, when
 * called, an Error saying verge does not provide it: libraries that import the
 * whole module still load, and one that uses such a function fails clearly.
 */
import { createHash, createHmac, getHashes, hash, Hash, Hmac } from "./crypto-hash.js";
import { hkdf, hkdfSync, pbkdf2, pbkdf2Sync } from "./crypto-kdf.js";
import { getRandomValues, randomBytes, randomFill, randomFillSync, randomInt, randomUUID, timingSafeEqual } from "./crypto-random.js";
import { nodeError } from "./node-errors.js";

export { createHash, createHmac, getHashes, hash, Hash, Hmac, hkdf, hkdfSync, pbkdf2, pbkdf2Sync };
export { getRandomValues, randomBytes, randomFill, randomFillSync, randomInt, randomUUID, timingSafeEqual };

/** The isolate's Web Crypto, as Workers' node:crypto exposes it. */
export const webcrypto = globalThis.crypto;
/** SubtleCrypto (the isolate's `crypto.subtle`). */
export const subtle = globalThis.crypto.subtle;
/** Node's `pseudoRandomBytes` and `prng`/`rng` are old names of randomBytes. */
export const pseudoRandomBytes = randomBytes;
export const prng = randomBytes;
export const rng = randomBytes;
/** No cipher, curve or OpenSSL constant is available: the lists are empty, so feature checks take their fallback. */
export function getCiphers() {
  return [];
}
export function getCurves() {
  return [];
}
export const constants = Object.freeze({});

/**
 * A stand-in for a Node function (or class) verge does not provide: it loads,
 * `instanceof` against it is false, and calling or constructing it throws.
 */
function unsupported(name) {
  // A function expression (not a method), so it is constructible: `new KeyObject()` throws the same message.
  return {
    [name]: function () {
      throw nodeError(
        Error,
        "ERR_METHOD_NOT_IMPLEMENTED",
        `crypto.${name} is not supported: verge's nodejs_compat provides createHash, createHmac, hash, pbkdf2, hkdf, the random functions, timingSafeEqual, webcrypto and subtle only (use crypto.subtle, Web Crypto, for ciphers, signatures and keys)`,
      );
    },
  }[name];
}

export const createCipheriv = unsupported("createCipheriv");
export const createDecipheriv = unsupported("createDecipheriv");
export const createSign = unsupported("createSign");
export const createVerify = unsupported("createVerify");
export const sign = unsupported("sign");
export const verify = unsupported("verify");
export const generateKeyPair = unsupported("generateKeyPair");
export const generateKeyPairSync = unsupported("generateKeyPairSync");
export const generateKey = unsupported("generateKey");
export const generateKeySync = unsupported("generateKeySync");
export const createPrivateKey = unsupported("createPrivateKey");
export const createPublicKey = unsupported("createPublicKey");
export const createSecretKey = unsupported("createSecretKey");
export const KeyObject = unsupported("KeyObject");
export const scrypt = unsupported("scrypt");
export const scryptSync = unsupported("scryptSync");
export const createDiffieHellman = unsupported("createDiffieHellman");
export const createDiffieHellmanGroup = unsupported("createDiffieHellmanGroup");
export const getDiffieHellman = unsupported("getDiffieHellman");
export const diffieHellman = unsupported("diffieHellman");
export const createECDH = unsupported("createECDH");
export const publicEncrypt = unsupported("publicEncrypt");
export const publicDecrypt = unsupported("publicDecrypt");
export const privateEncrypt = unsupported("privateEncrypt");
export const privateDecrypt = unsupported("privateDecrypt");
export const checkPrime = unsupported("checkPrime");
export const checkPrimeSync = unsupported("checkPrimeSync");
export const generatePrime = unsupported("generatePrime");
export const generatePrimeSync = unsupported("generatePrimeSync");
export const secureHeapUsed = unsupported("secureHeapUsed");
export const setEngine = unsupported("setEngine");
export const setFips = unsupported("setFips");
export const getFips = unsupported("getFips");
export const Certificate = unsupported("Certificate");
export const X509Certificate = unsupported("X509Certificate");
export const Cipheriv = unsupported("Cipheriv");
export const Decipheriv = unsupported("Decipheriv");
export const Sign = unsupported("Sign");
export const Verify = unsupported("Verify");
export const DiffieHellman = unsupported("DiffieHellman");
export const DiffieHellmanGroup = unsupported("DiffieHellmanGroup");
export const ECDH = unsupported("ECDH");

export default {
  createHash, createHmac, getHashes, hash, Hash, Hmac, hkdf, hkdfSync, pbkdf2, pbkdf2Sync,
  getRandomValues, randomBytes, randomFill, randomFillSync, randomInt, randomUUID, timingSafeEqual,
  webcrypto, subtle, pseudoRandomBytes, prng, rng, getCiphers, getCurves, constants,
  createCipheriv, createDecipheriv, createSign, createVerify, sign, verify, generateKeyPair, generateKeyPairSync,
  generateKey, generateKeySync, createPrivateKey, createPublicKey, createSecretKey, KeyObject, scrypt, scryptSync,
  createDiffieHellman, createDiffieHellmanGroup, getDiffieHellman, diffieHellman, createECDH,
  publicEncrypt, publicDecrypt, privateEncrypt, privateDecrypt, checkPrime, checkPrimeSync, generatePrime, generatePrimeSync,
  secureHeapUsed, setEngine, setFips, getFips, Certificate, X509Certificate,
  Cipheriv, Decipheriv, Sign, Verify, DiffieHellman, DiffieHellmanGroup, ECDH,
};
