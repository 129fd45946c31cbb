/**
 * The host half of `crypto.subtle` (the "subtle" op of protocol.ts), backed by
 * Node's WebCrypto. Key material never enters the isolate: each isolate gets
 * its own key table (id → CryptoKey) and the guest holds `KeyHandle` copies.
 *
 * Every argument is untrusted plain data copied out of the isolate: methods are
 * allow-listed and every shape is checked and rebuilt before Node sees it.
 * Failures reject with an Error whose `name` is the WebCrypto DOMException name
 * (NotSupportedError, InvalidAccessError, OperationError, DataError,
 * SyntaxError...) or TypeError, which the guest rethrows as that class.
 *
 * Limits (host CPU spent here is not charged to the isolate's CPU budget):
 * PBKDF2 iterations ≤ 100 000 (as Workers), RSA modulus ≤ 4096 bits,
 * deriveBits ≤ 64 KiB, inputs ≤ 64 MiB, and a key table of `maxKeys` entries.
 * isolated-vm runs no FinalizationRegistry callbacks, so the host never learns
 * that the guest dropped a key: the table evicts the least recently used key
 * when full (using an evicted key is an InvalidAccessError), and imports of
 * identical key data share one entry, so importing a key per request does not fill the table.
 *
 * Non-standard: "MD5" for `digest` (Workers has it for legacy protocols).
 */
import { createHash, webcrypto } from "node:crypto";
import type { KeyHandle } from "./protocol.ts";

type NodeKey = webcrypto.CryptoKey;
type Dict = Record<string, unknown>;

export interface SubtleHostOptions {
  /** Keys one isolate may hold at once (default 4096); the least recently used is evicted past it. */
  maxKeys?: number;
}

export interface SubtleHost {
  call(method: string, args: unknown[]): Promise<unknown>;
  dispose(): void;
}

/** A failure with the WebCrypto error name the guest rethrows. */
export class SubtleError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const MAX_DATA = 64 * 1024 * 1024;
const MAX_PBKDF2_ITERATIONS = 100_000;
const MAX_RSA_BITS = 4096;
const MAX_DERIVE_BITS = 64 * 1024 * 8;

