/**
 * Event fixtures: the CloudFront event of each of the four types, built from a
 * web `Request` (and `Response`), so a Lambda@Edge handler is testable in three
 * lines:
 *
 * @example
 * const verge = new Verge({ scriptPath: "auth.js" });
 * const result = await verge.dispatchEvent("viewer-request", await viewerRequestEvent("https://example.com/admin"));
 * assert.equal(result.status, "302");
 *
 * The events are those an edge node builds (src/shared/cloudfront): lowercase
 * header keys mapping to `[{ key, value }]`, `host` always present, raw
 * `querystring`, headers CloudFront never shows left out, the body (base64, cut
 * at the Lambda@Edge quota) only with `includeBody`.
 */
import { buildCloudFrontEvent, type CloudFrontEventMap, type CloudFrontOrigin } from "../shared/cloudfront/index.ts";
import type { HeaderList, RequestData, ResponseData } from "../shared/http.ts";
import type { CloudFrontEventType } from "../shared/limits.ts";

export interface EventFixtureOptions {
  /** The viewer's address (default 203.0.113.10). */
  clientIp?: string;
  /** Default: the request's host, id `EDFDVBD6EXAMPLE`. */
  distribution?: { domainName: string; id: string };
  /** Expose the request body (viewer-request and origin-request), as an "include body" association does. */
  includeBody?: boolean;
  /** Bytes of body exposed at most (default: the Lambda@Edge quota for the event). */
  bodyLimit?: number;
  /** Origin events: the origin, as a URL (a custom origin) or as CloudFront describes it. Default: the request's host. */
  origin?: string | CloudFrontOrigin;
  requestId?: string;
}

type RequestInput = Request | string | URL;

export function viewerRequestEvent(request: RequestInput, options: EventFixtureOptions = {}): Promise<CloudFrontEventMap["viewer-request"]> {
  return cloudFrontEvent("viewer-request", request, undefined, options);
}

export function originRequestEvent(request: RequestInput, options: EventFixtureOptions = {}): Promise<CloudFrontEventMap["origin-request"]> {
  return cloudFrontEvent("origin-request", request, undefined, options);
}

export function originResponseEvent(request: RequestInput, response: Response, options: EventFixtureOptions = {}): Promise<CloudFrontEventMap["origin-response"]> {
  return cloudFrontEvent("origin-response", request, response, options);
}

export function viewerResponseEvent(request: RequestInput, response: Response, options: EventFixtureOptions = {}): Promise<CloudFrontEventMap["viewer-response"]> {
  return cloudFrontEvent("viewer-response", request, response, options);
}

/** Any of the four events; `response` is required at origin-response and viewer-response. */
export async function cloudFrontEvent<T extends CloudFrontEventType>(
  eventType: T,
  input: RequestInput,
  response: Response | undefined,
  options: EventFixtureOptions = {},
): Promise<CloudFrontEventMap[T]> {
  const request = input instanceof Request ? input : new Request(input);
  const url = new URL(request.url);
  const headers = headerList(request.headers);
  if (!headers.some(([name]) => name === "host")) headers.unshift(["host", url.host]);
  const body = options.includeBody === true && request.body !== null ? new Uint8Array(await request.arrayBuffer()) : null;
  const data: RequestData = { method: request.method, url: request.url, headers, body };
  const isOrigin = eventType === "origin-request" || eventType === "origin-response";
  return buildCloudFrontEvent({
    eventType,
    request: data,
    ...(response !== undefined ? { response: responseData(response) } : {}),
    clientIp: options.clientIp ?? "203.0.113.10",
    distribution: options.distribution ?? { domainName: url.host, id: "EDFDVBD6EXAMPLE" },
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    ...(isOrigin ? { origin: originOf(options.origin ?? url.origin) } : {}),
    ...(options.includeBody !== undefined ? { includeBody: options.includeBody } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
  });
}

function headerList(headers: Headers): HeaderList {
  const out: HeaderList = [];
  headers.forEach((value, name) => {
    if (name !== "set-cookie") out.push([name, value]);
  });
  for (const cookie of headers.getSetCookie()) out.push(["set-cookie", cookie]);
  return out;
}

function responseData(response: Response): ResponseData {
  return { status: response.status, statusText: response.statusText, headers: headerList(response.headers), body: null };
}

/** A URL as CloudFront describes a custom origin (default timeouts, no custom headers). */
function originOf(origin: string | CloudFrontOrigin): CloudFrontOrigin {
  if (typeof origin !== "string") return origin;
  const u = new URL(origin);
  const https = u.protocol === "https:";
  return {
    custom: {
      customHeaders: {},
      domainName: u.hostname,
      keepaliveTimeout: 5,
      path: u.pathname === "/" ? "" : u.pathname.replace(/\/$/, ""),
      port: u.port === "" ? (https ? 443 : 80) : Number(u.port),
      protocol: https ? "https" : "http",
      readTimeout: 30,
      sslProtocols: ["TLSv1.2"],
    },
  };
}
