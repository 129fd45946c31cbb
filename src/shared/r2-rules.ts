/**
 * Cloudflare R2 rules shared by every side of an R2 binding: the guest's bucket
 * object (src/runtime/guest/bindings/r2-bucket.ts), the harness's host-side
 * bucket, the host handler and object store (src/runtime/bindings/r2/). The
 * guest prelude bundles this file: keep it pure, no import, no globals beyond
 * the language. Numbers follow Cloudflare's documented limits, except the
 * object size, which is verge's own (a local store, see R2_LIMITS). Error texts
 * are R2's, as workerd shows them: `<op>: <message> (<code>)`.
 * https://developers.cloudflare.com/r2/api/workers/workers-api-reference/
 */

export const R2_LIMITS = {
  /** UTF-8 bytes of an object key. */
  maxKeyBytes: 1024,
  /** UTF-8 bytes of the custom metadata's names and values together. */
  maxCustomMetadataBytes: 2048,
  /** Objects (and delimited prefixes) per list() page, and the default. */
  maxListKeys: 1000,
  /** Default cap on one object's size (Cloudflare's single put allows 5 GiB; verge stores locally). */
  defaultMaxObjectBytes: 100 * 1024 * 1024,
  /** Bytes per stored chunk, and per chunk a streamed body carries. */
  chunkBytes: 64 * 1024,
} as const;

/** R2's error codes (the number workerd puts in parentheses). */
export const R2_CODES = {
  internal: 10001,
  entityTooLarge: 100100,
  entityTooSmall: 10011,
  metadataTooLarge: 10012,
  invalidObjectName: 10020,
  invalidMaxKeys: 10022,
  noSuchUpload: 10024,
  invalidPart: 10025,
  preconditionFailed: 10031,
  badDigest: 10037,
  invalidRange: 10039,
} as const;

const MESSAGES: Record<number, string> = {
  [R2_CODES.internal]: "We encountered an internal error. Please try again.",
  [R2_CODES.entityTooLarge]: "Your proposed upload exceeds the maximum allowed object size.",
  [R2_CODES.entityTooSmall]: "Your proposed upload is smaller than the minimum allowed object size.",
  [R2_CODES.metadataTooLarge]: "Your metadata headers exceed the maximum allowed metadata size.",
  [R2_CODES.invalidObjectName]: "The specified object name is not valid.",
  [R2_CODES.invalidMaxKeys]: "MaxKeys params must be positive integer <= 1000.",
  [R2_CODES.noSuchUpload]: "The specified multipart upload does not exist.",
  [R2_CODES.invalidPart]: "One or more of the specified parts could not be found.",
  [R2_CODES.preconditionFailed]: "At least one of the pre-conditions you specified did not hold.",
  [R2_CODES.invalidRange]: "The requested range is not satisfiable",
};

/** An R2 error as workerd throws it: a plain Error `<op>: <message> (<code>)`. */
export function r2Error(op: string, code: number, message = MESSAGES[code] ?? "Unspecified error"): Error {
  return new Error(`${op}: ${message} (${code})`);
}

/** UTF-8 length of a string, lone surrogates counted as U+FFFD (3 bytes). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function checkR2Key(op: string, key: string): void {
  if (utf8Bytes(key) > R2_LIMITS.maxKeyBytes) throw r2Error(op, R2_CODES.invalidObjectName);
}

export function checkCustomMetadata(op: string, meta: Record<string, string>): void {
  let n = 0;
  for (const k in meta) n += utf8Bytes(k) + utf8Bytes(meta[k]!);
  if (n > R2_LIMITS.maxCustomMetadataBytes) throw r2Error(op, R2_CODES.metadataTooLarge);
}

/** The HTTP metadata R2 keeps, by its JavaScript name; `cacheExpiry` in ms since the epoch. */
export interface R2HttpMetadataWire {
  contentType?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  cacheControl?: string;
  cacheExpiry?: number;
}

/** The string fields of R2HTTPMetadata and the header each is written to. */
export const R2_HTTP_FIELDS = [
  ["contentType", "content-type"],
  ["contentLanguage", "content-language"],
  ["contentDisposition", "content-disposition"],
  ["contentEncoding", "content-encoding"],
  ["cacheControl", "cache-control"],
] as const;

export type R2ChecksumName = "md5" | "sha1" | "sha256" | "sha384" | "sha512";

