/**
 * Workers `fetch` handlers at any of the four events (DESIGN.md §3: any dialect
 * at any event; the Workers model at viewer-request).
 *
 * At viewer-request the handler gets the viewer's request and answers the
 * viewer. Its own `fetch()` is routed by URL:
 * - a URL on one of the distribution's host names goes on through the cache,
 *   origin-request, the origin and origin-response (the behavior matched again
 *   by the subrequest's path), and its response comes back to the handler with
 *   `x-verge-cache`; viewer-response does not run on it (the handler's own
 *   response is what goes to the viewer);
 * - any other URL goes to `options.outbound` (the node's guarded fetch) when
 *   the node passed one, else fails in the function with a TypeError: without
 *   it the pipeline has no address policy to apply.
 *
 * At origin-request the handler gets the request as it would go to the origin
 * (URL on the origin); its `fetch()` to that origin goes straight there (custom
 * headers added, no cache, no further events), anything else as above. Its
 * response counts as generated at origin-request: it is cached and
 * origin-response does not run.
 *
 * At origin-response and viewer-response the handler gets the request as the
 * event has it (at origin-response as it went to the origin, URL on the origin;
 * at viewer-response the viewer's, as viewer-request left it), and its
 * `fetch()` to that request's own URL resolves to the response at hand (the
 * origin's; the one about to go to the viewer) without going anywhere, its
 * body streamed from where it is. Anything else goes out as above. The
 * Response it returns replaces the response at hand under the Lambda@Edge
 * rules of that event (events.ts `replacedByWorkers`).
 *
 * At every event, its service bindings run other functions of the tenant
 * (services.ts) when the pipeline runs them (`serviceBindings`, an edge node).
 *
 * At viewer-request a version with static assets answers a request for one of
 * its files without running the handler (assets.ts).
 */
import type { FunctionSpec, HostServices } from "../runtime/index.ts";
import { partsOf, type HeaderList, type RequestData, type ResponseData } from "../shared/http.ts";
import { cfHeadersToHeaderList, splitUrl, type CloudFrontEvent } from "../shared/cloudfront/index.ts";
import { withFailureReport } from "../runtime/index.ts";
import type { Context, Flow, FlowRequest, OriginTarget } from "./flow.ts";
import { requestUrl, targetUrl } from "./flow.ts";
import { cancelRuntimeBody, dataToResponse, replacedByWorkers, responseToData, toStream } from "./events.ts";
import { stripHopByHop } from "./headers.ts";
import type { Invoked, Served } from "./invoker.ts";
import { assetFirst } from "./assets.ts";
import { hostName } from "./hardening.ts";
import { bodyData } from "./request-body.ts";
import { cachesFor } from "./caches.ts";
import { serviceHostFor } from "./services.ts";

export type Subrequest = HostServices["fetch"];

/** Runs steps 3–6 for a request to this distribution (cache, origin events, origin). */
export type ServeSubrequest = (flow: Flow, request: FlowRequest, hostHeader: string) => Promise<Response>;

/** `request.cf` for the node's functions: the same for every request, so made once per pipeline, frozen (the runtime serialises a frozen one once). */
const cfByContext = new WeakMap<Context, Record<string, unknown>>();

export function cfOf(ctx: Context): Record<string, unknown> {
  let value = cfByContext.get(ctx);
  if (value === undefined) {
    value = Object.freeze({ colo: ctx.options.nodeId, ...(ctx.options.region !== undefined ? { region: ctx.options.region } : {}) });
    cfByContext.set(ctx, value);
  }
  return value;
}

export function outbound(ctx: Context, request: RequestData, options: Parameters<Subrequest>[1]): ReturnType<Subrequest> {
  if (ctx.options.outbound !== undefined) return ctx.options.outbound(request, options);
  const host = new URL(request.url).host;
  return Promise.reject(new TypeError(`fetch to ${host} is not routed: this edge node sends a function's fetch() only to its own distribution's host names and origin`));
}

