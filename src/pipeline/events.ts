/**
 * CloudFront events built from a request's flow, and function results applied
 * back to it, as Lambda@Edge does (AWS "Lambda@Edge event structure",
 * "Generating HTTP responses in request triggers", "Updating HTTP responses in
 * origin response triggers"):
 *
 * - a request result continues with its uri, querystring, headers and, when the
 *   association includes the body and the action is "replace", its body;
 * - at origin-request the result's `origin` is the origin the request goes to;
 * - a response result at a response event replaces status and headers, and the
 *   body when it has one (no `body` field: the original body goes on);
 * - headers a function is never shown (rules.ts) stay as they were.
 */
import type { FunctionSpec } from "../runtime/index.ts";
import { headersInit, partsResponse, type BodyData, type HeaderList, type RequestData, type ResponseData } from "../shared/http.ts";
import {
  assertLambdaResult,
  buildCloudFrontEvent,
  cfHeadersToHeaderList,
  decodeBody,
  headerListToCfHeaders,
  isHiddenHeader,
  keepReadOnlyHeaders,
  type CloudFrontCustomOrigin,
  type CloudFrontEvent,
  type CloudFrontGeneratedResponse,
  type CloudFrontOrigin,
  type CloudFrontRequest,
} from "../shared/cloudfront/index.ts";
import { deleteHeader, headersToList, stripHopByHop } from "./headers.ts";
import { peekBody, replacedBody } from "./request-body.ts";
import type { Context, EventType, Flow, FlowRequest, OriginTarget } from "./flow.ts";
import type { Invoked } from "./invoker.ts";

/** Statuses whose response has no body. */
export const NULL_BODY: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

export function distributionInfo(flow: Flow): { domainName: string; id: string } {
  return { domainName: flow.distribution.hostnames[0] ?? flow.host, id: flow.distribution.name };
}

