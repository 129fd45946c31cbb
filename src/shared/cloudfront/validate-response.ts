/**
 * Checks a response returned by a function: a generated response at
 * viewer-request / origin-request, or the replacement response at
 * origin-response / viewer-response (AWS "Generating HTTP responses in request
 * triggers", "Updating HTTP responses in origin response triggers").
 */
import { Buffer } from "node:buffer";
import { decodedBodyLength, isBase64 } from "./body.ts";
import { found, quote } from "./describe.ts";
import { MAX_STATUS, MIN_STATUS } from "./rules.ts";
import { checkHeaders } from "./validate-headers.ts";
import type { CloudFrontEventType, CloudFrontGeneratedResponse, CloudFrontHeaders, CloudFrontResponse } from "./types.ts";

const PATH = "Records[0].cf.response";

export interface ResponseCheckOptions {
  eventType: CloudFrontEventType;
  /** The response the function was given (response events only). */
  original: CloudFrontResponse | undefined;
  /** Largest generated response, headers and body; null: no limit. */
  responseBytes: number | null;
}

export function checkResponse(raw: Record<string, unknown>, options: ResponseCheckOptions, problems: string[]): CloudFrontGeneratedResponse | undefined {
  const { eventType, original } = options;
  const before = problems.length;

  const status = parseStatus(raw["status"]);
  if (status === undefined) {
    problems.push(`${PATH}.status: expected an integer from ${MIN_STATUS} to ${MAX_STATUS} (a string such as "200", or a number), found ${found(raw["status"])}`);
  } else if (eventType === "viewer-response" && original !== undefined && status !== Number(original.status)) {
    problems.push(`${PATH}.status: a viewer-response function cannot change the status; expected ${quote(original.status)} (unchanged), found ${found(raw["status"])}`);
  }

  const description = raw["statusDescription"];
  if (description !== undefined && typeof description !== "string") problems.push(`${PATH}.statusDescription: expected a string, found ${found(description)}`);

  const headers = checkHeaders(
    `${PATH}.headers`,
    raw["headers"],
    // A response generated at a request event starts from nothing: every header in it is added.
    { eventType, original: original?.headers ?? {}, required: false, readOnlyRules: true },
    problems,
  );

  const { body, bodyEncoding } = raw;
  if (bodyEncoding !== undefined && bodyEncoding !== "text" && bodyEncoding !== "base64") {
    problems.push(`${PATH}.bodyEncoding: expected "text" or "base64", found ${found(bodyEncoding)}`);
  }
  if (body !== undefined) {
    if (typeof body !== "string") problems.push(`${PATH}.body: expected a string, found ${found(body)}`);
    else if (bodyEncoding === "base64" && !isBase64(body)) problems.push(`${PATH}.body: expected valid base64 because bodyEncoding is "base64", found ${quote(body)}`);
    // The guide: at viewer-request, a 204 response with a body fails with 502.
    if (eventType === "viewer-request" && status === 204) problems.push(`${PATH}.body: a 204 (No Content) response cannot have a body; expected nothing, found ${found(body)}`);
  }

  if (options.responseBytes !== null && headers !== undefined && (body === undefined || typeof body === "string")) {
    const encoding = bodyEncoding === "base64" ? "base64" : "text";
    const size = headerBytes(headers) + (body === undefined ? 0 : decodedBodyLength(body, encoding));
    if (size > options.responseBytes) {
      problems.push(`${PATH}: expected a generated response (headers and body) of at most ${options.responseBytes} bytes at ${eventType}, found ${size} bytes`);
    }
  }

  if (problems.length > before) return undefined;
  const response: CloudFrontGeneratedResponse = {
    status: String(status),
    // Keep the original description only while the status is the original one.
    statusDescription: typeof description === "string" ? description : original !== undefined && Number(original.status) === status ? original.statusDescription : "",
    headers: headers!,
  };
  if (typeof body === "string") {
    response.body = body;
    response.bodyEncoding = bodyEncoding === "base64" ? "base64" : "text";
  }
  return response;
}

/** 200-599 as a number, or as a string of three digits. */
function parseStatus(value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\d{3}$/.test(value)) n = Number(value);
  if (n === undefined || !Number.isInteger(n) || n < MIN_STATUS || n > MAX_STATUS) return undefined;
  return n;
}

/** Bytes of the header block as it goes on the wire: `Key: value\r\n` per line. */
function headerBytes(headers: CloudFrontHeaders): number {
  let total = 0;
  for (const entries of Object.values(headers)) {
    for (const { key, value } of entries) total += Buffer.byteLength(key) + 2 + Buffer.byteLength(value) + 2;
  }
  return total;
}