/** A Workers handler's answer with its body in memory (or none): the pipeline makes the viewer's response from it directly. */
export type AnswerData = ResponseData & { body: Uint8Array | null };

/**
 * A viewer-request handler's `fetch()` routing (see the top of this file): its distribution's
 * host names through `serve`, anything else outbound.
 */
export function viewerSubrequest(ctx: Context, flow: Flow, serve: ServeSubrequest): Subrequest {
  let hostnames: Set<string> | undefined;
  return async (request, options) => {
    const url = new URL(request.url);
    hostnames ??= new Set(flow.distribution.hostnames.map((h) => h.toLowerCase()));
    if (!hostnames.has(hostName(url.host))) return outbound(ctx, request, options);
    const { uri, querystring } = splitUrl(request.url);
    const body = request.body instanceof Uint8Array && request.body.byteLength > 0 ? request.body : null;
    const sub: FlowRequest = {
      method: request.method.toUpperCase(),
      uri,
      querystring,
      headers: stripHopByHop(request.headers),
      body: body === null ? { head: new Uint8Array(0), rest: null, absent: true } : { head: body, rest: null, absent: false },
    };
    return responseToData(await serve(flow, sub, url.host));
  };
}

export async function workersViewerRequest(ctx: Context, flow: Flow, spec: FunctionSpec, serve: ServeSubrequest): Promise<Invoked<Response | AnswerData> | Served<AnswerData>> {
  if (spec.assets !== undefined) {
    // The version's static assets first, as Cloudflare routes them (run_worker_first aside).
    const asset = await assetFirst(spec.assets, { method: flow.request.method, url: requestUrl(flow), headers: flow.request.headers });
    if (asset !== undefined) return { value: asset, served: true };
  }
  const subrequest = viewerSubrequest(ctx, flow, serve);
  const data: RequestData = {
    method: flow.request.method,
    url: requestUrl(flow),
    headers: stripHopByHop(flow.request.headers),
    body: bodyData(flow.request.body),
  };
  const r = await ctx.options.runtime.fetch(spec, data, { clientIp: flow.viewer.clientIp, cf: cfOf(ctx), subrequest, caches: cachesFor(ctx.options.cache, flow.distribution), service: serviceHostFor(ctx, flow) });
  if (r.type === "response") r.response.headers = ownLength(r.response.headers, flow.request.method);
  if (r.type === "response" && (r.response.body === null || r.response.body instanceof Uint8Array)) return { value: r.response as AnswerData, cold: r.cold, finished: r.finished };
  return { value: asResponse(r), cold: r.cold, finished: r.finished };
}

export async function workersOriginRequest(
  ctx: Context,
  flow: Flow,
  spec: FunctionSpec,
  sent: FlowRequest,
  target: OriginTarget,
  sendToOrigin: (request: RequestData) => Promise<Response>,
): Promise<Invoked<Response>> {
  const subrequest: Subrequest = async (request, options) => {
    if (new URL(request.url).origin !== target.base) return outbound(ctx, request, options);
    return responseToData(await sendToOrigin(request));
  };
  const data: RequestData = { method: sent.method, url: targetUrl(target, sent), headers: sent.headers, body: bodyData(sent.body) };
  const r = await ctx.options.runtime.fetch(spec, data, { eventType: "origin-request", clientIp: flow.viewer.clientIp, cf: cfOf(ctx), subrequest, caches: cachesFor(ctx.options.cache, flow.distribution), service: serviceHostFor(ctx, flow) });
  if (r.type === "response") r.response.headers = ownLength(r.response.headers, sent.method);
  return { value: asResponse(r), cold: r.cold, finished: r.finished };
}

/**
 * A Workers answer is framed by its own body, as workerd frames it: a
 * `Content-Length` header in it is dropped (often copied from a fetched
 * response whose body the handler changed, it would cut the body or leave the
 * connection waiting); bytes get their length from the body, a stream goes
 * chunked. Kept for HEAD, whose answer has no body to count.
 */
