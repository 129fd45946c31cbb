/**
 * WebIDL conversions for crypto.subtle arguments, done in the guest so the host
 * only ever receives plain copies: algorithm dictionaries with their
 * BufferSource members copied to Uint8Array, CryptoKeys reduced to handles,
 * JsonWebKey dictionaries with only their IDL members. Semantic checks (known
 * algorithm, usages valid for the key...) are the host's.
 */
import type { KeyHandle } from "../../bridge/protocol.ts";
import { copyBytes } from "./buffer-source.ts";
import { handleOf } from "./crypto-key.ts";

type Dict = Record<string, unknown>;

const BYTE_MEMBERS = ["iv", "counter", "additionalData", "salt", "info", "label", "context", "publicExponent"];
const NUMBER_MEMBERS = ["length", "tagLength", "iterations", "saltLength", "modulusLength"];
const KEY_USAGES = new Set(["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]);
const KEY_FORMATS = new Set(["raw", "spki", "pkcs8", "jwk"]);
const JWK_STRINGS = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"];

/** `AlgorithmIdentifier` (object or DOMString) → plain dictionary copy. */
export function algorithmArg(v: unknown, what: string): Dict {
  if (typeof v !== "object" || v === null) {
    if (typeof v === "function") throw new TypeError(`${what}: not an algorithm`);
    return { name: String(v) };
  }
  const src = v as Dict;
  const name = src.name;
  if (name === undefined) throw new TypeError(`${what}: Algorithm: name: Missing or not a string`);
  const out: Dict = { name: String(name) };
  for (const k of BYTE_MEMBERS) {
    const x = src[k];
    if (x !== undefined) out[k] = copyBytes(x, `${what}.${k}`);
  }
  for (const k of NUMBER_MEMBERS) {
    const x = src[k];
    if (x !== undefined && x !== null) out[k] = enforceRange(x, `${what}.${k}`);
  }
  if (src.namedCurve !== undefined) out.namedCurve = String(src.namedCurve);
  if (src.hash !== undefined) out.hash = algorithmArg(src.hash, `${what}.hash`);
  if (src.public !== undefined) out.public = keyArg(src.public, `${what}.public`);
  return out;
}

/** WebIDL [EnforceRange] unsigned long: a TypeError for NaN, infinities and out-of-range values. */
function enforceRange(v: unknown, what: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new TypeError(`${what}: Value is not a finite number`);
  const t = Math.trunc(n);
  if (t < 0 || t > 0xffffffff) throw new TypeError(`${what}: Value is outside the 'unsigned long' value range`);
  return t;
}

export function keyArg(v: unknown, what: string): KeyHandle {
  const h = handleOf(v);
  if (h === undefined) throw new TypeError(`${what} is not of type 'CryptoKey'`);
  return h;
}

export function usagesArg(v: unknown, what: string): string[] {
  if (typeof v !== "object" || v === null || typeof (v as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${what}: The provided value cannot be converted to a sequence`);
  }
  const out: string[] = [];
  for (const u of v as Iterable<unknown>) {
    const s = String(u);
    if (!KEY_USAGES.has(s)) throw new TypeError(`${what}: '${s}' is not a valid enum value of type KeyUsage`);
    out.push(s);
  }
  return out;
}

export function formatArg(v: unknown): string {
  const s = String(v);
  if (!KEY_FORMATS.has(s)) throw new TypeError(`format: '${s}' is not a valid enum value of type KeyFormat`);
  return s;
}

/** `keyData` of importKey: a JsonWebKey dictionary for "jwk", a BufferSource otherwise. */
export function keyDataArg(format: string, v: unknown): Dict | Uint8Array {
  if (format !== "jwk") return copyBytes(v, "keyData");
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    throw new TypeError("keyData: a JsonWebKey object is required for format 'jwk'");
  }
  const src = v as Dict;
  const out: Dict = {};
  for (const k of JWK_STRINGS) if (src[k] !== undefined) out[k] = String(src[k]);
  if (src.ext !== undefined) out.ext = Boolean(src.ext);
  if (src.key_ops !== undefined) out.key_ops = sequence(src.key_ops, "keyData.key_ops").map(String);
  if (src.oth !== undefined) {
    out.oth = sequence(src.oth, "keyData.oth").map((o) => {
      const r = (o ?? {}) as Dict;
      return { r: String(r.r), d: String(r.d), t: String(r.t) };
    });
  }
  return out;
}

function sequence(v: unknown, what: string): unknown[] {
  if (typeof v !== "object" || v === null || typeof (v as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${what}: The provided value cannot be converted to a sequence`);
  }
  return [...(v as Iterable<unknown>)];
}
