/**
 * One viewer request through the edge node (issue 4; DESIGN.md §2, §3), with
 * Lambda@Edge's semantics:
 *
 * 1. check the request (hardening.ts); take the applied state once; match the
 *    distribution by host and the cache behavior by path;
 * 2. viewer-request: a request continues, a response goes to the viewer at once
 *    (not cached, no viewer-response); a Workers handler answers the viewer and
 *    its fetch() goes on through steps 3–4 (workers.ts);
 * 3. the response cache (GET and HEAD; other methods bypass it);
 * 4. on a miss, origin-request → origin → origin-response (fill.ts);
 * 5. viewer-response on the answer, unless its status is 400 or more;
 * 6. hop-by-hop headers dropped, `x-verge-cache`, `x-verge-request-id`, `Via` added.
 * Any failure becomes an error response with `x-verge-error` (errors.ts) and a
 * log line; `handle` never throws.
 */
import { VergeError, hasCode, type VergeErrorCode } from "../shared/errors.ts";
import { createRequestId } from "../shared/cloudfront/index.ts";
import { matchPathPattern } from "../shared/path-pattern.ts";
import { headersInit, partsOf, type HeaderList } from "../shared/http.ts";
import { failureReport } from "../runtime/index.ts";
import type { CacheKeyPolicy } from "../shared/protocol.ts";
import type { CachedResponse, CacheResult, CacheServeOptions, ImmediateHit, Pipeline, UpgradeOutcome, ViewerInfo, ViewerRequest } from "./types.ts";
import { codeOf, errorResponse, messageOf, statusFor } from "./errors.ts";
import { lambdaViewerRequest, makeResponse, NULL_BODY } from "./events.ts";
import { fill } from "./fill.ts";
import type { Context, Flow, FlowRequest, PipelineOptions } from "./flow.ts";
import { requestUrl } from "./flow.ts";
import { inspectRequest, hostName } from "./hardening.ts";
import { headersToList, listToHeaders, setHeader, stripHopByHop, viaEntry, viewerHeaders, withNormalizedEncoding } from "./headers.ts";
import { createInvoker } from "./invoker.ts";
import { dropViewerCloudFrontHeaders, withCloudFrontHeaders } from "./cloudfront-headers.ts";
import { createOriginFetcher } from "./origin.ts";
import { createOriginUpgrader } from "./origin-upgrade.ts";
import { upgradeFlow } from "./upgrade.ts";
import { recordSent, withRecord, type RecordDraft } from "./record.ts";
import { bodyFrom } from "./request-body.ts";
import { passesThrough, runResponseEvent } from "./response-event.ts";
import { workersViewerRequest, type AnswerData } from "./workers.ts";
import { serviceHostOutside, type ServiceScope } from "./services.ts";
import type { ServiceHost } from "../runtime/index.ts";

/** URLs whose cache key each policy remembers (oldest forgotten first). */
const KNOWN_KEYS = 4096;

export interface EdgePipeline extends Pipeline {
  /** In-flight invocations per `tenant/function` in this process. */
  inFlight(): Record<string, number>;
  /** Closes the origin connection pools (when the pipeline made them). */
  close(): Promise<void>;
  /**
   * Service bindings for an invocation outside a viewer request (a cron run's `scheduled()`), run
   * as a request's are (services.ts); undefined when the pipeline runs none (`serviceBindings`).
   */
  serviceHost(scope: ServiceScope): ServiceHost | undefined;
}

/**
 * @example
 * const pipeline = createPipeline({ runtime, state, cache, quarantine, nodeId: "edge-1" });
 * const response = await pipeline.handle(request, { clientIp: "203.0.113.9", scheme: "https" });
 */
