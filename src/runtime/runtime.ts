/**
 * The runtime's face: run one event of one function through the warm pool, in
 * whatever dialect the function is written (DESIGN.md §3). The edge node uses
 * it in-process; the harness uses it behind the child-process host.
 */
import { VergeError } from "../shared/errors.ts";
import type { RequestData, ResponseData } from "../shared/http.ts";
import { readBody } from "../shared/http.ts";
import type { CloudFrontEventType } from "../shared/limits.ts";
import type { CloudFrontEvent, CloudFrontGeneratedResponse, CloudFrontRecordData, CloudFrontRequest } from "../shared/cloudfront/index.ts";
import {
  assertLambdaResult,
  assertLambdaResultOf,
  buildCloudFrontEvent,
  cfRequestToRequestData,
  cfHeadersToHeaderList,
  cfResponseToResponseData,
  getCloudFrontRecord,
  keepReadOnlyHeaders,
  responseDataToCfResponse,
} from "../shared/cloudfront/index.ts";
import type { CacheApiHost, HostServices, ServiceHost } from "./host-services.ts";
import type { ActiveInvocation, InvocationOutcome, InvocationReport } from "./invocation.ts";
import { IsolatePool, type FunctionSpec, type PoolStats } from "./pool.ts";
import { withFailureReport } from "./failure-report.ts";
import type { DialectInfo, Invocation } from "./bridge/protocol.ts";
import type { WebSocketEnd } from "../shared/websocket.ts";
import { lambdaContextBase, type NodeIdentity } from "./lambda-context.ts";

export interface RuntimeOptions {
  services: HostServices;
  idleMemoryBytes?: number;
  maxIsolatesPerFunction?: number;
  /** Isolates of every function together in this process (the pool's maxIsolates, default 512). */
  maxIsolates?: number;
  /** Isolates of one tenant's functions together (the pool's maxIsolatesPerTenant, default half of maxIsolates). */
  maxIsolatesPerTenant?: number;
  /** The edge node this runtime serves, named in a Lambda@Edge handler's `context` (ARN region, log stream); absent locally. */
  node?: NodeIdentity;
}

export interface FetchInvokeOptions {
  /** Workers' `request.cf`. */
  cf?: Record<string, unknown>;
  /** A Lambda@Edge function called with a request runs as this event (default viewer-request). */
  eventType?: "viewer-request" | "origin-request";
  clientIp?: string;
  /**
   * Where the function's own `fetch()` calls go for this invocation, instead of
   * the host's guarded fetch: an edge node passes its pipeline here, so a
   * Workers handler's `fetch(request)` continues through cache and origin.
   */
  subrequest?: HostServices["fetch"];
  /**
   * The function's `caches` for this invocation, instead of the host services'
   * (`HostServices.caches`): an edge pipeline passes its response cache with the
   * distribution as `caches.default`.
   */
  caches?: CacheApiHost;
  /**
   * Where the function's service binding calls (`env.NAME.fetch()`) go for this invocation,
   * instead of the host services' (`HostServices.service`): an edge node passes one bound to
   * the request's tenant, versions and call depth.
   */
  service?: ServiceHost;
  /**
   * The caller gives up when it aborts (a service binding call's caller aborted its fetch, ended,
   * or its viewer left): a Workers handler that has not answered by then is ended with
   * ERR_CANCELLED and its isolate goes back to the pool (ActiveInvocation.cancel). Once it
   * answered, its body and waitUntil run on (a reader that leaves cancels the body).
   */
  signal?: AbortSignal;
}

export type FetchInvokeResult =
  /** `response.webSocket`: a Workers handler's 101 with a WebSocket, the connection to it (the invocation lasts as long). */
  | { type: "response"; response: ResponseData & { webSocket?: WebSocketEnd; tunnel?: number }; cold: boolean; finished: Promise<InvocationReport> }
  /** A Lambda@Edge request handler let the request continue (possibly changed). */
  | { type: "request"; request: RequestData; cold: boolean; finished: Promise<InvocationReport> };

export interface EventInvokeResult {
  kind: "request" | "response";
  result: CloudFrontRequest | CloudFrontGeneratedResponse;
  cold: boolean;
  finished: Promise<InvocationReport>;
}

export interface Runtime {
  /** Loads (or finds warm) the function and reports its dialect; throws its load error. */
  load(spec: FunctionSpec): { dialect: DialectInfo; startupCpuMs: number };
  fetch(spec: FunctionSpec, request: RequestData, options?: FetchInvokeOptions): Promise<FetchInvokeResult>;
  event(spec: FunctionSpec, event: CloudFrontEvent): Promise<EventInvokeResult>;
  /** `options.service`: where the handler's service binding calls go (an edge node's cron run), instead of the host services'. */
  scheduled(spec: FunctionSpec, cron: string, scheduledTime?: number, options?: { service?: ServiceHost }): Promise<{ finished: Promise<InvocationReport> }>;
  warm(spec: FunctionSpec, count: number): void;
  stats(): PoolStats;
  dispose(): void;
}

