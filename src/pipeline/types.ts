/**
 * The contracts of the request pipeline and its neighbours (DESIGN.md §2, §6;
 * issue 4). The pipeline lives in src/ because the edge node, the harness and
 * `verge dev` all run it; each caller supplies the parts:
 *
 *   StateSource    applied state and bundles: edge-nodes/sync (the registry's feed), or the harness's own
 *   ResponseCache  cache/ over an edge node's LMDB store, or over memory locally
 *   Quarantine     edge-nodes/supervisor (crash attribution); nothing quarantines locally
 *   Pipeline       pipeline.ts: one request through the four events, the cache and the origin
 *
 * edge-nodes/types.ts re-exports them for the node's own code. The wire types
 * come from src/shared/protocol.ts.
 */
import type { Snapshot, Distribution, CacheKeyPolicy, Ttl, FunctionAssociation, LogInvocation } from "../shared/protocol.ts";
import type { FunctionSpec } from "../runtime/index.ts";
import type { HeaderList } from "../shared/http.ts";
import type { Duplex } from "node:stream";
import type { WebSocketEnd } from "../shared/websocket.ts";

// ─── sync → pipeline ──────────────────────────────────────────────────────────

/**
 * The desired state a node has applied, as one immutable object: a request
 * takes it once at its start and uses it for all four events, so it sees one
 * consistent set of versions even while a change applies (DESIGN.md §6).
 */
export interface AppliedState {
  readonly seq: number;
  /** Deep-frozen. */
  readonly snapshot: Snapshot;
  /** The distribution serving `host` (lowercase, without port), or undefined. */
  distributionFor(host: string): Distribution | undefined;
}

/** One function version, as the runtime must run it. */
export interface VersionRef {
  tenant: string;
  function: string;
  /** Hex sha256 of the bundle. */
  digest: string;
}

/** The request facts an alias's sticky key may read. */
export interface StickyInput {
  headers: Headers;
  url: URL;
}

export interface StateSource {
  /** The state applied now (cheap: returns the same object until the next change applies). */
  current(): AppliedState;
  /**
   * Which version an association runs for this request: its pinned `version`,
   * or its alias's routes, weighted, sticky by the association's (or alias's)
   * sticky key when the request has it, at random otherwise. Throws a
   * VergeError `ERR_FUNCTION_NOT_FOUND` when the alias or function is gone.
   */
  resolve(state: AppliedState, tenant: string, association: FunctionAssociation, request: StickyInput): VersionRef;
  /**
   * The runnable spec of a version: bundle from the node's LMDB, else fetched
   * from the registry by digest; digest and (per the tenant's signing policy)
   * signature verified before it is stored or run; config limits, env vars and
   * secrets bound. Returns the same object for the same version and config, so
   * the runtime's warm pool keys stay stable. Throws VergeError
   * `ERR_BUNDLE_UNAVAILABLE` (registry down and not cached), `ERR_DIGEST_MISMATCH`
   * or `ERR_SIGNATURE_INVALID` (refused and reported).
   */
  load(state: AppliedState, ref: VersionRef): Promise<FunctionSpec>;
  /** For health: seq applied, seconds since the registry was last reached (0 in sync). */
  status(): SyncStatus;
  /** Called after each newly applied state (to pre-warm provisioned isolates); returns an unsubscribe. */
  subscribe(listener: (state: AppliedState) => void): () => void;
}

export interface SyncStatus {
  appliedSeq: number;
  /** Seconds since the registry last answered; 0 while connected. */
  staleSeconds: number;
  connected: boolean;
  /** Bundles refused (digest or signature), newest first, for health. */
  refused: Array<{ digest: string; code: string; message: string; at: string }>;
}

// ─── cache ↔ pipeline ─────────────────────────────────────────────────────────

/** `x-verge-cache` values, after CloudFront's `X-Cache` (Hit/Miss/RefreshHit from cloudfront). */
export type CacheResult = "Hit" | "Miss" | "RefreshHit" | "StaleHit" | "Bypass";

export interface CacheKeyInput {
  /** `tenant/name`: distribution names are unique only within a tenant. */
  distribution: string;
  /** The behavior's path pattern, or "default". */
  behavior: string;
  host: string;
  url: URL;
  headers: Headers;
  policy: CacheKeyPolicy;
}

