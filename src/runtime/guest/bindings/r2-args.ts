/**
 * The arguments of an R2 bucket's methods turned into plain data (shared/r2-rules.ts
 * wire types), with workerd's TypeErrors and RangeErrors for what it refuses before
 * any request: ranges (an object or a Headers' `Range`), conditionals (an object or
 * a Headers' `If-*`), checksums, HTTP and custom metadata.
 */
import { R2_CHECKSUMS, R2_HTTP_FIELDS, type R2ChecksumName, type R2ConditionalWire, type R2HttpMetadataWire, type R2RangeWire } from "../../../shared/r2-rules.ts";

/** What the arguments code needs of its realm: its Headers and Date, captured by trusted code. */
export interface R2ArgsRealm {
  isHeaders(v: unknown): v is { get(name: string): string | null };
  isDate(v: unknown): v is Date;
  parseDate(s: string): number;
  isArrayBuffer(v: unknown): v is ArrayBuffer;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && (typeof v === "object" || typeof v === "function");

function timeOf(realm: R2ArgsRealm, v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (realm.isDate(v)) return v.getTime();
  throw new TypeError(`Incorrect type for the '${what}' field on 'R2Conditional': the provided value is not of type 'Date'.`);
}

function plainEtag(e: unknown): string {
  const s = String(e);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) throw new TypeError(`Conditional ETag should not be wrapped in quotes (${s}).`);
  return s;
}

/** An `If-Match` / `If-None-Match` list: quoted etags, weak or not, or `*`. */
function headerEtags(v: string): string[] {
  const out: string[] = [];
  for (const part of v.split(",")) {
    const t = part.trim().replace(/^W\//, "");
    if (t === "") continue;
    out.push(t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t);
  }
  return out;
}

export function conditionalArg(realm: R2ArgsRealm, v: unknown): R2ConditionalWire | undefined {
  if (v === undefined || v === null) return undefined;
  const out: R2ConditionalWire = {};
  if (realm.isHeaders(v)) {
    const m = v.get("if-match");
    const n = v.get("if-none-match");
    const ms = v.get("if-modified-since");
    const us = v.get("if-unmodified-since");
    if (m !== null) out.etagMatches = headerEtags(m);
    if (n !== null) out.etagDoesNotMatch = headerEtags(n);
    const after = ms === null ? NaN : realm.parseDate(ms);
    const before = us === null ? NaN : realm.parseDate(us);
    if (!Number.isNaN(after)) out.uploadedAfter = after;
    if (!Number.isNaN(before)) out.uploadedBefore = before;
    // HTTP dates have whole seconds.
    out.secondsGranularity = true;
    return out;
  }
  if (!isObject(v)) throw new TypeError("Failed to execute on 'R2Bucket': onlyIf is not of type 'R2Conditional or Headers'.");
  if (v.etagMatches !== undefined) out.etagMatches = [plainEtag(v.etagMatches)];
  if (v.etagDoesNotMatch !== undefined) out.etagDoesNotMatch = [plainEtag(v.etagDoesNotMatch)];
  const before = timeOf(realm, v.uploadedBefore, "uploadedBefore");
  const after = timeOf(realm, v.uploadedAfter, "uploadedAfter");
  if (before !== undefined) out.uploadedBefore = before;
  if (after !== undefined) out.uploadedAfter = after;
  if (v.secondsGranularity === true) out.secondsGranularity = true;
  return out;
}

function integer(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** `Range: bytes=a-b`, `bytes=a-`, `bytes=-n`; anything else (several ranges, other units) reads the whole object, as workerd. */
function headerRange(v: string | null): R2RangeWire | undefined {
  if (v === null) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(v);
  if (m === null) return undefined;
  const [, a, b] = m;
  if (a === "" && b === "") return undefined;
  if (a === "") return { suffix: Number(b) };
  const offset = Number(a);
  if (b === "") return { offset };
  const last = Number(b);
  if (last < offset) return undefined;
  return { offset, length: last - offset + 1 };
}

export function rangeArg(realm: R2ArgsRealm, v: unknown): R2RangeWire | undefined {
  if (v === undefined || v === null) return undefined;
  if (realm.isHeaders(v)) return headerRange(v.get("range"));
  if (!isObject(v)) throw new TypeError("Failed to execute 'get' on 'R2Bucket': range is not of type 'R2Range or Headers'.");
  const offset = integer(v.offset);
  const length = integer(v.length);
  const suffix = integer(v.suffix);
  if (suffix !== undefined) {
    if (offset !== undefined) throw new TypeError("Suffix is incompatible with offset.");
    if (length !== undefined) throw new TypeError("Suffix is incompatible with length.");
    if (suffix < 0) throw new RangeError(`Invalid suffix. Suffix (${suffix}) must be greater than or equal to 0.`);
    return { suffix };
  }
  if (offset !== undefined && offset < 0) throw new RangeError(`Invalid range. Starting offset (${offset}) must be greater than or equal to 0.`);
  if (length !== undefined && length < 0) throw new RangeError(`Invalid range. Length (${length}) must be greater than or equal to 0.`);
  return { ...(offset !== undefined ? { offset } : {}), ...(length !== undefined ? { length } : {}) };
}

const HEX = "0123456789abcdef";

function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 15]!;
  return s;
}

