/**
 * The node:crypto cases test/integration/node-crypto.test.ts runs on both
 * sides: many inputs, every encoding, every digest name, and the argument
 * errors. Inputs come from a seeded generator, so a failure repeats.
 */
import type { Case } from "./node-crypto-cases.ts";
import { seededRandom } from "../../src/shared/testing/seeded.ts";

function hex(random: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(random() * 256).toString(16).padStart(2, "0");
  return s;
}

const U = { $undefined: true };
const bytes = (h: string, type = "Buffer") => ({ $bytes: h, $type: type });

/** Every name verge accepts, in the spellings people write. */
export const DIGEST_NAMES = [
  "md5", "MD5", "RSA-MD5", "md5WithRSAEncryption", "ssl3-md5",
  "sha1", "SHA1", "SHA-1", "sha-1", "RSA-SHA1", "RSA-SHA1-2", "sha1WithRSAEncryption", "ssl3-sha1",
  "sha224", "SHA-224", "SHA2-224", "RSA-SHA224",
  "sha256", "SHA256", "Sha256", "SHA-256", "sha2-256", "RSA-SHA256", "rsa-sha256", "sha256WithRSAEncryption",
  "sha384", "SHA-384", "RSA-SHA384", "sha384WithRSAEncryption",
  "sha512", "SHA512", "SHA-512", "SHA2-512", "RSA-SHA512", "sha512WithRSAEncryption",
  "sha512-224", "SHA-512/224", "RSA-SHA512/224", "sha512-256", "SHA512-256", "sha2-512/256", "RSA-SHA512/256",
];
const CORE = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512-224", "sha512-256"];
const OUTPUTS: unknown[] = [U, "hex", "base64", "base64url", "latin1", "binary", "utf8", "utf-8", "ucs2", "utf16le", "ascii", "buffer", "HEX", "Base64", "bogus"];
const STRINGS = ["", "abc", "hello world", "héllo € 😀", "\ud800 lone", "a".repeat(1000), "The quick brown fox jumps over the lazy dog"];
const STRING_ENCODINGS: unknown[] = [U, "utf8", "latin1", "binary", "ascii", "ucs2", "utf16le", "bogus", "buffer"];
const VIEWS = ["Buffer", "Uint8Array", "DataView", "Uint16Array"];

/** An input to update(): a string in an encoding, or bytes in a view; `[data, encoding?]`. */
function input(random: () => number): unknown[] {
  const kind = random();
  if (kind < 0.4) return [STRINGS[Math.floor(random() * STRINGS.length)], STRING_ENCODINGS[Math.floor(random() * STRING_ENCODINGS.length)]];
  // Even lengths, so a Uint16Array can view them; block boundaries (64, 128) included.
  const n = [0, 2, 32, 54, 56, 64, 110, 112, 128, 200, 4096][Math.floor(random() * 11)]!;
  const h = hex(random, n);
  if (kind < 0.55) return [h, "hex"];
  if (kind < 0.65) return [Buffer.from(h, "hex").toString("base64"), "base64"];
  if (kind < 0.72) return [Buffer.from(h, "hex").toString("base64url"), "base64url"];
  return [bytes(h, VIEWS[Math.floor(random() * VIEWS.length)])];
}

export function hashCases(): Case[] {
  const random = seededRandom(1);
  const cases: Case[] = [];
  for (const name of DIGEST_NAMES) {
    for (const text of STRINGS.slice(0, 4)) cases.push({ make: "createHash", args: [name], steps: [[0, "update", text], [0, "digest", "hex"]] });
  }
  for (let i = 0; i < 300; i++) {
    const alg = CORE[i % CORE.length]!;
    const steps: [number, string, ...unknown[]][] = [];
    const parts = 1 + Math.floor(random() * 3);
    for (let p = 0; p < parts; p++) steps.push([0, "update", ...input(random)]);
    steps.push([0, "digest", OUTPUTS[Math.floor(random() * OUTPUTS.length)]]);
    cases.push({ make: "createHash", args: [alg], steps });
  }
  for (const alg of CORE) {
    // copy() carries the state: both continue independently.
    cases.push({ make: "createHash", args: [alg], steps: [[0, "update", "ab"], [0, "copy"], [0, "update", "c"], [1, "update", "d"], [0, "digest", "hex"], [1, "digest", "base64"], [1, "copy"], [0, "update", "x"], [0, "digest"]] });
  }
  // Errors: unknown and non-string names, odd hex, bad data types, and use after digest().
  cases.push({ make: "createHash", args: ["sha3-999"], steps: [] });
  cases.push({ make: "createHash", args: [5], steps: [] });
  cases.push({ make: "createHash", args: [U], steps: [] });
  cases.push({ make: "createHash", args: ["sha256", { outputLength: 32 }], steps: [[0, "digest", "hex"]] });
  cases.push({ make: "createHash", args: ["sha256", { outputLength: 16 }], steps: [] });
  cases.push({ make: "createHash", args: ["sha256"], steps: [[0, "update", "abc", "hex"], [0, "update", "abc", "HEX"], [0, "update", 5], [0, "update", null], [0, "update", U], [0, "update", bytes("0102", "ArrayBuffer")], [0, "update", { a: 1 }], [0, "update", "zz", "hex"], [0, "digest", "hex"]] });
  cases.push({ make: "createHash", args: ["sha256"], steps: [[0, "digest"], [0, "digest"], [0, "update", "x"], [0, "copy"], [0, "update", 5]] });
  return cases;
}

