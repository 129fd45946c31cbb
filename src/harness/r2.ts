/**
 * R2 in the harness: the `r2Buckets` / `r2Persist` options (Miniflare 4's names)
 * turned into `r2` binding declarations, and the host-side bucket
 * (`verge.getR2Bucket("B")`, Miniflare 4's `getR2Bucket`): the same bucket code
 * the isolate runs, with Node's classes, calling the child process's R2 handler
 * over the child channel. Bodies cross that channel whole (a stream given to
 * `put` is read first, up to the object size cap); a function's own calls stream.
 */
import { concatBytes } from "../shared/http.ts";
import { resolve } from "node:path";
import { describe, type Diagnostic } from "../shared/limits.ts";
import { R2_CODES, R2_LIMITS, r2Error } from "../shared/r2-rules.ts";
import type { BindingDecl } from "../runtime/bindings/index.ts";
import { createR2Bucket, type R2Bucket as GuestR2Bucket, type R2Realm } from "../runtime/guest/bindings/r2-bucket.ts";

/** The default directory of `r2Persist: true`, relative to the working directory. */
export const DEFAULT_R2_PERSIST = ".verge/r2";

export interface R2Options {
  r2Buckets?: string[] | Record<string, string>;
  r2Persist?: boolean | string;
  /** Largest object one put may store, in bytes (default 100 MiB). */
  r2MaxObjectBytes?: number;
}

/** r2Buckets, r2Persist and r2MaxObjectBytes become `r2` binding declarations. */
export function validateR2(raw: R2Options, bindings: Record<string, BindingDecl>, d: Diagnostic[]): void {
  let persist: string | undefined;
  if (raw.r2Persist === true) persist = resolve(DEFAULT_R2_PERSIST);
  else if (typeof raw.r2Persist === "string" && raw.r2Persist !== "") persist = resolve(raw.r2Persist);
  else if (raw.r2Persist !== undefined && raw.r2Persist !== false) d.push({ path: "r2Persist", message: `expected a boolean or a directory path, found ${describe(raw.r2Persist)}` });
  const max = raw.r2MaxObjectBytes;
  if (max !== undefined && (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0)) d.push({ path: "r2MaxObjectBytes", message: `expected a number of bytes (a non-negative integer), found ${describe(max)}` });
  const buckets = raw.r2Buckets;
  if (buckets === undefined) return;
  let pairs: Array<[string, unknown]>;
  if (Array.isArray(buckets)) pairs = buckets.map((name) => [String(name), name]);
  else if (typeof buckets === "object" && buckets !== null) pairs = Object.entries(buckets);
  else {
    d.push({ path: "r2Buckets", message: `expected an array of binding names or { BINDING: "bucket-name" }, found ${describe(buckets)}` });
    return;
  }
  for (const [name, bucket] of pairs) {
    if (typeof bucket !== "string" || bucket === "") {
      d.push({ path: `r2Buckets.${name}`, message: `expected a bucket name string, found ${describe(bucket)}` });
      continue;
    }
    if (bindings[name] !== undefined) d.push({ path: `r2Buckets.${name}`, message: `the binding ${name} is also declared as a ${bindings[name].type} binding` });
    const value = { bucket, ...(persist !== undefined ? { persist } : {}), ...(typeof max === "number" ? { maxObjectBytes: max } : {}) };
    bindings[name] = { type: "r2", value };
  }
}

/** The R2 bucket API on the host (types as @cloudflare/workers-types `R2Bucket`, loosely). */
export type R2Bucket = GuestR2Bucket;

const encoder = new TextEncoder();

function nodeRealm(maxBytes: number): R2Realm {
  return {
    isHeaders: (v): v is Headers => v instanceof Headers,
    isDate: (v): v is Date => v instanceof Date,
    parseDate: (s) => Date.parse(s),
    isArrayBuffer: (v): v is ArrayBuffer => v instanceof ArrayBuffer,
    encode: (s) => encoder.encode(s),
    newDate: (ms) => new Date(ms),
    isReadableStream: (v) => v instanceof ReadableStream,
    isBlob: (v) => v instanceof Blob,
    blobBytes: async (b) => new Uint8Array(await (b as Blob).arrayBuffer()),
    async outgoing(stream) {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const c of stream as AsyncIterable<unknown>) {
        if (!(c instanceof Uint8Array)) throw new TypeError("This ReadableStream did not return bytes.");
        total += c.byteLength;
        if (total > maxBytes) throw r2Error("put", R2_CODES.entityTooLarge);
        chunks.push(c.slice());
      }
      return concatBytes(chunks, total);
    },
    bodyResponse(body, contentType) {
      if (!(body instanceof Uint8Array)) throw new TypeError("R2: a host-side body crosses as bytes");
      let headers: Headers | undefined;
      try {
        headers = contentType === undefined ? undefined : new Headers([["content-type", contentType]]);
      } catch {
        headers = undefined;
      }
      return new Response(body, headers === undefined ? {} : { headers });
    },
  };
}

/** A host-side bucket whose calls go to `call(method, args)` (the child's R2 handler). */
export function createHostR2Bucket(call: (method: string, args: unknown[]) => Promise<unknown>, maxObjectBytes = R2_LIMITS.defaultMaxObjectBytes): R2Bucket {
  return createR2Bucket(call, nodeRealm(maxObjectBytes));
}