export function createPipeline(options: PipelineOptions): EdgePipeline {
  const now = options.now ?? Date.now;
  const fetcher = options.fetchOrigin === undefined ? createOriginFetcher({ allowPrivateAddresses: options.allowPrivateOrigins === true, allowHosts: options.allowOriginHosts ?? [] }) : null;
  const log = (line: object): void => {
    try {
      options.log?.(line);
    } catch {
      // a failing logger must not fail the request
    }
  };
  const invoker = createInvoker({ ...options, log });
  const ctx: Context = { options, invoker, fetchOrigin: options.fetchOrigin ?? fetcher!.fetch, framingChecked: fetcher !== null };
  const upgrader = options.upgradeOrigin ?? createOriginUpgrader({ allowPrivateAddresses: options.allowPrivateOrigins === true, allowHosts: options.allowOriginHosts ?? [] });
  const via = viaEntry(options.nodeId);

  /** `handle`, but a response that is ready at once (a fresh cache hit with no function to run) is returned as it is. */
  function handleNow(input: Request | ViewerRequest, viewer: ViewerInfo): Response | Promise<Response> {
    return start(asViewerRequest(input), viewer, false) as Response | Promise<Response>;
  }

  /** `handleNow`, `asParts`: a fresh plain hit comes back as an {@link ImmediateHit} (`Pipeline.answerNow`). */
  function start(request: ViewerRequest, viewer: ViewerInfo, asParts: boolean): ImmediateHit | Response | Promise<Response> {
    const draft = newDraft(request);
    let out: ImmediateHit | Response | Promise<Response>;
    try {
      out = serve(request, viewer, draft, asParts);
    } catch (err) {
      out = failure(err, draft);
    }
    if (out instanceof Promise) {
      return out.then(
        (response) => recorded(response, draft),
        (err: unknown) => recorded(failure(err, draft), draft),
      );
    }
    // An ImmediateHit's record is on its way already (hitParts).
    return out instanceof Response ? recorded(out, draft) : out;
  }

  function newDraft(request: ViewerRequest): RecordDraft {
    return { requestId: createRequestId(), started: now(), method: request.method, host: "", path: "", distribution: null, cache: null, invocations: [] };
  }

  /** A WebSocket handshake (upgrade.ts), recorded as a request: a 101 when it became a tunnel or a Worker's socket. */
  async function upgrade(request: ViewerRequest, viewer: ViewerInfo): Promise<UpgradeOutcome> {
    const draft = newDraft(request);
    try {
      const flow = begin(request, viewer, draft);
      const step = await upgradeFlow(ctx, upgrader, flow, serveSubrequest);
      if (step.kind === "answer") return { kind: "answer", response: recorded(finalize(step.response, flow), draft) };
      recordSent(101, 0, draft, now, options.onRecord);
      // The viewer's 101: the origin's (or the Worker's) lines as any answer's, and the two that switch protocols.
      const headers = viewerHeaders(step.headers, null, flow.requestId, via);
      headers.push(["connection", "Upgrade"], ["upgrade", "websocket"]);
      if (step.kind === "socket") return { kind: "socket", headers, end: step.end };
      return { kind: "tunnel", headers, socket: step.socket, head: step.head };
    } catch (err) {
      return { kind: "answer", response: recorded(failure(err, draft), draft) };
    }
  }

  function recorded(response: Response, draft: RecordDraft): Response {
    try {
      return withRecord(response, draft, now, options.onRecord);
    } catch {
      // Never throws: a broken log or record listener costs the record, not the response.
      return response;
    }
  }

  /** Steps 1–6; synchronous up to the first step that has to wait (see `handleNow`). */
  function serve(request: ViewerRequest, viewer: ViewerInfo, draft: RecordDraft, asParts: boolean): ImmediateHit | Response | Promise<Response> {
    const flow = begin(request, viewer, draft);
    // Nothing to run at viewer-request or viewer-response: a fresh hit is answered now.
    if (flow.behavior.functions["viewer-request"] === undefined && flow.behavior.functions["viewer-response"] === undefined) {
      addCloudFrontHeaders(flow, flow.request);
      const cacheable = flow.request.method === "GET" || flow.request.method === "HEAD" ? cacheRequest(flow, flow.request) : undefined;
      const cached = cacheable === undefined ? undefined : lookupHit(flow, draft, cacheable);
      if (cached === undefined) return afterViewerRequest(flow, draft, cacheable);
      return (asParts ? hitParts(cached, flow, draft) : undefined) ?? finalizeCached(cached, flow);
    }
    return viewerRequest(flow, draft);
  }

  /** 1. The request checked; one state for the whole request; the distribution by host, the behavior by path. Throws what `failure` renders. */
  function begin(request: ViewerRequest, viewer: ViewerInfo, draft: RecordDraft): Flow {
    const inspection = inspectRequest(request);
    if (!inspection.ok) throw new VergeError(inspection.code as VergeErrorCode, inspection.message);
    const head = inspection.head;
    draft.host = head.host;
    draft.path = head.path;

    const state = options.state.current();
    const distribution = state.distributionFor(head.host);
    if (distribution === undefined) throw new VergeError("ERR_NO_DISTRIBUTION", `no distribution serves host ${JSON.stringify(head.host)}`);
    const flow: Flow = {
      requestId: draft.requestId,
      state,
      viewer,
      distribution,
      distributionId: `${distribution.tenant}/${distribution.name}`,
      ...matchBehavior(distribution, head.path),
      scheme: head.scheme,
      hostHeader: head.hostHeader,
      host: head.host,
      // CloudFront's own viewer headers are the edge's to set (cloudfront-headers.ts).
      request: { method: head.method, uri: head.path, querystring: head.querystring, headers: options.keepViewerCloudFrontHeaders === true ? head.headers : dropViewerCloudFrontHeaders(head.headers), body: bodyFrom(head.method === "GET" || head.method === "HEAD" ? null : request.body()) },
      cache: null,
      invocations: draft.invocations,
    };
    draft.distribution = flow.distributionId;
    return flow;
  }

  /**
   * A fresh plain hit as the parts `finalizeCached` would make a `Response` of: the
   * viewer's headers flat, from the entry's template, with `Content-Length`; its
   * record scheduled as `withRecord` schedules one for a body in memory. Undefined
   * where the template does not apply or the status has no body.
   */
  function hitParts(cached: CachedResponse, flow: Flow, draft: RecordDraft): ImmediateHit | undefined {
    const template = NULL_BODY.has(cached.status) ? null : templateFor(cached.stored, cached.result);
    if (template === null) return undefined;
    const headers = template.flat.slice();
    headers[template.flatAgeAt] = cached.age;
    headers[template.flatIdAt] = flow.requestId;
    const body = flow.request.method === "HEAD" ? null : cached.body;
    if (body !== null && !template.flatHasLength) headers.push("content-length", String(body.byteLength));
    recordSent(cached.status, body?.byteLength ?? 0, draft, now, options.onRecord);
    return { immediate: true, status: cached.status, headers, body };
  }

  /** 2. viewer-request, then the rest. */
  async function viewerRequest(flow: Flow, draft: RecordDraft): Promise<Response> {
    const onRequest = flow.behavior.functions["viewer-request"];
    if (onRequest !== undefined) {
      let answered: Response | AnswerData | null;
      try {
        answered = await ctx.invoker.invoke(flow, "viewer-request", onRequest, async (spec, lambda) => {
          if (!lambda) return workersViewerRequest(ctx, flow, spec, serveSubrequest);
          return lambdaViewerRequest(ctx, flow, spec, onRequest.includeBody);
        });
      } catch (err) {
        // ctx.passThroughOnException(): on an exception the request goes on as if no function ran,
        // when its body was not handed to the function.
        if (!passesThrough(err) || !flow.request.body.absent) throw err;
        answered = null;
      }
      if (answered !== null) {
        draft.cache = flow.cache;
        // Plain data has its headers as a list; a Response never does.
        if (!Array.isArray((answered as { headers: unknown }).headers)) return finalize(answered as Response, flow);
        answered = answered as AnswerData;
        // As finalize(dataToResponse(answered)) would make it, without the Response in between.
        const headers = viewerHeaders(answered.headers, flow.cache, flow.requestId, via);
        return makeResponse(answered.status, answered.statusText, headers, flow.request.method === "HEAD" ? null : answered.body);
      }
    }

    addCloudFrontHeaders(flow, flow.request);
    const cacheable = flow.request.method === "GET" || flow.request.method === "HEAD" ? cacheRequest(flow, flow.request) : undefined;
    if (cacheable !== undefined && flow.behavior.functions["viewer-response"] === undefined) {
      const cached = lookupHit(flow, draft, cacheable);
      if (cached !== undefined) return finalizeCached(cached, flow);
    }
    return afterViewerRequest(flow, draft, cacheable);
  }

  /**
   * 3. A fresh hit from the cache's `lookup`, when there is no viewer-response
   * to run: the stored parts go straight into the viewer's response.
   */
  function lookupHit(flow: Flow, draft: RecordDraft, cacheable: Omit<CacheServeOptions, "fill">): CachedResponse | undefined {
    const cached = options.cache.lookup?.(cacheable);
    if (cached !== undefined) draft.cache = flow.cache = cached.result;
    return cached;
  }

  /** Steps 3–6 after viewer-request (`cacheable`: the cache request of a GET or HEAD, already made). */
  async function afterViewerRequest(flow: Flow, draft: RecordDraft, cacheable: Omit<CacheServeOptions, "fill"> | undefined): Promise<Response> {
    // 3–4. Cache, and on a miss the origin.
    const onResponse = flow.behavior.functions["viewer-response"];
    let response = await throughCache(flow, flow.request, cacheable);
    draft.cache = flow.cache;

    // 5. viewer-response, except on error statuses.
    if (onResponse !== undefined && response.status < 400) {
      response = await runResponseEvent(ctx, flow, { eventType: "viewer-response", association: onResponse, request: flow.request, url: requestUrl(flow), response });
    }
    return finalize(response, flow);
  }

  /** After viewer-request: the CloudFront viewer headers the behavior's cache key names (cloudfront-headers.ts). */
  function addCloudFrontHeaders(flow: Flow, req: FlowRequest): void {
    req.headers = withCloudFrontHeaders(req.headers, flow.behavior.cacheKey, flow.scheme);
  }

  /** What the cache is asked for a GET or HEAD of `flow`'s distribution (all but the fill). */
  function cacheRequest(flow: Flow, req: FlowRequest): Omit<CacheServeOptions, "fill"> {
    // Variants of `Vary: Accept-Encoding` (and a key that names the header) see it normalised, as the origin does (fill.ts).
    const request = new CacheRequest(req.method, withNormalizedEncoding(req.headers));
    return { key: cacheKeyOf(flow, req, request), request, path: req.uri, distribution: flow.distributionId, ttl: flow.behavior.ttl };
  }

  /** Steps 3–4 for one request of `flow`'s distribution: the cache, filled from the origin on a miss. */
  async function throughCache(flow: Flow, req: FlowRequest, prepared?: Omit<CacheServeOptions, "fill">): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      flow.cache = "Bypass";
      return fill(ctx, flow, req, {}, false);
    }
    const asked = prepared ?? cacheRequest(flow, req);
    const { response, result } = await options.cache.serve({ ...asked, fill: (conditional) => fill(ctx, flow, req, conditional, true) });
    flow.cache = result;
    return response;
  }

  /**
   * The viewer's headers for hits of one stored entry differ only in `Age`
   * and the request id: they are made once per stored header list (frozen,
   * shared while the entry is unchanged) and cache result, then copied.
   */
  const templates = new WeakMap<Readonly<HeaderList>, Map<CacheResult, ViewerTemplate | null>>();
  function templateFor(stored: Readonly<HeaderList>, result: CacheResult): ViewerTemplate | null {
    if (!Object.isFrozen(stored)) return null;
    let byResult = templates.get(stored);
    if (byResult === undefined) templates.set(stored, (byResult = new Map()));
    let template = byResult.get(result);
    if (template === undefined) {
      template = viewerTemplate(stored, result, via);
      byResult.set(result, template);
    }
    return template;
  }

  /** 6. for a {@link CachedResponse}: the same headers `finalize` makes, from a template when there is one. */
  function finalizeCached(cached: CachedResponse, flow: Flow): Response {
    const body = flow.request.method === "HEAD" ? null : cached.body;
    const template = templateFor(cached.stored, cached.result);
    if (template === null) return makeResponse(cached.status, cached.statusText, viewerHeaders(cached.headers, cached.result, flow.requestId, via), body);
    const headers = template.list.slice();
    headers[template.ageAt] = ["age", cached.age];
    headers[template.idAt] = ["x-verge-request-id", flow.requestId];
    const init = { ...template.init };
    init["age"] = cached.age;
    init["x-verge-request-id"] = flow.requestId;
    return makeResponse(cached.status, cached.statusText, headers, body, init);
  }

  /**
   * The cache key of a request. A policy that keys on no header and no cookie
   * makes it a function of the URL alone (with the distribution, behavior and
   * host), so it is remembered per URL for each policy object (a new applied
   * state brings new ones): a hot URL is not parsed and hashed again per hit.
   */
  const keysByPolicy = new WeakMap<CacheKeyPolicy, Map<string, string>>();
  function cacheKeyOf(flow: Flow, req: FlowRequest, request: { readonly headers: Headers }): string {
    const policy = flow.behavior.cacheKey;
    const href = requestUrl(flow, req);
    const input = () => ({ distribution: flow.distributionId, behavior: flow.behaviorName, host: flow.host, url: new URL(href), headers: request.headers, policy });
    if (policy.headers.behavior !== "none" || policy.cookies.behavior !== "none") return options.cache.key(input());
    let known = keysByPolicy.get(policy);
    if (known === undefined) keysByPolicy.set(policy, (known = new Map()));
    const id = `${flow.distributionId}\n${flow.behaviorName}\n${flow.host}\n${href}`;
    let key = known.get(id);
    if (key === undefined) {
      key = options.cache.key(input());
      if (known.size >= KNOWN_KEYS) known.delete(known.keys().next().value!);
      known.set(id, key);
    }
    return key;
  }

  /** A Workers viewer-request handler's fetch() to its own distribution (workers.ts). */
  async function serveSubrequest(flow: Flow, req: FlowRequest, hostHeader: string): Promise<Response> {
    let response: Response;
    const sub: Flow = { ...flow, hostHeader, host: hostName(hostHeader), request: req, cache: null };
    try {
      Object.assign(sub, matchBehavior(flow.distribution, req.uri));
      addCloudFrontHeaders(sub, req);
      response = await throughCache(sub, req);
    } catch (err) {
      // As the viewer would see it: the handler gets the 5xx (with x-verge-error), not an exception.
      return failure(err, { requestId: flow.requestId, method: req.method, distribution: flow.distributionId, host: sub.host, path: req.uri }, "subrequest failed");
    }
    flow.cache = sub.cache;
    const parts = readParts(response);
    let headers = stripHopByHop(parts.headers);
    if (sub.cache !== null) headers = setHeader(headers, "x-verge-cache", sub.cache);
    return makeResponse(parts.status, parts.statusText, headers, req.method === "HEAD" ? discardBody(parts.body) : parts.body);
  }

  /** 6. What goes to the viewer. */
  function finalize(response: Response, flow: Flow): Response {
    const parts = readParts(response);
    const headers = viewerHeaders(parts.headers, flow.cache, flow.requestId, via);
    return makeResponse(parts.status, parts.statusText, headers, flow.request.method === "HEAD" ? discardBody(parts.body) : parts.body);
  }

  function failure(err: unknown, draft: Pick<RecordDraft, "requestId" | "method" | "distribution" | "host" | "path" | "error">, msg = "request failed"): Response {
    const code = codeOf(err);
    const message = messageOf(err);
    draft.error = { code, message };
    const details = hasCode(err) ? ((err as VergeError).details ?? {}) : {};
    const status = statusFor(code);
    const line = {
      level: status >= 500 ? "error" : "warn",
      msg,
      code,
      status,
      message,
      requestId: draft.requestId,
      node: options.nodeId,
      ...(options.region !== undefined ? { region: options.region } : {}),
      distribution: draft.distribution,
      host: draft.host,
      path: draft.path,
      event: details["event"] ?? null,
      function: details["function"] ?? null,
      digest: details["digest"] ?? null,
      ...(status === 500 && err instanceof Error ? { stack: err.stack } : {}),
    };
    // A function that ran and failed: the line waits for its report (it settles when the invocation is over) to say what it used.
    const report = failureReport(err);
    if (report === undefined) log(line);
    else report.then((r) => log({ ...line, cpuMs: r.limits.cpuMs.used, wallMs: r.limits.wallMs.used }), () => log(line));
    const res = errorResponse(code, draft.requestId, draft.method.toUpperCase());
    res.headers.append("via", `1.1 ${options.nodeId} (verge)`);
    return res;
  }

  return {
    handle: async (input, viewer) => handleNow(input, viewer),
    handleNow,
    answerNow: (request, viewer) => start(request, viewer, true),
    upgrade,
    inFlight: () => invoker.inFlight(),
    close: async () => {
      await fetcher?.close();
    },
    serviceHost: (scope) => serviceHostOutside(ctx, scope),
  };
}

