/**
 * `crypto.DigestStream` (Cloudflare Workers extension): a WritableStream of
 * bytes whose `digest` promise resolves to the hash once the stream closes.
 * Algorithms: SHA-1, SHA-256, SHA-384, SHA-512 and MD5.
 *
 * WritableStream comes from the "streams" lazy part, so the class is built on
 * first use. Written chunks are kept in the guest (counted
 * against its memory budget) and hashed by the host in one "subtle" op at close.
 *
 * @example
 * const ds = new crypto.DigestStream("SHA-256");
 * await response.body.pipeTo(ds);
 * const hash = await ds.digest;
 */
import { callOp } from "../core/host.ts";
import { chunk } from "../core/lazy.ts";
import { copyBytes, toArrayBuffer } from "./buffer-source.ts";
import { DOMException } from "./dom-exception.ts";

const ALGORITHMS = new Set(["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"]);

type WritableStreamCtor = new (sink: object, strategy?: object) => object;

let cached: unknown;

export function digestStreamClass(): unknown {
  if (cached !== undefined) return cached;
  const Base = chunk("streams").WritableStream as unknown as WritableStreamCtor;

  class DigestStream extends Base {
    #digest: Promise<ArrayBuffer>;
    #bytesWritten = 0;

    constructor(algorithm: unknown) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'DigestStream': 1 argument required, but only 0 present.");
      const raw = typeof algorithm === "object" && algorithm !== null ? (algorithm as { name?: unknown }).name : algorithm;
      const name = String(raw).toUpperCase();
      if (!ALGORITHMS.has(name)) throw new DOMException(`Unrecognized or unsupported digest algorithm '${String(raw)}'`, "NotSupportedError");
      const chunks: Uint8Array[] = [];
      let resolve!: (v: ArrayBuffer) => void;
      let reject!: (e: unknown) => void;
      const digest = new Promise<ArrayBuffer>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A digest nobody awaits must not surface as an unhandled rejection.
      digest.catch(() => {});
      let self: DigestStream | undefined;
      super({
        write(chunk: unknown) {
          const bytes = copyBytes(chunk, "DigestStream chunk");
          chunks.push(bytes);
          if (self !== undefined) self.#bytesWritten += bytes.byteLength;
        },
        async close() {
          let total = 0;
          for (const c of chunks) total += c.byteLength;
          const all = new Uint8Array(total);
          let at = 0;
          for (const c of chunks) {
            all.set(c, at);
            at += c.byteLength;
          }
          chunks.length = 0;
          try {
            const out = await callOp("subtle", { method: "digest", args: [{ name }, all] });
            resolve(out instanceof ArrayBuffer ? out : toArrayBuffer(out as Uint8Array));
          } catch (e) {
            reject(e);
            throw e;
          }
        },
        abort(reason: unknown) {
          chunks.length = 0;
          reject(reason);
        },
      });
      self = this;
      this.#digest = digest;
    }

    get digest(): Promise<ArrayBuffer> {
      return this.#digest;
    }

    get bytesWritten(): number {
      return this.#bytesWritten;
    }
  }
  Object.defineProperty(DigestStream, "name", { value: "DigestStream" });
  cached = DigestStream;
  return cached;
}
