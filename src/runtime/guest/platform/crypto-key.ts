/**
 * CryptoKey (WebCrypto §13): a guest object holding only the host's
 * `KeyHandle` (an id in the isolate's key table plus the key's public facts).
 * The key material stays on the host; user code cannot construct or forge one.
 * CryptoKeys are serializable, so structuredClone copies the handle.
 */
import type { KeyHandle } from "../../bridge/protocol.ts";
import { registerCloneHook } from "./clone-rules.ts";

const CONSTRUCT = Symbol("CryptoKey.construct");

// Assigned by the class static block.
let handleOfImpl: (key: unknown) => KeyHandle | undefined;

export class CryptoKey {
  #handle: KeyHandle;
  #algorithm: Record<string, unknown>;
  #usages: string[];

  constructor(token?: unknown, handle?: KeyHandle) {
    if (token !== CONSTRUCT || handle === undefined) throw new TypeError("Illegal constructor");
    this.#handle = handle;
    this.#algorithm = copyAlgorithm(handle.algorithm);
    this.#usages = [...handle.usages];
  }

  get type(): string {
    return brand(this).#handle.type;
  }

  get extractable(): boolean {
    return brand(this).#handle.extractable;
  }

  /** The same object on every read ([SameObject] in the IDL). */
  get algorithm(): Record<string, unknown> {
    return brand(this).#algorithm;
  }

  get usages(): string[] {
    return brand(this).#usages;
  }

  static {
    handleOfImpl = (key) => (typeof key === "object" && key !== null && #handle in key ? key.#handle : undefined);
  }
}

for (const k of ["type", "extractable", "algorithm", "usages"]) Object.defineProperty(CryptoKey.prototype, k, { enumerable: true });

function brand(v: CryptoKey): CryptoKey {
  if (handleOfImpl(v) === undefined) throw new TypeError("Illegal invocation");
  return v;
}

function copyAlgorithm(a: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(a)) {
    const v = a[k];
    if (v instanceof Uint8Array) out[k] = v.slice();
    else if (typeof v === "object" && v !== null) out[k] = { ...(v as object) };
    else out[k] = v;
  }
  return out;
}

/** Wraps a handle that came from the host. */
export function keyFromHandle(handle: KeyHandle): CryptoKey {
  if (typeof handle !== "object" || handle === null || typeof handle.__key !== "number") throw new TypeError("crypto.subtle: malformed key from the host");
  return new CryptoKey(CONSTRUCT, handle);
}

/** The handle of a real CryptoKey, or undefined for anything else. */
export function handleOf(key: unknown): KeyHandle | undefined {
  return handleOfImpl(key);
}

registerCloneHook({
  test: (v) => handleOfImpl(v) !== undefined,
  clone: (v) => keyFromHandle(handleOfImpl(v)!),
});