export function ownLength(headers: HeaderList, method: string): HeaderList {
  if (method === "HEAD" || !headers.some(([name]) => name === "content-length")) return headers;
  return headers.filter(([name]) => name !== "content-length");
}

function asResponse(r: { type: "response"; response: ResponseData } | { type: "request" }): Response {
  // A Workers handler always answers with a Response; "request" is the Lambda@Edge dialect's.
  if (r.type !== "response") throw new TypeError("expected a Workers handler to answer with a Response");
  return dataToResponse(r.response);
}

/** The response at hand at a response event, as a Workers handler's `fetch()` gets it. */
export interface ResponseAtHand {
  readonly response: Response;
  /** Its body went to the handler (it cannot go on unchanged any more). */
  taken: boolean;
  /** The event is over: a later fetch() of it fails. */
  closed: boolean;
}

export function responseAtHand(response: Response): ResponseAtHand {
  return { response, taken: false, closed: false };
}

/**
 * A Workers handler at origin-response or viewer-response. `event` is the
 * CloudFront event a Lambda@Edge handler would get there (the request and the
 * response the handler is shown, and what its answer is checked against);
 * `url` is the request's URL.
 */
export async function workersResponseEvent(ctx: Context, flow: Flow, spec: FunctionSpec, event: CloudFrontEvent, url: string, atHand: ResponseAtHand): Promise<Invoked<Response>> {
  const record = event.Records[0]!.cf;
  const eventType = record.config.eventType;
  const original = atHand.response;
  const parts = partsOf(original);
  const own = comparable(url);
  const head = { status: original.status, statusText: original.statusText, headers: cfHeadersToHeaderList(record.response!.headers) };
  const subrequest: Subrequest = async (request, options) => {
    if (comparable(request.url) !== own) return outbound(ctx, request, options);
    if (atHand.closed) throw new TypeError(`fetch(${url}): the ${eventType} event is over; the response it had is gone`);
    // Bytes in memory (a cache hit) can be given again; a stream only once.
    const body = parts !== undefined ? parts.body : original.body;
    if (request.method.toUpperCase() === "HEAD" || body === null) return { ...head, body: null };
    if (body instanceof Uint8Array) return { ...head, body };
    if (atHand.taken) throw new TypeError(`fetch(${url}): the ${eventType} response was fetched already, and its body streams to the first fetch only; use response.clone() to read it twice`);
    atHand.taken = true;
    return { ...head, body: body as unknown as AsyncIterable<Uint8Array> };
  };
  const data: RequestData = { method: record.request.method, url, headers: cfHeadersToHeaderList(record.request.headers), body: null };
  const r = await ctx.options.runtime.fetch(spec, data, { clientIp: flow.viewer.clientIp, cf: cfOf(ctx), subrequest, caches: cachesFor(ctx.options.cache, flow.distribution), service: serviceHostFor(ctx, flow) });
  // When the invocation is over, a response at hand the handler never took is let go.
  void r.finished.finally(() => {
    atHand.closed = true;
    if (!atHand.taken) void original.body?.cancel().catch(() => {});
  });
  if (r.type !== "response") throw withFailureReport(new TypeError("expected a Workers handler to answer with a Response"), r.finished);
  if (r.response.webSocket !== undefined) {
    // Only a handshake at viewer-request takes a WebSocket (workers-upgrade.ts).
    r.response.webSocket.abort();
    throw withFailureReport(new TypeError(`a Workers handler at ${eventType} cannot answer with a WebSocket`), r.finished);
  }
  const answer = r.response;
  try {
    const value = replacedByWorkers(original, event, { ...answer, headers: ownLength(answer.headers, record.request.method) }, () => toStream(answer.body));
    return { value, cold: r.cold, finished: r.finished };
  } catch (err) {
    cancelRuntimeBody(answer.body);
    throw withFailureReport(err, r.finished);
  }
}

/** A URL as fetch() compares it with the request's own: parsed, without the fragment. */
function comparable(url: string): string {
  try {
    const u = new URL(url);
    u.hash = "";
    return u.href;
  } catch {
    return url;
  }
}