/** The origin as a Lambda@Edge custom origin (seconds, clamped to the ranges CloudFront allows). */
export function customOrigin(target: OriginTarget): CloudFrontCustomOrigin {
  const url = new URL(target.base);
  const https = url.protocol === "https:";
  return {
    customHeaders: headerListToCfHeaders(target.customHeaders),
    // As configured, an address included: the result validator accepts the domainName the event carried.
    domainName: url.hostname,
    keepaliveTimeout: clamp(Math.round(target.keepAliveTimeoutMs / 1000), 1, 60),
    path: target.path,
    port: url.port === "" ? (https ? 443 : 80) : Number(url.port),
    protocol: https ? "https" : "http",
    readTimeout: clamp(Math.ceil(target.readTimeoutMs / 1000), 4, 60),
    sslProtocols: ["TLSv1.2"],
  };
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

export interface RequestEventInput {
  eventType: "viewer-request" | "origin-request";
  request: FlowRequest;
  includeBody: boolean;
  origin?: CloudFrontOrigin;
}

/** A URL that carries a request's uri and query string as they are (the events take only those from it). */
export function pathUrl(req: FlowRequest): string {
  return `http://verge.invalid${req.uri}${req.querystring === "" ? "" : `?${req.querystring}`}`;
}

/**
 * A viewer-request or origin-request event; reads the body ahead when the association includes it
 * (a promise then; without the body the event is made at once, with no promise turn).
 */
export function requestEvent(flow: Flow, spec: FunctionSpec, input: RequestEventInput): CloudFrontEvent | Promise<CloudFrontEvent> {
  if (!input.includeBody) return buildRequestEvent(flow, spec, input, null);
  return peekBody(input.request.body, spec.limits.exposedBodyBytes).then((body) => buildRequestEvent(flow, spec, input, body));
}

function buildRequestEvent(flow: Flow, spec: FunctionSpec, input: RequestEventInput, body: Uint8Array | null): CloudFrontEvent {
  const limit = spec.limits.exposedBodyBytes;
  const req = input.request;
  const request: RequestData = { method: req.method, url: pathUrl(req), headers: req.headers, body };
  return buildCloudFrontEvent({
    eventType: input.eventType,
    request,
    clientIp: flow.viewer.clientIp,
    distribution: distributionInfo(flow),
    requestId: flow.requestId,
    includeBody: input.includeBody,
    bodyLimit: limit,
    ...(input.origin !== undefined ? { origin: input.origin } : {}),
  } as Parameters<typeof buildCloudFrontEvent>[0]) as CloudFrontEvent;
}

/** An origin-response or viewer-response event for `response` (its body is never shown). */
export function responseEvent(
  flow: Flow,
  eventType: "origin-response" | "viewer-response",
  request: FlowRequest,
  response: Response,
  origin?: CloudFrontOrigin,
): CloudFrontEvent {
  return buildCloudFrontEvent({
    eventType,
    request: { method: request.method, url: pathUrl(request), headers: request.headers, body: null },
    response: { status: response.status, statusText: response.statusText, headers: stripHopByHop(headersToList(response.headers)), body: null },
    clientIp: flow.viewer.clientIp,
    distribution: distributionInfo(flow),
    requestId: flow.requestId,
    ...(origin !== undefined ? { origin } : {}),
  } as Parameters<typeof buildCloudFrontEvent>[0]) as CloudFrontEvent;
}

/** A request result: the request continues with these values. */
export function applyRequest(req: FlowRequest, result: CloudFrontRequest): void {
  req.uri = result.uri;
  req.querystring = result.querystring;
  req.headers = keepHidden(req.headers, cfHeadersToHeaderList(result.headers));
  if (result.body !== undefined && result.body.action === "replace") {
    req.body = replacedBody(decodeBody(result.body.data, result.body.encoding), req.body);
    // The length of the new body is counted when it is sent.
    req.headers = deleteHeader(req.headers, "content-length");
  }
}

/** The origin after an origin-request result: unchanged, or the one the function chose. */
export function targetFrom(current: OriginTarget, given: CloudFrontOrigin, result: CloudFrontOrigin | undefined): OriginTarget {
  if (result === undefined || JSON.stringify(result) === JSON.stringify(given)) return current;
  if (result.custom !== undefined) {
    const o = result.custom;
    const dflt = o.protocol === "https" ? 443 : 80;
    const configured = new URL(current.base);
    const host = o.domainName;
    return {
      base: `${o.protocol}://${host}${o.port === dflt ? "" : `:${o.port}`}`,
      path: o.path,
      connectTimeoutMs: current.connectTimeoutMs,
      readTimeoutMs: (o.readTimeout ?? 30) * 1000,
      keepAliveTimeoutMs: (o.keepaliveTimeout ?? 5) * 1000,
      customHeaders: cfHeadersToHeaderList(o.customHeaders),
      // The operator's own host and port stay trusted; any other (another port on that host
      // included: it may be a service the operator never exposed) is checked like a function's fetch.
      chosenByFunction: host !== configured.hostname || o.port !== effectivePort(configured),
    };
  }
  // An S3 origin is reached as a plain HTTPS origin (no request signing: authMethod "none").
  const s3 = result.s3!;
  return {
    base: `https://${s3.domainName}`,
    path: s3.path,
    connectTimeoutMs: current.connectTimeoutMs,
    readTimeoutMs: current.readTimeoutMs,
    keepAliveTimeoutMs: current.keepAliveTimeoutMs,
    customHeaders: cfHeadersToHeaderList(s3.customHeaders),
    chosenByFunction: true,
  };
}

/** The port a configured origin URL connects to. */
function effectivePort(url: URL): number {
  return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** A response a function generated (at a request event). */
export function generatedResponse(g: CloudFrontGeneratedResponse): Response {
  const headers = deleteHeader(stripHopByHop(cfHeadersToHeaderList(g.headers)), "content-length");
  const body = g.body === undefined ? null : decodeBody(g.body, g.bodyEncoding);
  return makeResponse(Number(g.status), g.statusDescription, headers, body);
}

/**
 * A response event's result applied to `original`: status and headers from the
 * result (with the headers the function was never shown kept), the body from
 * the result when it set one, else the original body with its own length.
 */
export function replacedResponse(original: Response, result: CloudFrontGeneratedResponse): Response {
  let headers = keepHidden(headersToList(original.headers), stripHopByHop(cfHeadersToHeaderList(result.headers)));
  headers = deleteHeader(headers, "content-length");
  if (result.body !== undefined) {
    void original.body?.cancel().catch(() => {});
    return makeResponse(Number(result.status), result.statusDescription, headers, decodeBody(result.body, result.bodyEncoding));
  }
  const length = original.headers.get("content-length");
  if (length !== null) headers.push(["content-length", length]);
  return makeResponse(Number(result.status), result.statusDescription, headers, original.body);
}

/**
 * A Workers handler's `Response` at a response event, checked as a Lambda@Edge
 * result there (status 200–599, kept at viewer-response; disallowed and
 * read-only headers, compared with the `event` it was given) and applied to
 * `original` as {@link replacedResponse} applies one: the headers it was
 * never shown kept, its own body (or none) in place of the original's.
 *
 * A `Response` cannot tell a header it removed from one it did not copy, so a
 * read-only header it leaves out keeps its value; adding or changing one is
 * invalid, as for Lambda@Edge. The original's `Content-Length` does not go on
 * (the answer's own framing does: workers.ts `ownLength`).
 * Throws ERR_INVALID_RESULT.
 */
export function replacedByWorkers(
  original: Response,
  event: CloudFrontEvent,
  answer: { status: number; statusText: string; headers: HeaderList },
  /** Its body, made only once the answer is valid. */
  body: () => Uint8Array | ReadableStream<Uint8Array> | null,
): Response {
  const cf = event.Records[0]!.cf;
  const eventType = cf.config.eventType as "origin-response" | "viewer-response";
  const headers = keepReadOnlyHeaders(eventType, cf.response!.headers, answer.headers);
  const statusText = answer.statusText !== "" || answer.status !== original.status ? answer.statusText : original.statusText;
  assertLambdaResult(eventType, event, { status: String(answer.status), statusDescription: statusText, headers: headerListToCfHeaders(headers) }, { responseBytes: null });
  const list = keepHidden(headersToList(original.headers), stripHopByHop(headers));
  return makeResponse(answer.status, statusText, list, body());
}

/** Headers the function never saw (rules.ts) go on as they were. */
function keepHidden(before: HeaderList, after: HeaderList): HeaderList {
  const hidden = before.filter(([name]) => isHiddenHeader(name) && !after.some(([n]) => n === name));
  return hidden.length === 0 ? after : [...after, ...hidden];
}

/**
 * A `Response` from parts. A body in memory (or none) makes a response whose
 * parts the next step reads back without a stream (`partsOf`); headers go in
 * as a plain object, which @hono/node-server writes out directly.
 */
export function makeResponse(
  status: number,
  statusText: string,
  headers: HeaderList,
  body: Uint8Array | ReadableStream<Uint8Array> | null,
  /** `headersInit(headers)`, when the caller has it already. */
  init: Record<string, string> | Headers = headersInit(headers),
): Response {
  const nullBody = NULL_BODY.has(status);
  if (nullBody && body instanceof ReadableStream) void body.cancel().catch(() => {});
  const text = REASON.test(statusText) ? statusText : "";
  if (nullBody) return partsResponse({ status, statusText: text, headers, body: null }, init);
  if (!(body instanceof ReadableStream)) return partsResponse({ status, statusText: text, headers, body }, init);
  return new Response(body, { status, statusText: text, headers: init });
}

/** Plain response data (from the runtime) as a `Response`. */
export function dataToResponse(data: ResponseData): Response {
  return makeResponse(data.status, data.statusText, stripHopByHop(data.headers), toStream(data.body));
}

/** A `Response` as plain data (for a function's `fetch()`). */
export function responseToData(res: Response): ResponseData {
  return { status: res.status, statusText: res.statusText, headers: headersToList(res.headers), body: res.body as unknown as AsyncIterable<Uint8Array> | null };
}

export function toStream(body: BodyData): Uint8Array | ReadableStream<Uint8Array> | null {
  if (body === null || body instanceof Uint8Array) return body;
  const it = body[Symbol.asyncIterator]();
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      started = true;
      const r = await it.next();
      if (r.done === true) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await returnIterator(it, started);
    },
  });
}