export function hmacCases(): Case[] {
  const random = seededRandom(2);
  const cases: Case[] = [];
  const keys: unknown[][] = [
    ["key"], [""], ["k".repeat(200)], ["héllo"], [bytes(hex(random, 16))], [bytes(hex(random, 200), "Uint8Array")], [bytes(hex(random, 64), "DataView")],
    [bytes(hex(random, 20), "ArrayBuffer")], [bytes(hex(random, 128), "Uint16Array")], [bytes("")], ["6b6579", { encoding: "hex" }], ["a2V5", { encoding: "base64" }],
  ];
  for (let i = 0; i < 160; i++) {
    const alg = i < DIGEST_NAMES.length ? DIGEST_NAMES[i]! : CORE[i % CORE.length]!;
    const key = keys[i % keys.length]!;
    const steps: [number, string, ...unknown[]][] = [[0, "update", ...input(random)], [0, "update", ...input(random)], [0, "digest", OUTPUTS[Math.floor(random() * OUTPUTS.length)]]];
    cases.push({ make: "createHmac", args: [alg, ...key], steps });
  }
  // A second digest() gives an empty result; update() after it throws.
  cases.push({ make: "createHmac", args: ["sha256", "k"], steps: [[0, "digest", "hex"], [0, "digest"], [0, "digest", "hex"], [0, "digest", "base64"], [0, "update", "x"]] });
  cases.push({ make: "createHmac", args: ["nope", "k"], steps: [] });
  cases.push({ make: "createHmac", args: [5, "k"], steps: [] });
  for (const key of [5, null, U, { a: 1 }, true]) cases.push({ make: "createHmac", args: ["sha256", key], steps: [] });
  cases.push({ make: "createHmac", args: ["nope", 5], steps: [] });
  // One-shot hash(): default hex, every output encoding, bytes, errors.
  for (const alg of [...CORE, "SHA-256", "RSA-SHA1"]) {
    cases.push({ call: "hash", args: [alg, "abc"] });
    cases.push({ call: "hash", args: [alg, bytes(hex(random, 100), "Uint8Array")] });
    for (const out of ["base64", "base64url", "buffer", "BUFFER", "latin1", "utf8", "ucs2"]) cases.push({ call: "hash", args: [alg, STRINGS[3], out] });
  }
  for (const args of [["sha256", 5], ["sha256", "a", "bogus"], ["sha256", "a", 5], ["nope", "a"], [5, "a"], ["sha256", bytes("00", "ArrayBuffer")], ["sha256", "a", U], ["nope", "a", { outputLength: 4 }],
    ["sha256", "a", { outputEncoding: "base64" }], ["sha256", "a", {}], ["sha256", "a", { outputLength: 32 }], ["sha256", "a", { outputLength: 16 }], ["md5", "a", { outputEncoding: "buffer" }],
    ["sha256", "a", { outputEncoding: 5 }], ["sha256", "a", null], ["sha256", "a", { outputEncoding: "bogus" }], ["sha256", "a", { outputLength: "x" }]]) {
    cases.push({ call: "hash", args });
  }
  return cases;
}

