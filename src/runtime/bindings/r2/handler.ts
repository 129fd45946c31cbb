/**
 * The host half of an R2 binding: the calls the guest's bucket object
 * (guest/bindings/r2-bucket.ts) makes, checked again here (the caller may be the
 * harness), then run on an {@link R2Storage}. Bodies stream: a put's body comes
 * as a guest stream the host pulls a chunk at a time, and a get's body larger
 * than one chunk goes back as a host stream the guest pulls; smaller ones, and
 * every body when there is no isolate on the other side, cross as bytes.
 */
import type { BindingHandler, BindingIo } from "../../host-services.ts";
import { R2_LIMITS, checkR2Key } from "../../../shared/r2-rules.ts";
import { isRecord, parseConditional, parseListOptions, parsePutOptions, parseRange } from "../../../shared/r2-wire.ts";
import type { R2Storage } from "../../../shared/r2-store.ts";

export const R2_WIRE_METHODS = ["head", "get", "put", "delete", "list", "createMultipartUpload", "uploadPart", "completeMultipartUpload", "abortMultipartUpload"];

function key(op: string, v: unknown): string {
  if (typeof v !== "string") throw new TypeError(`R2 ${op}: the key must be a string`);
  checkR2Key(op, v);
  return v;
}

async function readAll(body: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  for await (const c of body) {
    out.set(c, at);
    at += c.byteLength;
  }
  return at === length ? out : out.subarray(0, at);
}

/** Runs `fn` on a call's body: bytes, or a guest stream the store pulls. */
async function withBody<T>(op: string, body: unknown, io: BindingIo | undefined, fn: (source: Uint8Array | AsyncIterable<Uint8Array> | null) => Promise<T>): Promise<T> {
  let source: Uint8Array | AsyncIterable<Uint8Array> | null;
  if (body === null || body === undefined) source = null;
  else if (body instanceof Uint8Array) source = body;
  else if (isRecord(body) && typeof body.stream === "number" && io !== undefined) source = io.guestStream(body.stream);
  else throw new TypeError(`R2 ${op}: the body crosses as bytes or a stream`);
  try {
    return await fn(source);
  } finally {
    // A body the store did not read to its end (a failed condition, a size over the cap): the guest stops producing it.
    if (source !== null && !(source instanceof Uint8Array)) await source[Symbol.asyncIterator]().return?.();
  }
}

export function createR2Handler(storage: R2Storage): BindingHandler {
  const methods: Record<string, (args: unknown[], io?: BindingIo) => Promise<unknown>> = {
    head: async ([k]) => storage.head(key("head", k)),
    async get([k, o], io) {
      const name = key("get", k);
      const opts = isRecord(o) ? o : {};
      const r = parseRange(opts.range);
      const onlyIf = parseConditional(opts.onlyIf);
      const found = await storage.get(name, { ...(r !== undefined ? { range: r } : {}), ...(onlyIf !== undefined ? { onlyIf } : {}) });
      if (found === null) return null;
      let body: Uint8Array | { stream: number } | null = null;
      if (found.body !== null) {
        body = io !== undefined && found.range.length > R2_LIMITS.chunkBytes ? { stream: io.hostStream(found.body) } : await readAll(found.body, found.range.length);
      }
      return { object: found.object, range: found.range, body };
    },
    async put([k, body, o], io) {
      const name = key("put", k);
      const options = parsePutOptions(o);
      return withBody("put", body, io, (source) => storage.put(name, source, options));
    },
    async createMultipartUpload([k, o]) {
      const name = key("createMultipartUpload", k);
      const { httpMetadata, customMetadata, storageClass } = parsePutOptions(o);
      return storage.createMultipart(name, { httpMetadata, customMetadata, storageClass });
    },
    async uploadPart([k, id, n, body], io) {
      const name = key("uploadPart", k);
      if (typeof id !== "string" || typeof n !== "number") throw new TypeError("R2 uploadPart: expected an upload id and a part number");
      return withBody("uploadPart", body, io, (source) => storage.uploadPart(name, id, n, source));
    },
    async completeMultipartUpload([k, id, parts]) {
      const name = key("completeMultipartUpload", k);
      if (typeof id !== "string" || !Array.isArray(parts) || !parts.every((p) => isRecord(p) && typeof p.partNumber === "number" && typeof p.etag === "string")) {
        throw new TypeError("R2 completeMultipartUpload: expected an upload id and [{ partNumber, etag }]");
      }
      return storage.completeMultipart(name, id, parts as Array<{ partNumber: number; etag: string }>);
    },
    async abortMultipartUpload([k, id]) {
      const name = key("abortMultipartUpload", k);
      if (typeof id !== "string") throw new TypeError("R2 abortMultipartUpload: expected an upload id");
      await storage.abortMultipart(name, id);
      return null;
    },
    async delete([keys]) {
      const list = Array.isArray(keys) ? keys : [keys];
      const names = list.map((x) => key("delete", x));
      await storage.delete(names);
      return null;
    },
    list: async ([o]) => storage.list(parseListOptions(o)),
  };
  return {
    kind: "r2",
    methods: R2_WIRE_METHODS,
    call(method, args, io) {
      const m = methods[method];
      if (m === undefined) return Promise.reject(new TypeError(`R2: no method ${method}`));
      return m(args, io);
    },
  };
}
