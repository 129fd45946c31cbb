/**
 * Lambda@Edge header rules, from the CloudFront developer guide, "Restrictions on
 * all edge functions" > "HTTP headers" and "Restrictions on Lambda@Edge" > "CloudFront headers".
 *
 * - Disallowed headers are never exposed to a function, and a function that adds
 *   one fails validation (502).
 * - Read-only headers are exposed, but a function that adds, changes or removes
 *   one fails validation (502). The set depends on the event.
 *
 * Names are lowercase here; compare lowercased header names.
 *
 * History, for anyone comparing with older copies of the guide: in earlier
 * editions (the "Requirements and restrictions on Lambda functions" page) the
 * viewer-response read-only list also held Content-Encoding, Content-Length and
 * Transfer-Encoding, and the disallowed list had `X-Amzn-*` as a wildcard. The
 * guide now names the `X-Amzn-*` headers one by one and lists only Warning and
 * Via for viewer responses. CDN-Loop and the mTLS headers are the latest additions.
 */
import type { CloudFrontEventType } from "./types.ts";

/** Disallowed at every event. */
export const DISALLOWED_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "expect",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "trailer",
  "upgrade",
  "x-accel-buffering",
  "x-accel-charset",
  "x-accel-limit-rate",
  "x-accel-redirect",
  "x-amzn-auth",
  "x-amzn-cf-billing",
  "x-amzn-cf-id",
  "x-amzn-cf-xff",
  "x-amzn-errortype",
  "x-amzn-fle-profile",
  "x-amzn-header-count",
  "x-amzn-header-order",
  "x-amzn-lambda-integration-tag",
  "x-amzn-requestid",
  "x-cache",
  "x-forwarded-proto",
  "x-real-ip",
  // Viewer mTLS certificate headers, listed with the disallowed headers since
  // CloudFront added viewer mutual TLS (RFC 9440 names plus CloudFront's PEM header).
  "cloudfront-viewer-cert-pem",
  "client-cert",
  "client-cert-chain",
]);

/** Disallowed at every event: `X-Amz-Cf-*` and `X-Edge-*`. */
export const DISALLOWED_HEADER_PREFIXES: readonly string[] = ["x-amz-cf-", "x-edge-"];

/**
 * Disallowed only at some events. CloudFront adds `CloudFront-Viewer-Country` after
 * the viewer-request event, and a viewer-request function that adds it fails
 * validation; at later events a function may read, edit, add or remove it.
 */
export const EVENT_DISALLOWED_HEADERS: Readonly<Record<CloudFrontEventType, ReadonlySet<string>>> = {
  "viewer-request": new Set(["cloudfront-viewer-country"]),
  "origin-request": new Set(),
  "origin-response": new Set(),
  "viewer-response": new Set(),
};

/**
 * Read-only per event. CDN-Loop (RFC 8586) is CloudFront's own loop-detection
 * header on requests, listed read-only for the request events.
 */
export const READ_ONLY_HEADERS: Readonly<Record<CloudFrontEventType, ReadonlySet<string>>> = {
  "viewer-request": new Set(["cdn-loop", "content-length", "host", "transfer-encoding", "via"]),
  "origin-request": new Set([
    "accept-encoding",
    "cdn-loop",
    "content-length",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "transfer-encoding",
    "via",
  ]),
  "origin-response": new Set(["transfer-encoding", "via"]),
  "viewer-response": new Set(["via", "warning"]),
};

/**
 * True when a function may neither see nor add `name` at `eventType`.
 *
 * @example
 * isDisallowedHeader("X-Edge-Location", "origin-response") // true
 */
export function isDisallowedHeader(name: string, eventType: CloudFrontEventType): boolean {
  return isHiddenHeader(name) || EVENT_DISALLOWED_HEADERS[eventType].has(name.toLowerCase());
}

/**
 * True when CloudFront never shows `name` to a function: an event built for a
 * function leaves these headers out. (Event-specific disallowed headers such as
 * CloudFront-Viewer-Country are still shown when the viewer sent them.)
 */
export function isHiddenHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return DISALLOWED_HEADERS.has(lower) || DISALLOWED_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/**
 * True when a function may read `name` at `eventType` but not add, change or remove it.
 *
 * @example
 * isReadOnlyHeader("Host", "viewer-request") // true
 * isReadOnlyHeader("Host", "origin-request") // false
 */
export function isReadOnlyHeader(name: string, eventType: CloudFrontEventType): boolean {
  return READ_ONLY_HEADERS[eventType].has(name.toLowerCase());
}

/** Header-name characters (RFC 9110 §5.6.2 `token`), lowercase letters only, as CloudFront keys are. */
export const LOWERCASE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** An HTTP method (RFC 9110 §9.1: a `token`). */
export const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Characters a header value may not hold (they would split or end the header line). */
export const INVALID_HEADER_VALUE = /[\r\n\0]/;

/** The URI plus the query string must stay under this many characters. */
export const MAX_URI_AND_QUERY_LENGTH = 8192;

/** Lowest and highest status a function may return. */
export const MIN_STATUS = 200;
export const MAX_STATUS = 599;
