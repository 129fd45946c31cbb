/**
 * A cache miss (or revalidation): origin-request → origin → origin-response.
 *
 * 1. The request for the origin: hop-by-hop headers and Expect dropped, `Host`
 *    set to the origin's, `X-Forwarded-For` and `Via` appended, the cache's
 *    conditional headers set (CloudFront shows all of these to origin-request,
 *    which is why several are read-only there).
 * 2. origin-request: a response it generates is returned as the fill's result
 *    (so the cache stores it) and origin-response does not run; a request
 *    continues, possibly to another origin.
 * 3. The origin's custom headers are added and the request sent; hop-by-hop
 *    headers are dropped from the answer and its body held to its Content-Length.
 * 4. origin-response runs on every origin answer, errors included (response-event.ts).
 * Failures throw (VergeError with the code to answer): the cache may answer
 * stale-if-error, else the pipeline renders the error.
 */
import type { RequestData } from "../shared/http.ts";
import type { FunctionSpec } from "../runtime/index.ts";
import type { Invoked } from "./invoker.ts";
import type { CloudFrontGeneratedResponse, CloudFrontOrigin, CloudFrontRequest } from "../shared/cloudfront/index.ts";
import { applyRequest, customOrigin, generatedResponse, makeResponse, requestEvent, targetFrom } from "./events.ts";
import type { Context, Flow, FlowRequest, OriginTarget } from "./flow.ts";
import { configuredTarget, targetHost, targetUrl } from "./flow.ts";
import { appendForwardedFor, appendVia, deleteHeader, headersToList, setHeader, stripHopByHop, withNormalizedEncoding } from "./headers.ts";
import { enforceContentLength, originError } from "./origin.ts";
import { bodyData } from "./request-body.ts";
import { runResponseEvent } from "./response-event.ts";
import { workersOriginRequest } from "./workers.ts";
import type { HeaderList } from "../shared/http.ts";

/**
 * What the cache answers itself from a whole response: the viewer's validators
 * (it fills with its own, `conditional`) and its byte range (range.ts).
 */
const ANSWERED_BY_CACHE = new Set(["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"]);

/**
 * @param cached the request goes through the cache: the viewer's conditional
 *   headers are dropped, or the origin's 304 to them would read as the answer to
 *   the cache's own revalidation; so is `Range`, or the origin's 206 (never
 *   stored) would leave every ranged request a miss; `Accept-Encoding` is
 *   normalised as the cache matched it (headers.ts).
 */
export async function fill(ctx: Context, flow: Flow, req: FlowRequest, conditional: Record<string, string>, cached: boolean): Promise<Response> {
  const prepared = await originRequest(ctx, flow, req, conditional, cached, (spec, sent, current) =>
    workersOriginRequest(ctx, flow, spec, sent, current, (request) => sendData(ctx, current, request)),
  );
  if ("generated" in prepared) return prepared.generated;
  const { target, sent } = prepared;
  let response = await send(ctx, target, sent);

  const onResponse = flow.behavior.functions["origin-response"];
  if (onResponse !== undefined) {
    response = await runResponseEvent(ctx, flow, {
      eventType: "origin-response",
      association: onResponse,
      request: sent,
      url: targetUrl(target, sent),
      response,
      origin: { custom: customOrigin(target) },
    });
  }
  return response;
}

/** What origin-request left to send, and where; or the response it generated. */
export type PreparedOrigin = { target: OriginTarget; sent: FlowRequest } | { generated: Response };

/**
 * Steps 1–2: the request for the origin, and origin-request on it (a Lambda@Edge
 * handler here; a Workers one through `workers`, whose answer is the result).
 */
export async function originRequest(
  ctx: Context,
  flow: Flow,
  req: FlowRequest,
  conditional: Record<string, string>,
  cached: boolean,
  workers: (spec: FunctionSpec, sent: FlowRequest, target: OriginTarget) => Promise<Invoked<Response | null>>,
): Promise<PreparedOrigin> {
  let target = configuredTarget(flow.origin);
  let headers = deleteHeader(stripHopByHop(req.headers), "expect");
  if (cached) headers = withNormalizedEncoding(headers.filter(([name]) => !ANSWERED_BY_CACHE.has(name)));
  headers = setHeader(headers, "host", targetHost(target));
  headers = appendForwardedFor(headers, flow.viewer.clientIp);
  headers = appendVia(headers, ctx.options.nodeId);
  for (const [name, value] of Object.entries(conditional)) headers = setHeader(headers, name.toLowerCase(), value);
  const sent: FlowRequest = { ...req, headers };

  const association = flow.behavior.functions["origin-request"];
  if (association !== undefined) {
    const given: CloudFrontOrigin = { custom: customOrigin(target) };
    const current = target;
    const generated = await ctx.invoker.invoke(flow, "origin-request", association, async (spec, lambda) => {
      if (!lambda) return workers(spec, sent, current);
      const event = await requestEvent(flow, spec, { eventType: "origin-request", request: sent, includeBody: association.includeBody, origin: given });
      const r = await ctx.options.runtime.event(spec, event);
      if (r.kind === "response") return { value: generatedResponse(r.result as CloudFrontGeneratedResponse), cold: r.cold, finished: r.finished };
      const result = r.result as CloudFrontRequest;
      applyRequest(sent, result);
      target = targetFrom(current, given, result.origin);
      return { value: null, cold: r.cold, finished: r.finished };
    });
    if (generated !== null) return { generated };
  }
  return { target, sent };
}

/** Sends one request to `target` (custom headers added) and cleans the answer. */
function send(ctx: Context, target: OriginTarget, sent: FlowRequest): Promise<Response> {
  let headers = sent.headers;
  for (const [name, value] of target.customHeaders) headers = setHeader(headers, name, value);
  return sendTo(ctx, target, targetUrl(target, sent), sent.method, headers, bodyData(sent.body));
}

async function sendTo(ctx: Context, target: OriginTarget, url: string, method: string, headers: HeaderList, body: RequestData["body"]): Promise<Response> {
  let res: Response;
  try {
    res = await ctx.fetchOrigin(url, {
      method,
      headers,
      body,
      connectTimeoutMs: target.connectTimeoutMs,
      readTimeoutMs: target.readTimeoutMs,
      keepAliveTimeoutMs: target.keepAliveTimeoutMs,
      chosenByFunction: target.chosenByFunction,
    });
  } catch (err) {
    throw originError(err, url);
  }
  // x-verge-* on the way out are the node's to set: an origin cannot forge them.
  const kept = stripHopByHop(headersToList(res.headers)).filter(([name]) => name !== "x-verge-error" && name !== "x-verge-cache" && name !== "x-verge-request-id");
  const cleaned = makeResponse(res.status, res.statusText, kept, res.body);
  // undici's parser holds a body to its Content-Length; an injected fetchOrigin is held here.
  return ctx.framingChecked ? cleaned : enforceContentLength(cleaned);
}

/** A Workers origin-request handler's `fetch()` to its origin. */
function sendData(ctx: Context, target: OriginTarget, request: RequestData): Promise<Response> {
  let headers = stripHopByHop(request.headers);
  for (const [name, value] of target.customHeaders) headers = setHeader(headers, name, value);
  const hasBody = request.body !== null && !(request.body instanceof Uint8Array && request.body.byteLength === 0);
  return sendTo(ctx, target, request.url, request.method, headers, hasBody ? request.body : null);
}