const ALGORITHMS = [
  "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP", "ECDSA", "ECDH", "AES-CTR", "AES-CBC", "AES-GCM", "AES-KW", "HMAC",
  "SHA-1", "SHA-256", "SHA-384", "SHA-512", "HKDF", "PBKDF2", "Ed25519", "X25519", "Ed448", "X448", "MD5",
];
const CANONICAL = new Map(ALGORITHMS.map((n) => [n.toUpperCase(), n]));
const HASHES = new Set(["SHA-1", "SHA-256", "SHA-384", "SHA-512"]);
const USAGES = new Set(["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]);
const FORMATS = new Set(["raw", "spki", "pkcs8", "jwk"]);
const BYTE_MEMBERS = ["iv", "counter", "additionalData", "salt", "info", "label", "context", "publicExponent"];
const INT_MEMBERS = ["length", "tagLength", "iterations", "saltLength", "modulusLength"];
const JWK_STRINGS = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"];
/** DOMException names Node's WebCrypto uses that the guest may see as-is. */
const PASS_NAMES = new Set(["NotSupportedError", "InvalidAccessError", "OperationError", "DataError", "SyntaxError", "QuotaExceededError", "InvalidStateError", "TypeError"]);
/** Methods and their argument count range. */
const METHODS: Record<string, [number, number]> = {
  encrypt: [3, 3], decrypt: [3, 3], sign: [3, 3], verify: [4, 4], digest: [2, 2], generateKey: [3, 3],
  deriveKey: [5, 5], deriveBits: [2, 3], importKey: [5, 5], exportKey: [2, 2], wrapKey: [4, 4], unwrapKey: [7, 7],
};

const typeError = (m: string) => new SubtleError("TypeError", m);
const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer);

function bytes(v: unknown, what: string): Uint8Array {
  let out: Uint8Array;
  if (v instanceof ArrayBuffer) out = new Uint8Array(v);
  else if (ArrayBuffer.isView(v)) out = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  else throw typeError(`${what} is not a BufferSource`);
  if (out.byteLength > MAX_DATA) throw new SubtleError("QuotaExceededError", `${what} is larger than ${MAX_DATA} bytes`);
  return out;
}

function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw typeError(`${what} must be an integer in 0..2^32-1`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length > 4096) throw typeError(`${what} must be a string`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw typeError(`${what} must be a boolean`);
  return v;
}

function usages(v: unknown, what: string): webcrypto.KeyUsage[] {
  if (!Array.isArray(v) || v.length > 16) throw typeError(`${what} must be a list of key usages`);
  for (const u of v) if (typeof u !== "string" || !USAGES.has(u)) throw typeError(`${what}: '${String(u).slice(0, 40)}' is not a valid KeyUsage`);
  return [...v] as webcrypto.KeyUsage[];
}

function format(v: unknown): "raw" | "spki" | "pkcs8" | "jwk" {
  if (typeof v !== "string" || !FORMATS.has(v)) throw typeError(`format: '${String(v).slice(0, 40)}' is not a valid KeyFormat`);
  return v as "raw" | "spki" | "pkcs8" | "jwk";
}

function jwk(v: unknown): webcrypto.JsonWebKey {
  if (!isDict(v)) throw typeError("keyData must be a JsonWebKey object for format 'jwk'");
  const out: Dict = {};
  for (const k of JWK_STRINGS) if (v[k] !== undefined) out[k] = str(v[k], `jwk.${k}`);
  if (v.ext !== undefined) out.ext = bool(v.ext, "jwk.ext");
  if (v.key_ops !== undefined) {
    if (!Array.isArray(v.key_ops) || v.key_ops.length > 16) throw typeError("jwk.key_ops must be a list of strings");
    out.key_ops = v.key_ops.map((x, i) => str(x, `jwk.key_ops[${i}]`));
  }
  if (v.oth !== undefined) {
    if (!Array.isArray(v.oth) || v.oth.length > 16) throw typeError("jwk.oth must be a list");
    out.oth = v.oth.map((o, i) => {
      if (!isDict(o)) throw typeError(`jwk.oth[${i}] must be an object`);
      return { r: str(o.r, `jwk.oth[${i}].r`), d: str(o.d, `jwk.oth[${i}].d`), t: str(o.t, `jwk.oth[${i}].t`) };
    });
  }
  return out as webcrypto.JsonWebKey;
}

export function createSubtleHost(options: SubtleHostOptions = {}): SubtleHost {
  const maxKeys = options.maxKeys ?? 4096;
  const keys = new Map<number, { key: NodeKey; handle: KeyHandle; dedupe?: string }>();
  const imported = new Map<string, number>();
  let nextId = 1;
  let disposed = false;

  function register(key: NodeKey, dedupe?: string): KeyHandle {
    while (keys.size >= maxKeys) {
      const [oldest, entry] = keys.entries().next().value!;
      keys.delete(oldest);
      if (entry.dedupe !== undefined && imported.get(entry.dedupe) === oldest) imported.delete(entry.dedupe);
    }
    const handle: KeyHandle = {
      __key: nextId++,
      type: key.type,
      extractable: key.extractable,
      algorithm: plainAlgorithm(key.algorithm as unknown as Dict),
      usages: [...key.usages],
    };
    keys.set(handle.__key, dedupe === undefined ? { key, handle } : { key, handle, dedupe });
    if (dedupe !== undefined) imported.set(dedupe, handle.__key);
    return handle;
  }

  function lookup(v: unknown, what: string): NodeKey {
    if (!isDict(v) || typeof v.__key !== "number") throw typeError(`${what} is not a CryptoKey`);
    const entry = keys.get(v.__key);
    if (entry === undefined) {
      throw new SubtleError("InvalidAccessError", `${what} is no longer available: more than ${maxKeys} keys were created in this isolate`);
    }
    touch(v.__key);
    return entry.key;
  }

  /** Marks a key most recently used: Map order is the eviction order. */
  function touch(id: number) {
    const entry = keys.get(id);
    if (entry !== undefined) {
      keys.delete(id);
      keys.set(id, entry);
    }
    return entry;
  }

  function algorithm(v: unknown, what: string): Dict {
    if (!isDict(v)) throw typeError(`${what} must be an algorithm object`);
    if (typeof v.name !== "string") throw typeError(`${what}.name must be a string`);
    const name = CANONICAL.get(v.name.toUpperCase());
    if (name === undefined) throw new SubtleError("NotSupportedError", `Unrecognized algorithm name '${v.name.slice(0, 60)}'`);
    const out: Dict = { name };
    for (const k of BYTE_MEMBERS) if (v[k] !== undefined) out[k] = bytes(v[k], `${what}.${k}`);
    for (const k of INT_MEMBERS) if (v[k] !== undefined && v[k] !== null) out[k] = int(v[k], `${what}.${k}`);
    if (v.namedCurve !== undefined) out.namedCurve = str(v.namedCurve, `${what}.namedCurve`);
    if (v.hash !== undefined) {
      const hash = algorithm(v.hash, `${what}.hash`);
      if (!HASHES.has(hash.name as string)) throw new SubtleError("NotSupportedError", `${what}.hash: '${String(hash.name)}' is not a supported hash`);
      out.hash = { name: hash.name };
    }
    if (v.public !== undefined) out.public = lookup(v.public, `${what}.public`);
    if (name === "PBKDF2" && typeof out.iterations === "number" && out.iterations > MAX_PBKDF2_ITERATIONS) {
      throw new SubtleError("NotSupportedError", `PBKDF2 iteration counts above ${MAX_PBKDF2_ITERATIONS} are not supported (requested ${out.iterations})`);
    }
    if (typeof out.modulusLength === "number" && out.modulusLength > MAX_RSA_BITS) {
      throw new SubtleError("NotSupportedError", `RSA modulus lengths above ${MAX_RSA_BITS} bits are not supported`);
    }
    return out;
  }

  function keyResult(result: NodeKey | webcrypto.CryptoKeyPair): unknown {
    if ("privateKey" in result) return { publicKey: register(result.publicKey), privateKey: register(result.privateKey) };
    return register(result);
  }

  async function run(method: string, a: unknown[]): Promise<unknown> {
    const subtle = webcrypto.subtle;
    switch (method) {
      case "digest": {
        const alg = algorithm(a[0], "algorithm");
        const data = bytes(a[1], "data");
        if (alg.name === "MD5") return bufferOf(createHash("md5").update(data).digest());
        return subtle.digest(alg as unknown as webcrypto.AlgorithmIdentifier, data);
      }
      case "encrypt":
      case "decrypt":
      case "sign":
        return subtle[method](algorithm(a[0], "algorithm") as never, lookup(a[1], "key"), bytes(a[2], "data"));
      case "verify":
        return subtle.verify(algorithm(a[0], "algorithm") as never, lookup(a[1], "key"), bytes(a[2], "signature"), bytes(a[3], "data"));
      case "generateKey":
        return keyResult(await subtle.generateKey(algorithm(a[0], "algorithm") as never, bool(a[1], "extractable"), usages(a[2], "keyUsages")));
      case "deriveKey":
        return register(
          await subtle.deriveKey(
            algorithm(a[0], "algorithm") as never,
            lookup(a[1], "baseKey"),
            algorithm(a[2], "derivedKeyType") as never,
            bool(a[3], "extractable"),
            usages(a[4], "keyUsages"),
          ),
        );
      case "deriveBits": {
        const length = a[2] === undefined || a[2] === null ? null : int(a[2], "length");
        if (length !== null && length > MAX_DERIVE_BITS) throw new SubtleError("OperationError", `deriveBits: length above ${MAX_DERIVE_BITS} bits is not supported`);
        return subtle.deriveBits(algorithm(a[0], "algorithm") as never, lookup(a[1], "baseKey"), length as number);
      }
      case "importKey": {
        const fmt = format(a[0]);
        const data = fmt === "jwk" ? jwk(a[1]) : bytes(a[1], "keyData");
        const alg = algorithm(a[2], "algorithm");
        const extractable = bool(a[3], "extractable");
        const use = usages(a[4], "keyUsages");
        const dedupe = importIdentity(fmt, data, alg, extractable, use);
        const existing = dedupe === undefined ? undefined : imported.get(dedupe);
        const known = existing === undefined ? undefined : touch(existing);
        if (known !== undefined) return known.handle;
        const key = await subtle.importKey(fmt as never, data as never, alg as never, extractable, use);
        return register(key, dedupe);
      }
      case "exportKey": {
        const out = await subtle.exportKey(format(a[0]) as never, lookup(a[1], "key"));
        return out instanceof ArrayBuffer ? out : JSON.parse(JSON.stringify(out));
      }
      case "wrapKey":
        return subtle.wrapKey(format(a[0]), lookup(a[1], "key"), lookup(a[2], "wrappingKey"), algorithm(a[3], "wrapAlgorithm") as never);
      case "unwrapKey":
        return register(
          await subtle.unwrapKey(
            format(a[0]),
            bytes(a[1], "wrappedKey"),
            lookup(a[2], "unwrappingKey"),
            algorithm(a[3], "unwrapAlgorithm") as never,
            algorithm(a[4], "unwrappedKeyAlgorithm") as never,
            bool(a[5], "extractable"),
            usages(a[6], "keyUsages"),
          ),
        );
    }
    throw new SubtleError("NotSupportedError", `crypto.subtle has no method '${method}'`);
  }

  return {
    async call(method, args) {
      if (disposed) throw new SubtleError("InvalidStateError", "crypto.subtle: the isolate was disposed");
      const arity = typeof method === "string" && Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
      if (arity === undefined) throw new SubtleError("NotSupportedError", `crypto.subtle has no method '${String(method).slice(0, 40)}'`);
      if (!Array.isArray(args) || args.length < arity[0] || args.length > arity[1]) {
        throw typeError(`crypto.subtle.${method}: expected ${arity[0]} arguments, found ${Array.isArray(args) ? args.length : "none"}`);
      }
      try {
        return await run(method, args);
      } catch (err) {
        throw toSubtleError(err);
      }
    },
    dispose() {
      disposed = true;
      keys.clear();
      imported.clear();
    },
  };
}

/** The identity of an import, so identical imports share a key-table entry; undefined for huge inputs. */
function importIdentity(fmt: string, data: Uint8Array | webcrypto.JsonWebKey, alg: Dict, extractable: boolean, use: string[]): string | undefined {
  const h = createHash("sha256");
  h.update(fmt + "\0");
  if (data instanceof Uint8Array) {
    if (data.byteLength > 16 * 1024) return undefined;
    h.update(data);
  } else h.update(JSON.stringify(data));
  h.update(JSON.stringify(alg, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v)));
  h.update(`\0${extractable}`);
  // Usages order is not part of the key's identity: the handle returned carries the caller's order.
  h.update(JSON.stringify([...new Set(use)].sort()));
  return h.digest("base64");
}

/** A key's algorithm as plain data (publicExponent copied, hash reduced to its name). */
function plainAlgorithm(a: Dict): Dict {
  const out: Dict = {};
  for (const [k, v] of Object.entries(a)) {
    if (v instanceof Uint8Array) out[k] = new Uint8Array(v);
    else if (isDict(v)) out[k] = { name: String(v.name) };
    else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
  }
  return out;
}

function bufferOf(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function toSubtleError(err: unknown): SubtleError {
  if (err instanceof SubtleError) return err;
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  let name = typeof e?.name === "string" ? e.name : "OperationError";
  // Node names this one "InvalidAccessException"; WebCrypto says InvalidAccessError.
  if (name === "InvalidAccessException") name = "InvalidAccessError";
  const message = typeof e?.message === "string" ? e.message : "The operation failed for an operation-specific reason";
  return new SubtleError(PASS_NAMES.has(name) ? name : "OperationError", message);
}
