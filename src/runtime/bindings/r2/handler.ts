/**
 * The host half of an R2 binding: the calls the guest's bucket object
 * (guest/bindings/r2-bucket.ts) makes, checked again here (the caller may be the
 * harness), then run on an {@link R2Storage}. Bodies stream: a put's body comes
 * as a guest stream the host pulls a chunk at a time, and a get's body larger
 * than one chunk goes back as a host stream the guest pulls; smaller ones, and
 * every body when there is no isolate on the other side, cross as bytes.
 */
import type { BindingHandler, BindingIo } from "../../host-services.ts";
import { R2_CHECKSUMS, R2_CODES, R2_LIMITS, checkCustomMetadata, checkR2Key, r2Error, type R2ChecksumName, type R2ConditionalWire, type R2ListOptionsWire, type R2PutOptionsWire, type R2RangeWire } from "../../../shared/r2-rules.ts";
import type { R2Storage } from "./store.ts";

export const R2_WIRE_METHODS = ["head", "get", "put", "delete", "list"];

function key(op: string, v: unknown): string {
  if (typeof v !== "string") throw new TypeError(`R2 ${op}: the key must be a string`);
  checkR2Key(op, v);
  return v;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function strings(op: string, v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new TypeError(`R2 ${op}: ${what} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") throw new TypeError(`R2 ${op}: ${what}.${k} must be a string`);
    out[k] = x;
  }
  return out;
}

function conditional(v: unknown): R2ConditionalWire | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new TypeError("R2: onlyIf must be an object");
  const list = (x: unknown) => (Array.isArray(x) && x.every((e) => typeof e === "string") ? (x as string[]) : undefined);
  const time = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
  const out: R2ConditionalWire = {};
  const m = list(v.etagMatches);
  const n = list(v.etagDoesNotMatch);
  const b = time(v.uploadedBefore);
  const a = time(v.uploadedAfter);
  if (m !== undefined) out.etagMatches = m;
  if (n !== undefined) out.etagDoesNotMatch = n;
  if (b !== undefined) out.uploadedBefore = b;
  if (a !== undefined) out.uploadedAfter = a;
  if (v.secondsGranularity === true) out.secondsGranularity = true;
  return out;
}

function range(v: unknown): R2RangeWire | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new TypeError("R2: range must be an object");
  const n = (x: unknown) => (x === undefined ? undefined : typeof x === "number" && Number.isSafeInteger(x) && x >= 0 ? x : NaN);
  if (v.suffix !== undefined) {
    const s = n(v.suffix);
    if (s === undefined || Number.isNaN(s)) throw new TypeError("R2: range.suffix must be a non-negative integer");
    return { suffix: s };
  }
  const offset = n(v.offset);
  const length = n(v.length);
  if (Number.isNaN(offset) || Number.isNaN(length)) throw new TypeError("R2: range offset and length must be non-negative integers");
  return { ...(offset !== undefined ? { offset } : {}), ...(length !== undefined ? { length } : {}) };
}

function putOptions(v: unknown): R2PutOptionsWire {
  const o = isRecord(v) ? v : {};
  const httpMetadata: R2PutOptionsWire["httpMetadata"] = {};
  if (isRecord(o.httpMetadata)) {
    for (const f of ["contentType", "contentLanguage", "contentDisposition", "contentEncoding", "cacheControl"] as const) {
      const x = o.httpMetadata[f];
      if (typeof x === "string") httpMetadata[f] = x;
    }
    const e = o.httpMetadata.cacheExpiry;
    if (typeof e === "number" && Number.isFinite(e)) httpMetadata.cacheExpiry = e;
  }
  const customMetadata = strings("put", o.customMetadata, "customMetadata");
  checkCustomMetadata("put", customMetadata);
  const out: R2PutOptionsWire = { httpMetadata, customMetadata, storageClass: typeof o.storageClass === "string" ? o.storageClass : "Standard" };
  if (isRecord(o.checksum)) {
    const name = o.checksum.name;
    const hex = o.checksum.hex;
    if (typeof name !== "string" || !(name in R2_CHECKSUMS) || typeof hex !== "string" || !/^[0-9a-f]*$/.test(hex) || hex.length !== R2_CHECKSUMS[name as R2ChecksumName].hex) {
      throw new TypeError("R2 put: malformed checksum");
    }
    out.checksum = { name: name as R2ChecksumName, hex };
  }
  const c = conditional(o.onlyIf);
  if (c !== undefined) out.onlyIf = c;
  return out;
}

function listOptions(v: unknown): R2ListOptionsWire {
  const o = isRecord(v) ? v : {};
  const limit = o.limit === undefined ? R2_LIMITS.maxListKeys : o.limit;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > R2_LIMITS.maxListKeys) throw r2Error("list", R2_CODES.invalidMaxKeys);
  const opt = (x: unknown, what: string) => {
    if (x === undefined || x === null) return undefined;
    if (typeof x !== "string") throw new TypeError(`R2 list: ${what} must be a string`);
    return x;
  };
  const include = Array.isArray(o.include) ? o.include.filter((x): x is "httpMetadata" | "customMetadata" => x === "httpMetadata" || x === "customMetadata") : [];
  const out: R2ListOptionsWire = { limit, include };
  const prefix = opt(o.prefix, "prefix");
  const delimiter = opt(o.delimiter, "delimiter");
  const cursor = opt(o.cursor, "cursor");
  const startAfter = opt(o.startAfter, "startAfter");
  if (prefix !== undefined) out.prefix = prefix;
  if (delimiter !== undefined) out.delimiter = delimiter;
  if (cursor !== undefined) out.cursor = cursor;
  if (startAfter !== undefined) out.startAfter = startAfter;
  return out;
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

export function createR2Handler(storage: R2Storage): BindingHandler {
  const methods: Record<string, (args: unknown[], io?: BindingIo) => Promise<unknown>> = {
    head: async ([k]) => storage.head(key("head", k)),
    async get([k, o], io) {
      const name = key("get", k);
      const opts = isRecord(o) ? o : {};
      const r = range(opts.range);
      const onlyIf = conditional(opts.onlyIf);
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
      const options = putOptions(o);
      let source: Uint8Array | AsyncIterable<Uint8Array> | null;
      if (body === null || body === undefined) source = null;
      else if (body instanceof Uint8Array) source = body;
      else if (isRecord(body) && typeof body.stream === "number" && io !== undefined) source = io.guestStream(body.stream);
      else throw new TypeError("R2 put: the body crosses as bytes or a stream");
      try {
        return await storage.put(name, source, options);
      } finally {
        // A body the store did not read to its end (a failed condition, a size over the cap): the guest stops producing it.
        if (source !== null && !(source instanceof Uint8Array)) await source[Symbol.asyncIterator]().return?.();
      }
    },
    async delete([keys]) {
      const list = Array.isArray(keys) ? keys : [keys];
      const names = list.map((x) => key("delete", x));
      await storage.delete(names);
      return null;
    },
    list: async ([o]) => storage.list(listOptions(o)),
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