export interface CacheServeOptions {
  key: string;
  /** The viewer's request as it is after viewer-request: method and headers (Vary, conditionals, Cache-Control). A `Request` will do. */
  request: {
    readonly method: string;
    readonly headers: Headers;
    /**
     * The same headers as a list (lowercase names, one entry per line), when
     * the caller has them: the cache then reads the few it needs on a hit
     * (Vary, conditionals) from the list, and touches `headers` (which may be
     * a getter that builds them) only to store a response.
     */
    readonly lines?: HeaderList;
  };
  /** Path of the request, for purge by prefix. */
  path: string;
  /** `tenant/name`, as in {@link CacheKeyInput}. */
  distribution: string;
  ttl: Ttl;
  /**
   * Produces the response on a miss or a revalidation: runs origin-request, the
   * origin fetch and origin-response. `conditional` holds If-None-Match /
   * If-Modified-Since to send when a stale entry is being revalidated; a 304
   * answer refreshes the entry (RefreshHit). When `fill` throws, the cache
   * serves a stale entry (StaleHit) if it may, else rethrows.
   */
  fill(conditional: Record<string, string>): Promise<Response>;
}

/** A stored response as {@link ResponseCache.lookup} finds it: its parts, ready to send. */
export interface CachedResponse {
  result: CacheResult;
  status: number;
  statusText: string;
  /** The stored headers, then `Age`. */
  headers: HeaderList;
  /** Null for HEAD. */
  body: Uint8Array | null;
  /**
   * `headers` without `Age`: one frozen array shared by every hit of a stored
   * entry while the entry is unchanged, so a caller may derive what it makes
   * of it once (the pipeline's viewer headers).
   */
  stored: Readonly<HeaderList>;
  /** The `Age` value, in seconds. */
  age: string;
}

/**
 * Where one response lives in the cache, outside a viewer's request (the
 * Workers Cache API, cache/cache-api.ts): a scope (a distribution, or a
 * tenant's named cache) and a key in it, with the request headers its Vary
 * values are read from.
 */
export interface CacheSlot {
  /** `tenant/name` of a distribution, or another scope no distribution can have (cache/cache-api.ts). */
  distribution: string;
  key: string;
  /** `Headers`, or any reader of request headers by lowercase name. */
  request: { get(name: string): string | null };
}

/** A stored response as {@link ResponseCache.get} finds it. */
export interface StoredResponse {
  status: number;
  statusText: string;
  /** As stored: no `Age`, `Set-Cookie` or hop-by-hop headers. Shared: read it, never change it. */
  headers: Readonly<HeaderList>;
  /** Shared with other readers: never change it. */
  body: Uint8Array;
  /** Seconds (RFC 9111 §4.2.3). */
  age: number;
  etag: string | null;
  lastModified: string | null;
}

/** What {@link ResponseCache.put} stores, with its freshness already decided by the caller. */
export interface StoreRequest extends CacheSlot {
  /** The request path (purge by prefix). */
  path: string;
  status: number;
  statusText: string;
  headers: Headers;
  body: Uint8Array;
  /** Seconds the response stays fresh from now, counting its own `Age`. */
  ttl: number;
  /** Seconds past `ttl` it may still answer for an origin error (a fill of the distribution's traffic). */
  staleIfError: number;
}

export interface ResponseCache {
  /** The cache key under the behavior's policy (CloudFront cache key policy semantics). */
  key(input: CacheKeyInput): string;
  /**
   * Answers from the cache, or fills it: TTL from s-maxage/max-age/Expires
   * clamped to `ttl` min/max (default when the origin says nothing), no-store and
   * private honoured, Vary honoured, stale entries revalidated, stale-if-error,
   * concurrent misses of one key collapsed into one fill, bodies streamed to the
   * caller while they are stored.
   */
  serve(options: CacheServeOptions): Promise<{ response: Response; result: CacheResult }>;
  /**
   * A fresh stored answer to a GET or HEAD, found at once, without waiting and
   * without filling; undefined whenever `serve` has more to do (another
   * request of this process is filling the key, no fresh variant matches, the
   * viewer's own conditionals match, the body is gone). What it returns is a
   * Hit exactly as `serve` would have answered it (counted, LRU touched).
   * Optional: a caller without it, or getting undefined, calls `serve`.
   */
  lookup?(options: Omit<CacheServeOptions, "fill">): CachedResponse | undefined;
  /**
   * The direct API beside `serve` (the Workers Cache API uses it): a fresh
   * stored variant of the slot's key matching its Vary values, or undefined.
   * Counted and LRU-touched as a hit. Optional, like `put` and `delete`.
   */
  get?(slot: CacheSlot): StoredResponse | undefined;
  /**
   * Stores a response in a slot, replacing the variants its request matched,
   * within the size cap (LRU eviction) and the object limit; resolves false
   * when it was not stored (too big).
   */
  put?(request: StoreRequest): Promise<boolean>;
  /** Removes every variant of the slot's key; true when there was one. */
  delete?(slot: Omit<CacheSlot, "request">): Promise<boolean>;
  /** Drops a distribution's entries by path prefix or `Cache-Tag` tag; returns how many. */
  purge(purge: { distribution: string; prefix?: string; tag?: string }): Promise<number>;
  stats(): { entries: number; bytes: number; maxBytes: number; hits: number; misses: number; evictions: number };
}