export function kdfCases(): Case[] {
  const random = seededRandom(3);
  const cases: Case[] = [];
  for (const digest of [...CORE, "SHA-256", "RSA-SHA512"]) {
    for (const [iterations, keylen] of [[1, 1], [1, 20], [2, 32], [1000, 64], [3, 100], [1, 200]]) {
      cases.push({ call: "pbkdf2Sync", args: ["password", "salt", iterations, keylen, digest] });
    }
    cases.push({ call: "pbkdf2Sync", args: [bytes(hex(random, 30), "Uint8Array"), bytes(hex(random, 16), "DataView"), 7, 33, digest] });
    cases.push({ call: "pbkdf2Sync", args: [bytes(hex(random, 200)), bytes(hex(random, 16), "ArrayBuffer"), 2, 16, digest] });
    cases.push({ call: "pbkdf2Sync", args: ["héllo", "", 1, 16, digest] });
    for (const keylen of [1, 16, 42, 100]) cases.push({ call: "hkdfSync", args: [digest, "ikm", "salt", "info", keylen] });
    cases.push({ call: "hkdfSync", args: [digest, bytes(hex(random, 22)), bytes(hex(random, 13), "Uint8Array"), bytes(hex(random, 10), "DataView"), 42] });
    cases.push({ call: "hkdfSync", args: [digest, "", "", "", 10] });
    cases.push({ call: "hkdfSync", args: [digest, "k", bytes(hex(random, 8), "ArrayBuffer"), "i".repeat(1024), 16] });
  }
  // Largest lengths hkdf allows, and one past them.
  for (const [digest, len] of [["sha256", 32], ["sha1", 20], ["sha512", 64], ["md5", 16]] as const) {
    cases.push({ call: "hkdfSync", args: [digest, "k", "s", "i", 255 * len] });
    cases.push({ call: "hkdfSync", args: [digest, "k", "s", "i", 255 * len + 1] });
  }
  const badPbkdf2: unknown[][] = [
    ["p", "s", 1, 32], ["p", "s", 1, 32, U], ["p", "s", 1, 32, "nope"], ["p", "s", 0, 32, "sha256"], ["p", "s", 1.5, 32, "sha256"], ["p", "s", "1", 32, "sha256"],
    ["p", "s", 2 ** 31, 32, "sha256"], ["p", "s", 1, -1, "sha256"], ["p", "s", 1, 0, "sha256"], [5, "s", 1, 1, "sha256"], ["p", null, 1, 1, "sha256"], ["p", "s", 1, 1, 5],
  ];
  for (const args of badPbkdf2) cases.push({ call: "pbkdf2Sync", args });
  const badHkdf: unknown[][] = [
    ["sha256", "k", "s", "i"], ["sha256", "k", "s", "i", 0], ["sha256", "k", "s", "i", -1], ["sha256", "k", "s", "i", 1.5], ["sha256", "k", "s", "i", "4"],
    ["nope", "k", "s", "i", 4], [5, "k", "s", "i", 4], ["sha256", 5, "s", "i", 4], ["sha256", "k", 5, "i", 4], ["sha256", "k", "s", 5, 4], ["sha256", "k", "s", "x".repeat(1025), 4],
  ];
  for (const args of badHkdf) cases.push({ call: "hkdfSync", args });
  // Callback forms: the result, or the error, through the callback; argument errors thrown.
  cases.push({ callback: "pbkdf2", args: ["password", "salt", 3, 40, "sha256"] });
  cases.push({ callback: "pbkdf2", args: ["password", "salt", 1, 0, "sha256"] });
  cases.push({ callback: "pbkdf2", args: ["password", "salt", 1, 10, "nope"] });
  cases.push({ callback: "pbkdf2", args: ["password", "salt", 0, 10, "sha256"] });
  cases.push({ callback: "hkdf", args: ["sha384", "ikm", "salt", "info", 50] });
  cases.push({ callback: "hkdf", args: ["sha256", "ikm", "salt", "info", 0] });
  cases.push({ callback: "hkdf", args: ["nope", "ikm", "salt", "info", 10] });
  cases.push({ call: "pbkdf2", args: ["p", "s", 1, 1, "sha256"] });
  cases.push({ call: "hkdf", args: ["sha256", "k", "s", "i", 4] });
  return cases;
}

export function errorCases(): Case[] {
  const cases: Case[] = [];
  const pairs: unknown[][] = [
    [bytes("6162"), bytes("6162")], [bytes("6162"), bytes("6163")], [bytes("61"), bytes("6162")], [bytes(""), bytes("")],
    [bytes("0102", "Uint16Array"), bytes("0102")], [bytes("0102", "ArrayBuffer"), bytes("0102", "DataView")],
    ["a", bytes("61")], [bytes("61"), "a"], [null, null], [bytes("6162"), 5],
  ];
  for (const args of pairs) cases.push({ call: "timingSafeEqual", args });
  for (const size of [-1, "1", 2 ** 31, null, 2.5e9]) cases.push({ call: "randomBytes", args: [size] });
  cases.push({ call: "randomBytes", args: [0] });
  cases.push({ call: "randomBytes", args: [1, "not a function"] });
  for (const args of [[5, 5], [0, 2 ** 48 + 1], [2 ** 48 + 1], [1.5], ["a"], [-1], [2 ** 53, 2 ** 53 + 1], [0, 1.5], [3, 1, "cb"]]) cases.push({ call: "randomInt", args });
  for (const args of [[bytes("00000000", "Uint8Array"), 5], [bytes("00000000", "Uint8Array"), 1, 4], ["x"], [bytes("00000000", "Uint8Array"), -1], [bytes("00000000", "Uint8Array"), "1"], [bytes("00000000", "Uint16Array"), 2], [bytes("00000000", "Uint8Array"), 0, 0], [bytes("00000000", "Uint8Array"), 4]]) {
    cases.push({ call: "randomFillSync", args });
  }
  cases.push({ call: "randomFill", args: [bytes("0000", "Uint8Array"), 0, 1] });
  cases.push({ callback: "randomFill", args: ["x"] });
  cases.push({ call: "randomUUID", args: [5] });
  return cases;
}