/** The viewer's headers for a stored header list plus `Age`, with the slots that change per hit. */
interface ViewerTemplate {
  list: HeaderList;
  init: Record<string, string>;
  ageAt: number;
  idAt: number;
  /** `init` as `[name, value, ...]`, what a server adapter writes for it (`hitParts`), and where `Age` and the request id are in it. */
  flat: string[];
  flatAgeAt: number;
  flatIdAt: number;
  /** The stored headers have a `Content-Length` (it goes out as it is, as the app's path sends it). */
  flatHasLength: boolean;
}

function viewerTemplate(stored: Readonly<HeaderList>, result: CacheResult, via: string): ViewerTemplate | null {
  const list = viewerHeaders([...stored, ["age", "0"]], result, "-", via);
  const ageAt = list.findIndex(([n]) => n === "age");
  const idAt = list.findIndex(([n]) => n === "x-verge-request-id");
  // Only when each appears once (a Connection header could have named Age away) and the init is a plain object.
  if (ageAt === -1 || idAt === -1 || list.filter(([n]) => n === "age" || n === "x-verge-request-id").length !== 2) return null;
  const init = headersInit(list);
  if (init instanceof Headers) return null;
  const names = Object.keys(init);
  const flat = names.flatMap((name) => [name, init[name]!]);
  return { list, init, ageAt, idAt, flat, flatAgeAt: 2 * names.indexOf("age") + 1, flatIdAt: 2 * names.indexOf("x-verge-request-id") + 1, flatHasLength: names.includes("content-length") };
}

