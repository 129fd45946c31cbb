/**
 * SubtleCrypto inside the isolate: a thin client of the host's WebCrypto
 * (bridge/subtle.ts). Each method converts its arguments to plain copies
 * (subtle-args.ts), runs the "subtle" op and converts the result back
 * (ArrayBuffer, boolean, CryptoKey, CryptoKeyPair, JsonWebKey). Every failure,
 * argument errors included, is a rejected promise, as WebIDL requires for
 * promise-returning operations.
 *
 * Also `timingSafeEqual(a, b)`, the Workers extension.
 *
 * @example
 * const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
 * const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("data"));
 */
import type { KeyHandle } from "../../bridge/protocol.ts";
import { callOp } from "../core/host.ts";
import { toArrayBuffer, viewBytes } from "./buffer-source.ts";
import { copyBytes } from "./buffer-source.ts";
import { keyFromHandle } from "./crypto-key.ts";
import type { CryptoKey } from "./crypto-key.ts";
import { algorithmArg, formatArg, keyArg, keyDataArg, usagesArg } from "./subtle-args.ts";

const CONSTRUCT = Symbol("SubtleCrypto.construct");

// Assigned by the class static block.
let isSubtle: (v: unknown) => boolean;

function arity(n: number, need: number, method: string): void {
  if (n < need) throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${need} arguments required, but only ${n} present.`);
}

function call(method: string, args: unknown[]): Promise<unknown> {
  return callOp("subtle", { method, args });
}

function bufferResult(v: unknown): ArrayBuffer {
  if (v instanceof ArrayBuffer) return v;
  if (v instanceof Uint8Array) return toArrayBuffer(v);
  throw new TypeError("crypto.subtle: unexpected result from the host");
}

function keyResult(v: unknown): CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey } {
  const r = v as KeyHandle | { publicKey: KeyHandle; privateKey: KeyHandle };
  if ("privateKey" in r) return { publicKey: keyFromHandle(r.publicKey), privateKey: keyFromHandle(r.privateKey) };
  return keyFromHandle(r);
}

/** Runs `body` so that synchronous conversion errors become a rejected promise. */
async function op<T>(self: unknown, body: () => Promise<T>): Promise<T> {
  if (!isSubtle(self)) throw new TypeError("Illegal invocation");
  return body();
}

export class SubtleCrypto {
  #brand = true;

  constructor(token?: unknown) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
  }

  encrypt(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 3, "encrypt");
      return bufferResult(await call("encrypt", [algorithmArg(algorithm, "algorithm"), keyArg(key, "key"), copyBytes(data, "data")]));
    });
  }

  decrypt(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 3, "decrypt");
      return bufferResult(await call("decrypt", [algorithmArg(algorithm, "algorithm"), keyArg(key, "key"), copyBytes(data, "data")]));
    });
  }

  sign(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 3, "sign");
      return bufferResult(await call("sign", [algorithmArg(algorithm, "algorithm"), keyArg(key, "key"), copyBytes(data, "data")]));
    });
  }

  verify(algorithm: unknown, key: CryptoKey, signature: unknown, data: unknown): Promise<boolean> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 4, "verify");
      const args = [algorithmArg(algorithm, "algorithm"), keyArg(key, "key"), copyBytes(signature, "signature"), copyBytes(data, "data")];
      return (await call("verify", args)) === true;
    });
  }

  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 2, "digest");
      return bufferResult(await call("digest", [algorithmArg(algorithm, "algorithm"), copyBytes(data, "data")]));
    });
  }

  generateKey(algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey }> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 3, "generateKey");
      return keyResult(await call("generateKey", [algorithmArg(algorithm, "algorithm"), Boolean(extractable), usagesArg(keyUsages, "keyUsages")]));
    });
  }

  deriveKey(algorithm: unknown, baseKey: CryptoKey, derivedKeyType: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 5, "deriveKey");
      const args = [
        algorithmArg(algorithm, "algorithm"),
        keyArg(baseKey, "baseKey"),
        algorithmArg(derivedKeyType, "derivedKeyType"),
        Boolean(extractable),
        usagesArg(keyUsages, "keyUsages"),
      ];
      return keyResult(await call("deriveKey", args)) as CryptoKey;
    });
  }

  deriveBits(algorithm: unknown, baseKey: CryptoKey, length?: number | null): Promise<ArrayBuffer> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 2, "deriveBits");
      const len = length === undefined || length === null ? null : Number(length);
      if (len !== null && (!Number.isFinite(len) || len < 0 || len > 0xffffffff)) throw new TypeError("length: Value is outside the 'unsigned long' value range");
      const args = [algorithmArg(algorithm, "algorithm"), keyArg(baseKey, "baseKey"), len === null ? null : Math.trunc(len)];
      return bufferResult(await call("deriveBits", args));
    });
  }

  importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 5, "importKey");
      const f = formatArg(format);
      const args = [f, keyDataArg(f, keyData), algorithmArg(algorithm, "algorithm"), Boolean(extractable), usagesArg(keyUsages, "keyUsages")];
      return keyResult(await call("importKey", args)) as CryptoKey;
    });
  }

  exportKey(format: unknown, key: CryptoKey): Promise<ArrayBuffer | Record<string, unknown>> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 2, "exportKey");
      const f = formatArg(format);
      const out = await call("exportKey", [f, keyArg(key, "key")]);
      return f === "jwk" ? (out as Record<string, unknown>) : bufferResult(out);
    });
  }

  wrapKey(format: unknown, key: CryptoKey, wrappingKey: CryptoKey, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 4, "wrapKey");
      const args = [formatArg(format), keyArg(key, "key"), keyArg(wrappingKey, "wrappingKey"), algorithmArg(wrapAlgorithm, "wrapAlgorithm")];
      return bufferResult(await call("wrapKey", args));
    });
  }

  unwrapKey(
    format: unknown,
    wrappedKey: unknown,
    unwrappingKey: CryptoKey,
    unwrapAlgorithm: unknown,
    unwrappedKeyAlgorithm: unknown,
    extractable: unknown,
    keyUsages: unknown,
  ): Promise<CryptoKey> {
    const n = arguments.length;
    return op(this, async () => {
      arity(n, 7, "unwrapKey");
      const args = [
        formatArg(format),
        copyBytes(wrappedKey, "wrappedKey"),
        keyArg(unwrappingKey, "unwrappingKey"),
        algorithmArg(unwrapAlgorithm, "unwrapAlgorithm"),
        algorithmArg(unwrappedKeyAlgorithm, "unwrappedKeyAlgorithm"),
        Boolean(extractable),
        usagesArg(keyUsages, "keyUsages"),
      ];
      return keyResult(await call("unwrapKey", args)) as CryptoKey;
    });
  }

  /** Workers extension: constant-time comparison of two equal-length buffers. */
  timingSafeEqual(a: unknown, b: unknown): boolean {
    if (!isSubtle(this)) throw new TypeError("Illegal invocation");
    const x = viewBytes(a, "timingSafeEqual: parameter 1");
    const y = viewBytes(b, "timingSafeEqual: parameter 2");
    if (x.byteLength !== y.byteLength) throw new TypeError("timingSafeEqual: the two buffers must have the same length");
    let diff = 0;
    for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ y[i]!;
    return diff === 0;
  }

  static {
    isSubtle = (v) => typeof v === "object" && v !== null && #brand in v;
  }
}

export function createSubtle(): SubtleCrypto {
  return new SubtleCrypto(CONSTRUCT);
}
