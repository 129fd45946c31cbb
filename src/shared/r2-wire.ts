/**
 * R2 calls as plain data, checked: what the runtime's handler receives from a
 * guest (src/runtime/bindings/r2/handler.ts) and the registry's R2 API from an
 * edge node or a tenant (origin/routes/r2.ts) parse with the same code, and the
 * headers that carry an object's metadata and a call's options over HTTP.
 */
import { R2_CHECKSUMS, R2_CODES, R2_LIMITS, R2_STORAGE_CLASSES, checkCustomMetadata, r2Error, type R2ChecksumName, type R2ConditionalWire, type R2ListOptionsWire, type R2ObjectWire, type R2PutOptionsWire, type R2RangeWire } from "./r2-rules.ts";

/** Headers of the registry's R2 API; values are base64url JSON (names and metadata may be any Unicode). */
export const R2_HEADERS = {
  /** Response: the object's metadata (R2ObjectWire). */
  object: "x-verge-r2-object",
  /** Response: the bytes sent, `offset,length`. */
  range: "x-verge-r2-range",
  /** Request to GET an object: `{ range?, onlyIf? }`. */
  get: "x-verge-r2-get",
  /** Request to PUT an object: R2PutOptionsWire. */
  put: "x-verge-r2-put",
} as const;

export function encodeHeaderJson(v: unknown): string {
  return Buffer.from(JSON.stringify(v), "utf8").toString("base64url");
}

/** The JSON in a header; a TypeError naming the header when it is not base64url JSON. */
export function decodeHeaderJson(name: string, raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined || raw === "") return undefined;
  try {
    return JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw new TypeError(`${name}: expected base64url-encoded JSON`);
  }
}

/** An object's metadata as it came over HTTP, checked for shape. */
export function parseObjectWire(v: unknown): R2ObjectWire {
  const o = isRecord(v) ? v : {};
  if (typeof o.key !== "string" || typeof o.version !== "string" || typeof o.size !== "number" || typeof o.etag !== "string" || typeof o.uploaded !== "number" || !isRecord(o.httpMetadata) || !isRecord(o.customMetadata) || !isRecord(o.checksums)) {
    throw new TypeError("R2: malformed object metadata");
  }
  return {
    key: o.key,
    version: o.version,
    size: o.size,
    etag: o.etag,
    uploaded: o.uploaded,
    httpMetadata: o.httpMetadata as R2ObjectWire["httpMetadata"],
    customMetadata: o.customMetadata as Record<string, string>,
    checksums: o.checksums as R2ObjectWire["checksums"],
    storageClass: typeof o.storageClass === "string" ? o.storageClass : "Standard",
  };
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

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

export function parseConditional(v: unknown): R2ConditionalWire | undefined {
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

export function parseRange(v: unknown): R2RangeWire | undefined {
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

export function parsePutOptions(v: unknown): R2PutOptionsWire {
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
  const storageClass = o.storageClass === undefined ? "Standard" : o.storageClass;
  if (typeof storageClass !== "string" || !(R2_STORAGE_CLASSES as readonly string[]).includes(storageClass)) throw new TypeError(`R2 put: storageClass must be one of ${R2_STORAGE_CLASSES.join(", ")}`);
  const out: R2PutOptionsWire = { httpMetadata, customMetadata, storageClass };
  if (isRecord(o.checksum)) {
    const name = o.checksum.name;
    const hex = o.checksum.hex;
    if (typeof name !== "string" || !(name in R2_CHECKSUMS) || typeof hex !== "string" || !/^[0-9a-f]*$/.test(hex) || hex.length !== R2_CHECKSUMS[name as R2ChecksumName].hex) {
      throw new TypeError("R2 put: malformed checksum");
    }
    out.checksum = { name: name as R2ChecksumName, hex };
  }
  const c = parseConditional(o.onlyIf);
  if (c !== undefined) out.onlyIf = c;
  return out;
}

export function parseListOptions(v: unknown): R2ListOptionsWire {
  const o = isRecord(v) ? v : {};
  const limit = o.limit === undefined || o.limit === null ? R2_LIMITS.maxListKeys : o.limit;
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

