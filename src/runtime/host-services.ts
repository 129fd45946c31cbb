/**
 * What a sandbox needs from its host, injected so the same sandbox runs in an
 * edge worker process and behind the harness's child-process host.
 */
import type { HeaderList, RequestData, ResponseData } from "../shared/http.ts";
import type { LogEntry } from "./report.ts";
import type { OutboundWebSocket } from "./outbound-websocket.ts";
import type { AssetReader } from "./assets/serve.ts";

export interface FetchOptions {
  signal: AbortSignal;
  redirect: "follow" | "manual" | "error";
}

/**
 * Bodies a binding call streams (R2): `guestStream(id)` reads a stream the guest handed over as
 * `{ stream: id }`; `hostStream(body)` gives the id the guest reads a host body by. Absent when the
 * caller is not an isolate (the harness's host-side objects): bodies then cross as bytes.
 */
export interface BindingIo {
  guestStream(id: number): AsyncIterable<Uint8Array>;
  hostStream(body: AsyncIterable<Uint8Array>): number;
}

/** A binding's host half: the guest calls `method(...args)` as an async op. */
export interface BindingHandler {
  kind: string;
  methods: string[];
  call(method: string, args: unknown[], io?: BindingIo): Promise<unknown>;
  /** Binding operations a call counts for against the per-invocation cap (default 1; a D1 batch: its statements). */
  cost?(method: string, args: unknown[]): number;
  /** A service binding's target (kind "service"): its `fetch()` calls go to a {@link ServiceHost}. */
  service?: string;
  /**
   * A binding that answers `env.NAME.fetch()` itself, in this process (kind "assets": the
   * Worker's static assets); `services` are the host's, for what it reads (`assetBlobs`).
   */
  serve?: (request: RequestData, services: HostServices, signal: AbortSignal) => Promise<ResponseData>;
}

/** One `env.<binding>.fetch()` of function `functionId`, whose binding names service `service`. */
export interface ServiceCall {
  binding: string;
  service: string;
  functionId: string;
}

/**
 * Runs a service binding's target on `request` and gives its response (the body
 * may stream). A host that cannot reach the target rejects; what the target's own
 * failure becomes (an error, a 500) is the host's choice. `signal` aborts when
 * the caller gives up (its invocation ended, or it aborted the fetch).
 */
export type ServiceHost = (call: ServiceCall, request: RequestData, options: { signal: AbortSignal }) => Promise<ResponseData>;

export interface SubtleHost {
  call(method: string, args: unknown[]): Promise<unknown>;
  dispose(): void;
}

/** A request as the Workers Cache API keys it: the URL (no fragment) and the request's headers. */
export interface CacheApiRequest {
  url: string;
  /** Lowercase names: Vary values, conditionals (If-None-Match, If-Modified-Since), Range, cache key policy. */
  headers: HeaderList;
}

/** What `cache.match` answers: a stored response as the cache serves it (200, 206, 304 or 416). */
export interface CacheApiResponse {
  status: number;
  statusText: string;
  headers: HeaderList;
  body: Uint8Array | null;
}

/** What `cache.put` stores; the body is whole bytes or a stream of them (a guest stream, read once). */
export interface CacheApiPut {
  status: number;
  statusText: string;
  headers: HeaderList;
  body: Uint8Array | AsyncIterable<Uint8Array> | null;
}

/**
 * The host half of the guest's `caches` (the Workers Cache API): one cache
 * space, in which `cache` null is `caches.default` and a string is the cache
 * `caches.open(cache)` opened. Who runs the runtime implements it: an edge
 * node and the harness over the response cache (src/pipeline/cache/cache-api.ts).
 * The guest has already refused what Workers refuses (non-GET, 206, `Vary: *`)
 * and resolved what it resolves without the cache (a 304 put, a non-GET match);
 * an implementation checks its input again, as the bridge's caller may be anyone.
 */
export interface CacheApiHost {
  /** A fresh stored response for `request`, or undefined (a miss). */
  match(cache: string | null, request: CacheApiRequest): Promise<CacheApiResponse | undefined>;
  /** Stores `response` under `request` when Workers would; resolves true when it was stored. */
  put(cache: string | null, request: CacheApiRequest, response: CacheApiPut): Promise<boolean>;
  /** Removes what is stored under `request`; true when something was. */
  delete(cache: string | null, request: CacheApiRequest): Promise<boolean>;
}

export interface HostServices {
  /** Subrequests from functions; applies the address policy (see fetch-guard.ts). */
  /**
   * `tunnel`: the subrequest was a WebSocket handshake the host completed and keeps (an edge
   * pipeline's pass-through to its origin, by its own token): the guest's response has a
   * `webSocket` that stands for it, and returning that response hands the token back
   * (`InvocationResponse.tunnel`).
   * `webSocket`: the subrequest was a WebSocket handshake the server accepted (a 101): its
   * connection, which the function's socket joins (an outbound WebSocket); one nobody takes is dropped.
   */
  fetch(request: RequestData, options: FetchOptions): Promise<ResponseData & { url?: string; redirected?: boolean; tunnel?: number; webSocket?: OutboundWebSocket }>;
  /** One per isolate: key material lives here, never in the guest. */
  createSubtle(): SubtleHost;
  /** Called for every console line as it happens (after it is added to the invocation's logs). */
  onLog?: (entry: LogEntry, functionId: string) => void;
  /**
   * Called before guest code of `functionId` runs (bundle evaluation and every
   * entry). An edge worker records the last one where it survives the process
   * (see edge-nodes/supervisor), so a crash can be blamed on the function that
   * was running. Keep it cheap: it is on the hot path.
   */
  onEnter?: (functionId: string) => void;
  /**
   * The Cache API of an invocation that did not bring its own (`FetchInvokeOptions.caches`,
   * which an edge pipeline passes with the distribution as `caches.default`): scheduled
   * handlers, Lambda@Edge events, a plain harness. Undefined: the function's `caches`
   * calls fail with an Error saying there is no cache here.
   */
  caches?: (functionId: string) => CacheApiHost | undefined;
  /**
   * Service bindings of invocations that bring no `FetchInvokeOptions.service`: the harness's
   * (the binding's function runs in the test process). Undefined: `env.NAME.fetch()` fails
   * with an Error saying this host runs no service bindings.
   */
  service?: ServiceHost;
  /**
   * The bytes of static assets by content hash, for `env.ASSETS` bindings that carry no
   * directory: an edge node's blob store (LMDB, else the registry, verified). Undefined:
   * such a binding's fetch() fails with an Error saying this host keeps no assets.
   */
  assetBlobs?: AssetReader;
}