/**
 * The request the cache sees: method, the header list, and `Headers` built
 * only if the cache needs them (a response to store, a key that names
 * headers or cookies).
 */
class CacheRequest {
  readonly method: string;
  readonly lines: HeaderList;
  #headers: Headers | undefined;
  constructor(method: string, lines: HeaderList) {
    this.method = method;
    this.lines = lines;
  }
  get headers(): Headers {
    return (this.#headers ??= listToHeaders(this.lines));
  }
}

function matchBehavior(distribution: Flow["distribution"], path: string): Pick<Flow, "behavior" | "behaviorName" | "origin"> {
  const behavior = distribution.behaviors.find((b) => matchPathPattern(b.pathPattern, path));
  const chosen = behavior ?? distribution.defaultBehavior;
  const origin = distribution.origins.find((o) => o.id === chosen.originId);
  if (origin === undefined) {
    throw new VergeError("ERR_NO_ORIGIN", `distribution ${distribution.tenant}/${distribution.name}: behavior ${behavior?.pathPattern ?? "default"} names origin ${JSON.stringify(chosen.originId)}, which it does not have`);
  }
  return { behavior: chosen, behaviorName: behavior?.pathPattern ?? "default", origin };
}

/** A `Request` (tests, the harness) as the plain request the server adapter gives. */
function asViewerRequest(input: Request | ViewerRequest): ViewerRequest {
  if (Array.isArray(input.headers)) return input as ViewerRequest;
  const request = input as Request;
  return { method: request.method, url: request.url, headers: headersToList(request.headers), body: () => request.body };
}

/** A response's parts: as made (cache entries, generated responses), else read from the `Response`. */
function readParts(response: Response): { status: number; statusText: string; headers: HeaderList; body: Uint8Array | ReadableStream<Uint8Array> | null } {
  const known = partsOf(response);
  if (known !== undefined) return known;
  return { status: response.status, statusText: response.statusText, headers: headersToList(response.headers), body: response.body };
}

function discardBody(body: Uint8Array | ReadableStream<Uint8Array> | null): null {
  if (body instanceof ReadableStream) void body.cancel().catch(() => {});
  return null;
}