// ─── supervisor ↔ pipeline ────────────────────────────────────────────────────

/** Versions quarantined after repeated worker crashes; the pipeline answers 503 at once for them. */
export interface Quarantine {
  has(digest: string): boolean;
  list(): Array<{ digest: string; crashes: number; since: string }>;
}

// ─── pipeline → app ───────────────────────────────────────────────────────────

export interface ViewerInfo {
  /** The TCP peer address of the viewer. */
  clientIp: string;
  /** "http" or "https" as the viewer reached the node. */
  scheme: "http" | "https";
  /**
   * Aborts when the viewer goes away before its answer was sent (its connection closed). Read
   * only where something can be given up (service binding calls in flight): a server may make
   * it on first read.
   */
  readonly signal?: AbortSignal;
}

/**
 * A viewer's request as the HTTP server parsed it, before any web `Request` is
 * made of it (the node's hot path never builds one for a GET).
 */
export interface ViewerRequest {
  method: string;
  /** Absolute URL, e.g. `http://example.com/a?b=1`, as the server adapter built it from the target and Host. */
  url: string;
  /** As received: lowercase names, one entry per header line, in order. */
  headers: HeaderList;
  /** The body stream, taken at most once; null for none. */
  body(): ReadableStream<Uint8Array> | null;
}

export interface Pipeline {
  /** One viewer request through the node; never throws (errors become 5xx responses with x-verge-error). */
  handle(request: Request | ViewerRequest, viewer: ViewerInfo): Promise<Response>;
  /**
   * `handle`, returning the response itself when it is ready at once (a fresh
   * cache hit with no function to run), else the promise: a server adapter
   * that can write a response synchronously skips a few turns of the event
   * loop. Optional; same answers, records and errors as `handle`.
   */
  handleNow?(request: Request | ViewerRequest, viewer: ViewerInfo): Response | Promise<Response>;
  /**
   * `handleNow` for a server adapter that writes responses itself: a fresh cache
   * hit with no function to run comes back as an {@link ImmediateHit} (parts, no
   * `Response` made), anything else as `handleNow` returns it. Same answers and
   * records. Optional.
   */
  answerNow?(request: ViewerRequest, viewer: ViewerInfo): ImmediateHit | Response | Promise<Response>;
  /**
   * A WebSocket handshake (`Upgrade: websocket`; upgrade.ts): an answer for the
   * viewer, after which its connection closes, a tunnel: the 101's headers for
   * the viewer and the origin's socket to join to the viewer's, or a socket: a
   * Workers handler's WebSocket, whose frames the server relays. Never throws;
   * recorded as a request. Optional: a pipeline without it takes no WebSockets.
   */
  upgrade?(request: ViewerRequest, viewer: ViewerInfo): Promise<UpgradeOutcome>;
}

/** What {@link Pipeline.upgrade} comes back with. */
export type UpgradeOutcome =
  | { kind: "answer"; response: Response }
  /** `head`: bytes the origin sent after its 101, for the viewer. */
  | { kind: "tunnel"; headers: HeaderList; socket: Duplex; head: Buffer }
  /** A Workers handler's WebSocket: the viewer's 101 headers and the connection to the function, for the server to relay frames to. */
  | { kind: "socket"; headers: HeaderList; end: WebSocketEnd };

/** A response {@link Pipeline.answerNow} found ready: what the viewer gets, as parts. */
export interface ImmediateHit {
  readonly immediate: true;
  status: number;
  /** Flat `[name, value, name, value, ...]` (Node's `writeHead` takes them so); `content-length` included when there is a body. */
  headers: string[];
  /** Null for HEAD. */
  body: Uint8Array | null;
}

/** What the pipeline tells the node about each request (metrics and logs are built from it). */
export interface RequestRecord {
  requestId: string;
  at: string;
  method: string;
  host: string;
  path: string;
  status: number;
  /** Set when the request ended in an error response (`x-verge-error`). */
  error?: { code: string; message: string };
  cache: CacheResult | null;
  distribution: string | null;
  /**
   * As `verge logs` shows them (LogInvocation), but `logs` only when the function
   * wrote anything and its report came before the record.
   */
  invocations: Array<Omit<LogInvocation, "logs"> & { logs?: LogInvocation["logs"] }>;
  bytesOut: number;
  durationMs: number;
  /** The record of a service binding call's target, not of a viewer request (LogEvent.service); `bytesOut` is 0. */
  service?: { binding: string; caller: string };
}