/** The one checksum of a put's options (md5, sha1, sha256, sha384, sha512: hex or bytes), lowercase hex. */
export function checksumArg(realm: R2ArgsRealm, o: Record<string, unknown>): { name: R2ChecksumName; hex: string } | undefined {
  let found: { name: R2ChecksumName; hex: string } | undefined;
  for (const name of Object.keys(R2_CHECKSUMS) as R2ChecksumName[]) {
    const v = o[name];
    if (v === undefined) continue;
    if (found !== undefined) throw new TypeError("You cannot specify multiple hashing algorithms.");
    const { hex: digits, label } = R2_CHECKSUMS[name];
    let hex: string;
    if (realm.isArrayBuffer(v) || ArrayBuffer.isView(v)) {
      const bytes = realm.isArrayBuffer(v) ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      if (bytes.byteLength * 2 !== digits) throw new TypeError(`${label} is ${digits / 2} bytes, not ${bytes.byteLength}`);
      hex = hexOf(bytes);
    } else {
      hex = String(v).toLowerCase();
      if (hex.length !== digits) throw new TypeError(`${label} is ${digits} hex characters, not ${hex.length}`);
      if (!/^[0-9a-f]*$/.test(hex)) throw new TypeError(`Provided ${label} wasn't a valid hex string`);
    }
    found = { name, hex };
  }
  return found;
}

/** `httpMetadata` of a put: an R2HTTPMetadata object or a Headers (its content-* and cache headers, `Expires`). */
export function httpMetadataArg(realm: R2ArgsRealm, v: unknown): R2HttpMetadataWire {
  const out: R2HttpMetadataWire = {};
  if (v === undefined || v === null) return out;
  if (realm.isHeaders(v)) {
    for (const [field, header] of R2_HTTP_FIELDS) {
      const x = v.get(header);
      if (x !== null) out[field] = x;
    }
    const e = v.get("expires");
    const t = e === null ? NaN : realm.parseDate(e);
    if (!Number.isNaN(t)) out.cacheExpiry = t;
    return out;
  }
  if (!isObject(v)) throw new TypeError("Failed to execute 'put' on 'R2Bucket': httpMetadata is not of type 'R2HTTPMetadata or Headers'.");
  for (const [field] of R2_HTTP_FIELDS) {
    const x = v[field];
    if (x !== undefined) out[field] = String(x);
  }
  if (v.cacheExpiry !== undefined) {
    if (!realm.isDate(v.cacheExpiry)) throw new TypeError("Incorrect type for the 'cacheExpiry' field on 'R2HTTPMetadata': the provided value is not of type 'Date'.");
    out.cacheExpiry = v.cacheExpiry.getTime();
  }
  return out;
}

export function customMetadataArg(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (!isObject(v)) throw new TypeError("Failed to execute 'put' on 'R2Bucket': customMetadata is not of type 'Record<string, string>'.");
  for (const k of Object.keys(v)) out[k] = String(v[k]);
  return out;
}