export function createRuntime(options: RuntimeOptions): Runtime {
  const pool = new IsolatePool({
    services: options.services,
    ...(options.idleMemoryBytes !== undefined ? { idleMemoryBytes: options.idleMemoryBytes } : {}),
    ...(options.maxIsolatesPerFunction !== undefined ? { maxIsolatesPerFunction: options.maxIsolatesPerFunction } : {}),
    ...(options.maxIsolates !== undefined ? { maxIsolates: options.maxIsolates } : {}),
    ...(options.maxIsolatesPerTenant !== undefined ? { maxIsolatesPerTenant: options.maxIsolatesPerTenant } : {}),
  });

  /** Runs one job on a pooled sandbox; the sandbox returns to the pool when the invocation is over. */
  // A version's fixed context fields, made on its first Lambda@Edge event in this process.
  const contextBases = new WeakMap<FunctionSpec["source"], Record<string, string>>();

  async function run(spec: FunctionSpec, job: Invocation, body: AsyncIterable<Uint8Array> | null, subrequest?: HostServices["fetch"], caches?: CacheApiHost, service?: ServiceHost) {
    const { sandbox, cold } = pool.acquire(spec);
    let outcome: InvocationOutcome;
    try {
      outcome = await sandbox.invoke(job, body, subrequest, caches, service);
    } catch (err) {
      pool.release(spec, sandbox);
      throw err;
    }
    outcome.finished.then(() => pool.release(spec, sandbox));
    // The report travels with the error (failure-report.ts): the invocation ran, and its use counts.
    if (outcome.kind === "error") throw withFailureReport(outcome.error, outcome.finished);
    return { outcome, cold, sandbox };
  }

  /**
   * A Lambda@Edge handler on `event` (whose record `cf` the caller read), its result checked.
   * As `run`, written out: the hot path of a Lambda@Edge event, one promise turn per call.
   */
  async function runLambda(spec: FunctionSpec, event: CloudFrontEvent, cf: CloudFrontRecordData): Promise<EventInvokeResult> {
    const eventType = cf.config.eventType as CloudFrontEventType;
    let base = contextBases.get(spec.source);
    if (base === undefined) contextBases.set(spec.source, (base = lambdaContextBase(spec.source, options.node, new Date())));
    // timeoutMs is the guest's, for getRemainingTimeInMillis; the handler does not see it.
    const context = { ...base, awsRequestId: cf.config.requestId, memoryLimitInMB: String(spec.limits.memoryMb), timeoutMs: spec.limits.wallMs };
    const { sandbox, cold } = pool.acquire(spec);
    let outcome: InvocationOutcome;
    try {
      outcome = await sandbox.invoke({ kind: "cloudfront", event, context }, null);
    } catch (err) {
      pool.release(spec, sandbox);
      throw err;
    }
    outcome.finished.then(() => pool.release(spec, sandbox));
    if (outcome.kind === "error") throw withFailureReport(outcome.error, outcome.finished);
    try {
      if (outcome.kind !== "result") throw new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: expected a Lambda@Edge result`);
      const checked = assertLambdaResultOf(cf, eventType, outcome.result, { responseBytes: spec.limits.responseBytes ?? defaultGenerated(eventType) });
      return { kind: checked.kind, result: checked.value, cold, finished: outcome.finished };
    } catch (err) {
      throw withFailureReport(err, outcome.finished);
    }
  }

  // The dialect depends on the code only: found once per version, not per request.
  const dialects = new Map<string, DialectInfo>();
  function dialectOf(spec: FunctionSpec): DialectInfo {
    let d = dialects.get(spec.source.id);
    if (d === undefined) {
      const { sandbox } = pool.acquire(spec);
      d = sandbox.dialect;
      pool.release(spec, sandbox);
      dialects.set(spec.source.id, d);
    }
    return d;
  }

  /**
   * A Workers handler at origin-response or viewer-response (DESIGN.md §3: any dialect at any
   * event), as the edge pipeline runs one (src/pipeline/workers.ts): it gets the request, and its
   * `fetch()` of that request's own URL resolves to the response at hand (status and headers from
   * the event; a Lambda@Edge response event carries no body). The Response it returns is the
   * result, checked as a Lambda@Edge result at that event: a body it made (even empty) replaces
   * the original; no body (`new Response(null, r)`, or the fetched one passed on) keeps it.
   */
  async function workersAtResponse(spec: FunctionSpec, event: CloudFrontEvent, eventType: "origin-response" | "viewer-response", request: RequestData): Promise<EventInvokeResult> {
    const cf = getCloudFrontRecord(event);
    const own = request.url.split("#")[0];
    const atHand: ResponseData = { status: Number(cf.response!.status), statusText: cf.response!.statusDescription ?? "", headers: cfHeadersToHeaderList(cf.response!.headers), body: null };
    const subrequest: HostServices["fetch"] = (req, init) => (req.url.split("#")[0] === own ? Promise.resolve({ ...atHand }) : options.services.fetch(req, init));
    const { outcome, cold } = await run(spec, { kind: "fetch", request: { ...request, body: request.body instanceof Uint8Array ? request.body : null } }, null, subrequest);
    try {
      if (outcome.kind !== "response") throw new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: expected a Response`);
      refuseSocket(spec, outcome.response, eventType);
      const res = outcome.response;
      const bytes = res.body === null ? null : await readBody(res.body);
      const headers = keepReadOnlyHeaders(eventType, cf.response!.headers, res.headers);
      const result = responseDataToCfResponse({ status: res.status, statusText: res.statusText, headers, body: bytes });
      if (bytes === null) delete (result as { body?: unknown }).body;
      const checked = assertLambdaResult(eventType, event, result, { responseBytes: spec.limits.responseBytes ?? defaultGenerated(eventType) });
      return { kind: checked.kind, result: checked.value, cold, finished: outcome.finished };
    } catch (err) {
      throw withFailureReport(err, outcome.finished);
    }
  }

  /** A Lambda@Edge handler called with a request (as the event it would get at viewer-request or origin-request). */
  async function lambdaFetch(spec: FunctionSpec, request: RequestData, opts: FetchInvokeOptions): Promise<FetchInvokeResult> {
    const url = new URL(request.url);
    const buffered = { ...request, body: request.body === null ? null : await readBody(request.body) };
    const eventType = opts.eventType ?? "viewer-request";
    const event = buildCloudFrontEvent({
      eventType,
      request: buffered,
      clientIp: opts.clientIp ?? "127.0.0.1",
      distribution: { domainName: url.host, id: "VERGELOCAL" },
      ...(eventType === "origin-request" ? { origin: { custom: { domainName: url.hostname, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)), protocol: url.protocol === "https:" ? "https" : "http", path: "", sslProtocols: ["TLSv1.2"], readTimeout: 30, keepaliveTimeout: 5, customHeaders: {} } } } : {}),
      includeBody: true,
      bodyLimit: spec.limits.exposedBodyBytes,
    } as Parameters<typeof buildCloudFrontEvent>[0]);
    const r = await runLambda(spec, event as CloudFrontEvent, getCloudFrontRecord(event));
    if (r.kind === "response") return { type: "response", response: cfResponseToResponseData(r.result as CloudFrontGeneratedResponse), cold: r.cold, finished: r.finished };
    return { type: "request", request: cfRequestToRequestData(r.result as CloudFrontRequest, { scheme: url.protocol.replace(":", "") as "http" | "https", host: url.host }), cold: r.cold, finished: r.finished };
  }

  /** A Workers handler's fetch: as `run`, written out (the hot path of a Workers request, one promise turn). */
  async function workersFetch(spec: FunctionSpec, request: RequestData, opts: FetchInvokeOptions): Promise<FetchInvokeResult> {
    const body = request.body instanceof Uint8Array || request.body === null ? null : request.body;
    const job: Invocation = {
      kind: "fetch",
      request: { method: request.method, url: request.url, headers: request.headers, body: request.body instanceof Uint8Array ? request.body : null },
      cf: opts.cf,
    };
    const { sandbox, cold } = pool.acquire(spec);
    let outcome: InvocationOutcome;
    try {
      const answered = sandbox.invoke(job, body, opts.subrequest, opts.caches, opts.service);
      if (opts.signal !== undefined) cancelOnAbort(opts.signal, sandbox.active, spec.source.id);
      outcome = await answered;
    } catch (err) {
      pool.release(spec, sandbox);
      throw err;
    }
    outcome.finished.then(() => pool.release(spec, sandbox));
    if (outcome.kind === "error") throw withFailureReport(outcome.error, outcome.finished);
    if (outcome.kind !== "response") throw new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: expected a Response`);
    const socket = outcome.response.webSocket;
    if ((socket !== undefined || outcome.response.tunnel !== undefined) && !asksForWebSocket(request.headers)) {
      // As workerd: a WebSocket answers a handshake only.
      socket?.abort();
      throw withFailureReport(
        new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: returned a WebSocket (status 101) in a response to a request which did not contain the header "Upgrade: websocket"`),
        outcome.finished,
      );
    }
    return { type: "response", response: outcome.response, cold, finished: outcome.finished };
  }

  /** A Workers handler at a CloudFront event (DESIGN.md §3: any dialect at any event). */
  async function workersEvent(spec: FunctionSpec, event: CloudFrontEvent, cf: CloudFrontRecordData): Promise<EventInvokeResult> {
    const eventType = cf.config.eventType as CloudFrontEventType;
    const host = cf.request.headers.host?.[0]?.value ?? cf.config.distributionDomainName;
    const request = cfRequestToRequestData(cf.request, { scheme: "https", host });
    if (eventType === "origin-response" || eventType === "viewer-response") return workersAtResponse(spec, event, eventType, request);
    const { outcome, cold } = await run(spec, { kind: "fetch", request: { ...request, body: request.body } }, null);
    if (outcome.kind !== "response") throw new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: expected a Response`);
    try {
      refuseSocket(spec, outcome.response, eventType);
    } catch (err) {
      throw withFailureReport(err, outcome.finished);
    }
    const res = outcome.response;
    const bytes = await readBody(res.body);
    const generated = responseDataToCfResponse({ status: res.status, statusText: res.statusText, headers: res.headers, body: bytes });
    const checked = assertLambdaResultOf(cf, eventType, generated, { responseBytes: spec.limits.responseBytes ?? defaultGenerated(eventType) });
    return { kind: checked.kind, result: checked.value, cold, finished: outcome.finished };
  }

  return {
    load(spec) {
      const { sandbox } = pool.acquire(spec);
      const info = { dialect: sandbox.dialect, startupCpuMs: sandbox.startupCpuMs };
      pool.release(spec, sandbox);
      return info;
    },

    fetch(spec, request, opts = {}) {
      let lambda: boolean;
      try {
        lambda = dialectOf(spec).dialect === "lambda";
      } catch (err) {
        return Promise.reject(err);
      }
      return lambda ? lambdaFetch(spec, request, opts) : workersFetch(spec, request, opts);
    },

    event(spec, event) {
      let cf: CloudFrontRecordData;
      let lambda: boolean;
      try {
        cf = getCloudFrontRecord(event);
        lambda = dialectOf(spec).dialect === "lambda";
      } catch (err) {
        return Promise.reject(err);
      }
      // A Lambda@Edge handler's promise is the event's: no extra promise turn on the hot path.
      return lambda ? runLambda(spec, event, cf) : workersEvent(spec, event, cf);
    },

    async scheduled(spec, cron, scheduledTime = Date.now(), opts = {}) {
      const { outcome } = await run(spec, { kind: "scheduled", cron, scheduledTime }, null, undefined, undefined, opts.service);
      return { finished: outcome.finished };
    },

    warm: (spec, count) => pool.warm(spec, count),
    stats: () => pool.stats(),
    dispose: () => pool.dispose(),
  };
}

/**
 * Ends `active` (the invocation just started) when `signal` aborts before it answered. Deferred
 * to its own turn: the abort may come from inside another isolate's entry (a caller's
 * `controller.abort()`, a caller killed over its CPU budget), and the cancel enters this one.
 */
function cancelOnAbort(signal: AbortSignal, active: ActiveInvocation | null, id: string): void {
  if (active === null || active.settled) return;
  const cancel = (): void => {
    setImmediate(() => active.cancel(new VergeError("ERR_CANCELLED", `function ${id}: cancelled before it answered: its caller gave up (aborted its fetch, ended, or its viewer went away)`)));
  };
  if (signal.aborted) return cancel();
  signal.addEventListener("abort", cancel, { once: true });
  void active.outcome.then(() => signal.removeEventListener("abort", cancel));
}

/** A WebSocket in a response that becomes a CloudFront event's result: the connection is refused (there is no viewer to join it to). */
function refuseSocket(spec: FunctionSpec, response: { webSocket?: WebSocketEnd }, eventType: string): void {
  if (response.webSocket === undefined) return;
  response.webSocket.abort();
  throw new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: returned a WebSocket (status 101) at ${eventType}, where the result is a CloudFront event's; a WebSocket answers a handshake a Workers fetch handler receives`);
}

/** The request is a WebSocket handshake (`Upgrade: websocket`). */
function asksForWebSocket(headers: ReadonlyArray<readonly [string, string]>): boolean {
  return headers.some(([name, value]) => name.toLowerCase() === "upgrade" && value.split(",").some((v) => v.trim().toLowerCase() === "websocket"));
}

/** Lambda@Edge's generated-response quota when the profile sets none. */
function defaultGenerated(eventType: CloudFrontEventType): number {
  return eventType.startsWith("viewer") ? 40 * 1024 : 1024 * 1024;
}