/**
 * Lets go of a body from the runtime (a function's response body) without reading it.
 * The runtime's body is an async generator, and one that has not started yet skips its
 * `finally` on return(), which is where it tells the function the reader left: the
 * invocation would then stay open until its wall deadline. So it is started first.
 */
export function cancelRuntimeBody(body: BodyData): void {
  if (body === null || body instanceof Uint8Array) return;
  void returnIterator(body[Symbol.asyncIterator](), false).catch(() => {});
}

async function returnIterator(it: AsyncIterator<Uint8Array>, started: boolean): Promise<void> {
  if (!started) await it.next().catch(() => {});
  await it.return?.();
}

export type { EventType };

/**
 * A Lambda@Edge viewer-request handler run on the flow's request: the response
 * it generated, or null once its request result is applied to `flow.request`.
 */
export async function lambdaViewerRequest(ctx: Context, flow: Flow, spec: FunctionSpec, includeBody: boolean): Promise<Invoked<Response | null>> {
  const built = requestEvent(flow, spec, { eventType: "viewer-request", request: flow.request, includeBody });
  const event = built instanceof Promise ? await built : built;
  const r = await ctx.options.runtime.event(spec, event);
  if (r.kind === "response") return { value: generatedResponse(r.result as CloudFrontGeneratedResponse), cold: r.cold, finished: r.finished };
  applyRequest(flow.request, r.result as CloudFrontRequest);
  return { value: null, cold: r.cold, finished: r.finished };
}
