/**
 * Bodies as CloudFront carries them: a string that is either base64 or UTF-8 text.
 * CloudFront always exposes a request body as base64; a function's replacement
 * body or generated response body may be either.
 */
import { Buffer } from "node:buffer";
import type { CloudFrontBodyEncoding, CloudFrontRequestBody } from "./types.ts";

// Canonical base64 (RFC 4648 §4) with padding. Node's decoder accepts anything and
// skips what it cannot read; CloudFront rejects a body that is not valid base64.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64(data: string): boolean {
  return BASE64.test(data);
}

/** Encodes bytes as `encoding` says. "text" decodes the bytes as UTF-8. */
export function encodeBody(bytes: Uint8Array, encoding: CloudFrontBodyEncoding): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === "base64" ? buf.toString("base64") : buf.toString("utf8");
}

/** Decodes a body string; a missing encoding means text, as CloudFront reads it. */
export function decodeBody(data: string, encoding: CloudFrontBodyEncoding | undefined): Uint8Array {
  // A copy, not a view: small Buffers share one pool, and `.buffer` of a view would expose it.
  return new Uint8Array(Buffer.from(data, encoding === "base64" ? "base64" : "utf8"));
}

/** Byte length of a body string once decoded, without decoding base64. */
export function decodedBodyLength(data: string, encoding: CloudFrontBodyEncoding | undefined): number {
  return Buffer.byteLength(data, encoding === "base64" ? "base64" : "utf8");
}

export interface ExposeBodyOptions {
  /** Bytes exposed at most; the rest is cut and `inputTruncated` is set. Null means no cut. */
  limit: number | null;
  /** Defaults to "read-only", the value CloudFront exposes. */
  action?: CloudFrontRequestBody["action"];
  /** Defaults to "base64", the only encoding CloudFront exposes. */
  encoding?: CloudFrontBodyEncoding;
}

/**
 * The `body` field of a request event: the first `limit` bytes, base64.
 *
 * @example
 * exposeRequestBody(new TextEncoder().encode("hello"), { limit: 4 })
 * // { inputTruncated: true, action: "read-only", encoding: "base64", data: "aGVsbA==" }
 */
export function exposeRequestBody(bytes: Uint8Array | null, options: ExposeBodyOptions): CloudFrontRequestBody {
  const all = bytes ?? new Uint8Array(0);
  const truncated = options.limit !== null && all.byteLength > options.limit;
  const shown = truncated ? all.subarray(0, options.limit!) : all;
  const encoding = options.encoding ?? "base64";
  return { inputTruncated: truncated, action: options.action ?? "read-only", encoding, data: encodeBody(shown, encoding) };
}
