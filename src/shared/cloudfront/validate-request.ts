/**
 * Checks a request returned by a viewer-request or origin-request function:
 * the request continues through the pipeline with these values.
 */
import { decodedBodyLength, isBase64 } from "./body.ts";
import { found, isPlainObject, quote } from "./describe.ts";
import { MAX_URI_AND_QUERY_LENGTH, METHOD_TOKEN } from "./rules.ts";
import { checkHeaders } from "./validate-headers.ts";
import { checkOrigin } from "./validate-origin.ts";
import type { CloudFrontEventType, CloudFrontRequest, CloudFrontRequestBody } from "./types.ts";

const PATH = "Records[0].cf.request";

/** Control characters (C0 and DEL), which neither the URI nor the query string may hold. */
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface RequestCheckOptions {
  eventType: CloudFrontEventType;
  original: CloudFrontRequest;
  /** Largest replacement body, decoded; null: no limit. */
  requestBodyBytes: number | null;
}

export function checkRequest(raw: Record<string, unknown>, options: RequestCheckOptions, problems: string[]): CloudFrontRequest | undefined {
  const { eventType, original } = options;
  const before = problems.length;

  const uri = raw["uri"];
  if (typeof uri !== "string") problems.push(`${PATH}.uri: expected a string starting with "/", found ${found(uri)}`);
  else if (!uri.startsWith("/")) problems.push(`${PATH}.uri: expected a path starting with "/", found ${quote(uri)}`);
  else if (CONTROL.test(uri) || uri.includes(" ") || uri.includes("#") || uri.includes("?")) {
    problems.push(`${PATH}.uri: expected a path without spaces, control characters, "?" or "#" (put the query in querystring), found ${quote(uri)}`);
  }

  const querystring = raw["querystring"];
  if (typeof querystring !== "string") problems.push(`${PATH}.querystring: expected a string ("" for none), found ${found(querystring)}`);
  else if (querystring.startsWith("?")) problems.push(`${PATH}.querystring: expected the query without a leading "?", found ${quote(querystring)}`);
  else if (CONTROL.test(querystring) || querystring.includes(" ") || querystring.includes("#")) {
    problems.push(`${PATH}.querystring: expected no spaces, control characters or "#", found ${quote(querystring)}`);
  }
  if (typeof uri === "string" && typeof querystring === "string" && uri.length + querystring.length >= MAX_URI_AND_QUERY_LENGTH) {
    problems.push(
      `${PATH}.uri: expected the URI and query string together under ${MAX_URI_AND_QUERY_LENGTH} characters, found ${uri.length + querystring.length}`,
    );
  }

  const method = raw["method"];
  if (typeof method !== "string" || !METHOD_TOKEN.test(method)) problems.push(`${PATH}.method: expected an HTTP method token such as "GET", found ${found(method)}`);
  // The guide lists `method` as read-only: a function reads it but cannot change it.
  else if (method !== original.method) problems.push(`${PATH}.method: is read-only; expected ${quote(original.method)} (unchanged), found ${quote(method)}`);

  const headers = checkHeaders(`${PATH}.headers`, raw["headers"], { eventType, original: original.headers, required: true, readOnlyRules: true }, problems);

  const body = raw["body"] === undefined ? undefined : checkBody(raw["body"], options, problems);

  let origin = undefined;
  if (eventType === "origin-request") {
    origin = checkOrigin(`${PATH}.origin`, raw["origin"], eventType, headers, problems, original.origin);
  } else if (raw["origin"] !== undefined) {
    problems.push(`${PATH}.origin: the origin can only be set at origin-request; expected nothing at ${eventType}, found ${found(raw["origin"])}`);
  }

  if (problems.length > before) return undefined;
  // clientIp is read-only; CloudFront keeps the one it saw whatever the function returns.
  const request: CloudFrontRequest = { clientIp: original.clientIp, headers: headers!, method: method as string, querystring: querystring as string, uri: uri as string };
  if (body !== undefined) request.body = body;
  if (origin !== undefined) request.origin = origin;
  return request;
}

function checkBody(raw: unknown, options: RequestCheckOptions, problems: string[]): CloudFrontRequestBody | undefined {
  const at = `${PATH}.body`;
  if (!isPlainObject(raw)) {
    problems.push(`${at}: expected an object { action, encoding, data }, found ${found(raw)}`);
    return undefined;
  }
  const before = problems.length;
  const { action, encoding, data } = raw;
  if (action !== "read-only" && action !== "replace") problems.push(`${at}.action: expected "read-only" or "replace", found ${found(action)}`);
  if (encoding !== "base64" && encoding !== "text") problems.push(`${at}.encoding: expected "base64" or "text", found ${found(encoding)}`);
  if (typeof data !== "string") problems.push(`${at}.data: expected a string, found ${found(data)}`);
  else if (encoding === "base64" && !isBase64(data)) problems.push(`${at}.data: expected valid base64 because encoding is "base64", found ${quote(data)}`);

  if (action === "replace") {
    if (options.original.body === undefined) {
      problems.push(
        `${at}.action: replacing the body needs an association with "include body"; this ${options.eventType} association does not include it, ` +
          `expected no body or action "read-only", found "replace"`,
      );
    } else if (typeof data === "string" && (encoding === "base64" || encoding === "text") && options.requestBodyBytes !== null) {
      const size = decodedBodyLength(data, encoding);
      if (size > options.requestBodyBytes) {
        problems.push(`${at}.data: expected a replacement body of at most ${options.requestBodyBytes} bytes at ${options.eventType}, found ${size} bytes`);
      }
    }
  }
  if (problems.length > before) return undefined;
  const inputTruncated = typeof raw["inputTruncated"] === "boolean" ? raw["inputTruncated"] : (options.original.body?.inputTruncated ?? false);
  return { inputTruncated, action: action as CloudFrontRequestBody["action"], encoding: encoding as CloudFrontRequestBody["encoding"], data: data as string };
}
