/**
 * The `crypto` global (WebCrypto §10): getRandomValues and randomUUID through
 * the host's synchronous random source, `subtle`, and the Workers extra
 * `crypto.DigestStream`.
 *
 * @example
 * const id = crypto.randomUUID();
 * const nonce = crypto.getRandomValues(new Uint8Array(12));
 */
import { host } from "../core/host.ts";
import { DOMException } from "./dom-exception.ts";
import { chunk } from "../core/lazy.ts";
import type { SubtleCrypto } from "./subtle.ts";

const CONSTRUCT = Symbol("Crypto.construct");
const MAX_RANDOM_BYTES = 65536;

const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag)!.get!;
/** getRandomValues accepts integer typed arrays only (WebCrypto §10.1.1 step 1). */
const INTEGER_ARRAYS = new Set([
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array",
]);

export class Crypto {
  /** Made on first read: SubtleCrypto is a lazy part (core/lazy.ts). */
  #subtle: SubtleCrypto | undefined = undefined;

  constructor(token?: unknown) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
  }

  get subtle(): SubtleCrypto {
    if (!(#subtle in this)) throw new TypeError("Illegal invocation");
    return (this.#subtle ??= chunk("subtle").createSubtle());
  }

  getRandomValues<T extends ArrayBufferView>(array: T): T {
    if (!(#subtle in this)) throw new TypeError("Illegal invocation");
    if (arguments.length === 0) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, but only 0 present.");
    if (!ArrayBuffer.isView(array)) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
    const tag = typedArrayTag.call(array) as string | undefined;
    if (tag === undefined || !INTEGER_ARRAYS.has(tag)) {
      throw new DOMException(`Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type '${tag ?? "DataView"}', which is not an integer array type.`, "TypeMismatchError");
    }
    if (array.byteLength > MAX_RANDOM_BYTES) {
      throw new DOMException(
        `Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES}).`,
        "QuotaExceededError",
      );
    }
    if (array.byteLength > 0) {
      const random = host.randomBytes(array.byteLength);
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random);
    }
    return array;
  }

  randomUUID(): string {
    if (!(#subtle in this)) throw new TypeError("Illegal invocation");
    return host.randomUUID();
  }

  /** Workers extension: a WritableStream whose `digest` promise resolves to the hash of what was written. */
  get DigestStream(): unknown {
    if (!(#subtle in this)) throw new TypeError("Illegal invocation");
    return chunk("subtle").digestStreamClass();
  }
}

export function createCrypto(): Crypto {
  return new Crypto(CONSTRUCT);
}