/** Hex digits of each checksum, and the name workerd's messages use. */
export const R2_CHECKSUMS: Record<R2ChecksumName, { hex: number; label: string }> = {
  md5: { hex: 32, label: "MD5" },
  sha1: { hex: 40, label: "SHA-1" },
  sha256: { hex: 64, label: "SHA-256" },
  sha384: { hex: 96, label: "SHA-384" },
  sha512: { hex: 128, label: "SHA-512" },
};

/** An object's metadata as it crosses the bridge and as the store keeps it. */
export interface R2ObjectWire {
  key: string;
  version: string;
  size: number;
  etag: string;
  /** Milliseconds since the epoch. */
  uploaded: number;
  httpMetadata: R2HttpMetadataWire;
  customMetadata: Record<string, string>;
  checksums: Partial<Record<R2ChecksumName, string>>;
  storageClass: string;
}

/** A conditional in plain data: etags unquoted (or "*"), times in ms. */
export interface R2ConditionalWire {
  etagMatches?: string[];
  etagDoesNotMatch?: string[];
  uploadedBefore?: number;
  uploadedAfter?: number;
  /** Compare times at whole seconds (always for the HTTP-date headers). */
  secondsGranularity?: boolean;
}

export type R2RangeWire = { offset?: number; length?: number } | { suffix: number };

export interface R2PutOptionsWire {
  httpMetadata: R2HttpMetadataWire;
  customMetadata: Record<string, string>;
  /** The checksum the caller gave, lowercase hex. */
  checksum?: { name: R2ChecksumName; hex: string };
  onlyIf?: R2ConditionalWire;
  storageClass: string;
}

export interface R2ListOptionsWire {
  limit: number;
  prefix?: string;
  delimiter?: string;
  cursor?: string;
  startAfter?: string;
  include: Array<"httpMetadata" | "customMetadata">;
}

export interface R2ListWire {
  objects: R2ObjectWire[];
  truncated: boolean;
  cursor?: string;
  delimitedPrefixes: string[];
}

/** R2's bucket names: 3 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen. */
export const R2_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export const R2_STORAGE_CLASSES = ["Standard", "InfrequentAccess"] as const;

const etagIn = (list: string[], etag: string) => list.some((e) => e === "*" || e === etag);

/** True when `obj` meets `cond` (RFC 9110 §13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since). */
export function conditionHolds(obj: R2ObjectWire, cond: R2ConditionalWire | undefined): boolean {
  if (cond === undefined) return true;
  const time = (ms: number) => (cond.secondsGranularity === true ? Math.floor(ms / 1000) * 1000 : ms);
  const uploaded = time(obj.uploaded);
  const matchGiven = cond.etagMatches !== undefined && cond.etagMatches.length > 0;
  if (matchGiven && !etagIn(cond.etagMatches!, obj.etag)) return false;
  // An etag that matched makes If-Unmodified-Since irrelevant, as in RFC 9110.
  if (!matchGiven && cond.uploadedBefore !== undefined && uploaded > time(cond.uploadedBefore)) return false;
  const noneGiven = cond.etagDoesNotMatch !== undefined && cond.etagDoesNotMatch.length > 0;
  if (noneGiven && etagIn(cond.etagDoesNotMatch!, obj.etag)) return false;
  if (!noneGiven && cond.uploadedAfter !== undefined && uploaded <= time(cond.uploadedAfter)) return false;
  return true;
}

/** The bytes a range selects from an object of `size` bytes; throws R2's 10039 when none. */
export function resolveRange(op: string, range: R2RangeWire | undefined, size: number): { offset: number; length: number } {
  if (range === undefined) return { offset: 0, length: size };
  if ("suffix" in range) {
    if (range.suffix <= 0 || size === 0) throw r2Error(op, R2_CODES.invalidRange);
    const length = Math.min(range.suffix, size);
    return { offset: size - length, length };
  }
  const offset = range.offset ?? 0;
  if (range.length !== undefined && range.length <= 0) throw r2Error(op, R2_CODES.invalidRange);
  if (offset > 0 && offset >= size) throw r2Error(op, R2_CODES.invalidRange);
  const length = Math.min(range.length ?? size - offset, size - offset);
  return { offset, length };
}

/** The delimited prefix `key` rolls up into under `prefix` (up to and with the first `delimiter` after it), or undefined. */
export function delimitedPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined || delimiter === "") return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}
