/**
 * CloudFront request/response objects to and from verge's plain HTTP data
 * (`RequestData`, `ResponseData`). Bodies here are buffered: `Uint8Array | null`.
 *
 * Round trips are exact: `cf -> data -> cf` gives back the same object when the
 * original headers are passed as `keys` and the body options match; `data -> cf
 * -> data` gives back the same data when repeated headers are contiguous.
 * The status is a string in CloudFront objects and a number in `ResponseData`.
 */
import type { RequestData, ResponseData } from "../http.ts";
import { VergeError } from "../errors.ts";
import { decodeBody, encodeBody, exposeRequestBody } from "./body.ts";
import { cfHeadersToHeaderList, headerListToCfHeaders } from "./headers.ts";
import type {
  CloudFrontBodyEncoding,
  CloudFrontGeneratedResponse,
  CloudFrontHeaders,
  CloudFrontOrigin,
  CloudFrontRequest,
  CloudFrontRequestBody,
  CloudFrontResultResponse,
} from "./types.ts";

/** A `RequestData` whose body has been read into memory. */
export type BufferedRequestData = Omit<RequestData, "body"> & { body: Uint8Array | null };
/** A `ResponseData` whose body has been read into memory. */
export type BufferedResponseData = Omit<ResponseData, "body"> & { body: Uint8Array | null };

export interface CfRequestToRequestDataOptions {
  /** "https" or "http": the scheme the viewer used. */
  scheme: string;
  /** Authority for the URL; defaults to the request's first `host` header. */
  host?: string;
}

/**
 * @example
 * cfRequestToRequestData(cf.request, { scheme: "https" })
 * // { method: "GET", url: "https://d111.cloudfront.net/a?b=1", headers: [["host", "d111.cloudfront.net"]], body: null }
 */
export function cfRequestToRequestData(cfRequest: CloudFrontRequest, options: CfRequestToRequestDataOptions): BufferedRequestData {
  const host = options.host ?? cfRequest.headers["host"]?.[0]?.value;
  if (host === undefined || host === "") {
    throw new VergeError("ERR_INVALID_EVENT", "request.headers.host: expected a host header (or options.host) to build the URL, found none");
  }
  // Built by hand, not with `new URL`, so the path and query stay byte for byte as CloudFront had them.
  const query = cfRequest.querystring === "" ? "" : `?${cfRequest.querystring}`;
  const body = cfRequest.body === undefined ? null : decodeBody(cfRequest.body.data, cfRequest.body.encoding);
  return {
    method: cfRequest.method,
    url: `${options.scheme}://${host}${cfRequest.uri}${query}`,
    headers: cfHeadersToHeaderList(cfRequest.headers),
    body,
  };
}

export interface RequestDataToCfRequestOptions {
  clientIp: string;
  /** Headers whose `key` casing to reuse (usually the CloudFront headers the data came from). */
  keys?: CloudFrontHeaders;
  /** Only on origin events. */
  origin?: CloudFrontOrigin;
  /**
   * Include a `body` field. `limit` cuts the data and sets `inputTruncated`
   * (null: no cut); `inputTruncated: true` marks data that was already cut.
   */
  body?: {
    action?: CloudFrontRequestBody["action"];
    encoding?: CloudFrontBodyEncoding;
    limit?: number | null;
    inputTruncated?: boolean;
  };
}

/**
 * @example
 * requestDataToCfRequest({ method: "GET", url: "https://example.com/a?b=1", headers: [], body: null }, { clientIp: "203.0.113.9" })
 * // { clientIp: "203.0.113.9", headers: {}, method: "GET", querystring: "b=1", uri: "/a" }
 */
export function requestDataToCfRequest(data: BufferedRequestData, options: RequestDataToCfRequestOptions): CloudFrontRequest {
  const { uri, querystring } = splitUrl(data.url);
  const request: CloudFrontRequest = {
    clientIp: options.clientIp,
    headers: headerListToCfHeaders(data.headers, options.keys),
    method: data.method,
    querystring,
    uri,
  };
  if (options.body !== undefined) {
    const exposed = exposeRequestBody(data.body, {
      limit: options.body.limit ?? null,
      action: options.body.action,
      encoding: options.body.encoding,
    });
    if (options.body.inputTruncated === true) exposed.inputTruncated = true;
    request.body = exposed;
  }
  if (options.origin !== undefined) request.origin = options.origin;
  return request;
}

/**
 * Takes an event's response or a function's result; a body without
 * `bodyEncoding` is text, as CloudFront reads it.
 *
 * @example
 * cfResponseToResponseData({ status: "404", statusDescription: "Not Found", headers: {} })
 * // { status: 404, statusText: "Not Found", headers: [], body: null }
 */
export function cfResponseToResponseData(cfResponse: CloudFrontResultResponse | CloudFrontGeneratedResponse): BufferedResponseData {
  const status = typeof cfResponse.status === "number" ? cfResponse.status : Number(cfResponse.status);
  if (!Number.isInteger(status)) {
    throw new VergeError("ERR_INVALID_RESULT", `response.status: expected an integer status code, found ${JSON.stringify(cfResponse.status)}`);
  }
  return {
    status,
    statusText: cfResponse.statusDescription ?? "",
    headers: cfHeadersToHeaderList(cfResponse.headers),
    body: cfResponse.body === undefined ? null : decodeBody(cfResponse.body, cfResponse.bodyEncoding),
  };
}

export interface ResponseDataToCfResponseOptions {
  /** Headers whose `key` casing to reuse. */
  keys?: CloudFrontHeaders;
  /** How to carry a body; defaults to "base64". A null body is always left out. */
  bodyEncoding?: CloudFrontBodyEncoding;
}

/**
 * @example
 * responseDataToCfResponse({ status: 200, statusText: "OK", headers: [["set-cookie", "a=1"]], body: null })
 * // { status: "200", statusDescription: "OK", headers: { "set-cookie": [{ key: "Set-Cookie", value: "a=1" }] } }
 */
export function responseDataToCfResponse(data: BufferedResponseData, options: ResponseDataToCfResponseOptions = {}): CloudFrontGeneratedResponse {
  const response: CloudFrontGeneratedResponse = {
    status: String(data.status),
    statusDescription: data.statusText,
    headers: headerListToCfHeaders(data.headers, options.keys),
  };
  if (data.body !== null) {
    const encoding = options.bodyEncoding ?? "base64";
    response.body = encodeBody(data.body, encoding);
    response.bodyEncoding = encoding;
  }
  return response;
}

/**
 * Splits an absolute URL into CloudFront's `uri` and raw `querystring` without
 * normalising either (no percent-decoding, no dot-segment removal).
 */
export function splitUrl(url: string): { uri: string; querystring: string } {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (match === null) {
    throw new VergeError("ERR_INVALID_EVENT", `request.url: expected an absolute URL such as "https://example.com/path", found ${JSON.stringify(url)}`);
  }
  return { uri: match[1] === "" ? "/" : match[1]!, querystring: match[2] ?? "" };
}
