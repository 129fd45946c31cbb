/**
 * One request's state as it moves through the pipeline: the applied state it
 * took at its start (all four events use it, DESIGN.md §6), the distribution and
 * behavior it matched, the request as the functions have changed it so far, and
 * what it will report.
 */
import type { Distribution, CacheBehavior, DefaultCacheBehavior, Origin } from "../shared/protocol.ts";
import type { HeaderList } from "../shared/http.ts";
import type { Runtime } from "../runtime/index.ts";
import type { HostServices, InvocationReport } from "../runtime/index.ts";
import type { AppliedState, CacheResult, Quarantine, RequestRecord, ResponseCache, StateSource, ViewerInfo } from "./types.ts";
import type { FetchOrigin } from "./origin.ts";
import type { UpgradeOrigin } from "./origin-upgrade.ts";
import type { RequestBody } from "./request-body.ts";
import type { Invoker } from "./invoker.ts";

export interface PipelineOptions {
  runtime: Runtime;
  state: StateSource;
  cache: ResponseCache;
  quarantine: Quarantine;
  /** Names the node in `Via`, logs and records. */
  nodeId: string;
  /** Shown to Workers functions as `request.cf.region`. */
  region?: string;
  /** Called once per request, when its response body has been sent (or abandoned). */
  onRecord?: (record: RequestRecord) => void;
  /** One JSON-able object per error response (and per late function failure). */
  log?: (line: object) => void;
  /** Default: undici, one keep-alive pool per origin (see origin.ts). */
  fetchOrigin?: FetchOrigin;
  /** Sends WebSocket handshakes to origins (tests inject one); default: origin-upgrade.ts over node:http. */
  upgradeOrigin?: UpgradeOrigin;
  /**
   * Keep the CloudFront viewer headers (CloudFront-Viewer-Country, CloudFront-Is-*-Viewer, ...)
   * a viewer sends (local development, where the developer stands in for CloudFront's
   * geolocation). Default: an edge node drops them, they are the edge's to set (cloudfront-headers.ts).
   */
  keepViewerCloudFrontHeaders?: boolean;
  /** Let origins chosen by origin-request functions resolve to private addresses (local development). */
  allowPrivateOrigins?: boolean;
  /** Host names or IP literals an origin-request function may choose even where they resolve to a refused address. */
  allowOriginHosts?: readonly string[];
  /**
   * Where `fetch()` from a Workers handler goes when its URL is not one of the
   * distribution's host names (nor, at origin-request, the origin): pass the
   * node's guarded fetch (the `services.fetch` the runtime was made with).
   * Without it such a fetch fails in the function with a TypeError.
   */
  outbound?: HostServices["fetch"];
  /**
   * Run the functions' service bindings (`env.NAME.fetch()`) as functions of the same tenant in
   * this state (services.ts), as an edge node does. Default: the pipeline leaves them to the
   * runtime's host (the harness runs its `serviceBindings` functions in the test process).
   */
  serviceBindings?: boolean;
  /**
   * Called for each invocation that ran, when it answered (or failed after it
   * started running): its event, and its report (settles when it is over).
   * The harness builds a request's report of its function from these.
   */
  onInvocation?: (invocation: InvocationNote) => void;
  now?: () => number;
}

export interface InvocationNote {
  event: EventType;
  cold: boolean;
  finished: Promise<InvocationReport>;
  /** It failed before answering: the error as the runtime (or the pipeline's result check) threw it. */
  error?: unknown;
}

/** What the pipeline's parts share: the options, the invoker, the origin fetch. */
export interface Context {
  options: PipelineOptions;
  invoker: Invoker;
  fetchOrigin: FetchOrigin;
  /** The origin fetch is the pipeline's own (undici), which never passes a body past its Content-Length. */
  framingChecked: boolean;
}

export type EventType = RequestRecord["invocations"][number]["event"];
export type InvocationEntry = RequestRecord["invocations"][number];

/** The origin a request goes to: the behavior's, or the one an origin-request function chose. */
export interface OriginTarget {
  /** `http(s)://host[:port]` */
  base: string;
  /** Prefixed to the request path; "" or "/x" without a trailing "/". */
  path: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  keepAliveTimeoutMs: number;
  customHeaders: HeaderList;
  chosenByFunction: boolean;
}

/** The request as it is now, after the functions that ran so far. */
export interface FlowRequest {
  method: string;
  uri: string;
  querystring: string;
  headers: HeaderList;
  body: RequestBody;
}

export interface Flow {
  requestId: string;
  state: AppliedState;
  viewer: ViewerInfo;
  distribution: Distribution;
  /** `tenant/name`: the distribution's identity in the cache and records. */
  distributionId: string;
  behavior: CacheBehavior | DefaultCacheBehavior;
  /** The behavior's path pattern, or "default". */
  behaviorName: string;
  origin: Origin;
  scheme: "http" | "https";
  /** The viewer's Host header, as sent. */
  hostHeader: string;
  /** Lowercase host without port. */
  host: string;
  request: FlowRequest;
  cache: CacheResult | null;
  invocations: InvocationEntry[];
}

export function requestUrl(flow: Flow, req: FlowRequest = flow.request): string {
  return `${flow.scheme}://${flow.hostHeader}${req.uri}${req.querystring === "" ? "" : `?${req.querystring}`}`;
}

/** The behavior's configured origin as a target. */
export function configuredTarget(origin: Origin): OriginTarget {
  const url = new URL(origin.url);
  return {
    base: url.origin,
    path: url.pathname.replace(/\/+$/, ""),
    connectTimeoutMs: origin.connectTimeoutMs,
    readTimeoutMs: origin.readTimeoutMs,
    keepAliveTimeoutMs: 5_000,
    customHeaders: Object.entries(origin.customHeaders).map(([k, v]) => [k.toLowerCase(), v]),
    chosenByFunction: false,
  };
}

/** The URL a request goes to at `target`. */
export function targetUrl(target: OriginTarget, req: FlowRequest): string {
  return `${target.base}${target.path}${req.uri}${req.querystring === "" ? "" : `?${req.querystring}`}`;
}

/** `host` header value for a target: host, with the port when it is not the scheme's default. */
export function targetHost(target: OriginTarget): string {
  return new URL(target.base).host;
}
