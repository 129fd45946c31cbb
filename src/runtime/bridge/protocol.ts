/**
 * The isolate bridge: the only calls between host (Node) and guest (the isolate).
 *
 * Rules (DESIGN.md §4): everything crosses as copied data; no host object or
 * ivm Reference is ever reachable from user code. The host installs
 * `globalThis.__verge_host` (a `HostBridge` of ivm Callbacks) before the prelude
 * runs; the prelude captures it in a closure and deletes the global. The prelude
 * then publishes `globalThis.__verge_guest` (a `GuestApi`); the host takes
 * References to its functions and deletes that global too.
 *
 * Every guest execution starts from the host with `applySync` (dispatch, settle,
 * fireTimer, pull), so CPU time is accounted at every entry and exit and each
 * entry carries a timeout backstop. Async host work (fetch, crypto.subtle, body
 * reads, bindings) is an "op": the guest calls `startOp`, the host does the work
 * and later enters the guest with `settle(opId, ok, value)`.
 */

/** Where the mailbox's body area starts (HostBridge.mailbox), after its three int32 words; read by both sides. */
export const MAILBOX_BODY = 16;

export type LogLevel = "debug" | "info" | "log" | "warn" | "error";

/** Host functions callable from the guest (all synchronous, arguments copied). */
export interface HostBridge {
  /** console.* output, already formatted by the guest. */
  log(level: LogLevel, text: string): void;
  /** Milliseconds since the isolate's time origin (performance.now). */
  now(): number;
  /** `n` cryptographically random bytes (n ≤ 65536). */
  randomBytes(n: number): Uint8Array;
  randomUUID(): string;
  /** Parses with the host's WHATWG URL parser: the `UrlParts` of the URL, or null when it is not valid. */
  urlParse(input: string, base: string | undefined): UrlParts | null;
  /** Applies one URL setter (`protocol`, `host`, `search`, ...) to `href` and returns the new parts. */
  urlSet(href: string, name: string, value: string): UrlParts;
  /** Starts async host work; the result arrives through GuestApi.settle(opId, ...). */
  startOp(opId: number, kind: OpKind, payload: unknown): void;
  setTimer(timerId: number, delayMs: number): void;
  clearTimer(timerId: number): void;
  /** Notifications about an invocation (see `Emit`); the frequent ones have the primitive-argument forms below. */
  emit(message: Emit): void;
  /**
   * Emit "response" with primitive arguments: headers as JSON `[name, value][]`, body as whole
   * bytes, a guest stream id (number) or null. An object argument is structure-cloned by ivm
   * (5–10 µs per crossing); strings and numbers cross for ~1 µs (issue 2, warm dispatch).
   */
  respond(invocation: number, status: number, statusText: string, headers: string, body: Uint8Array | number | null, inline: number): void;
  /**
   * Memory shared with the host (shell.ts): int32 0 takes the id of an invocation
   * that went idle with every waitUntil fulfilled, instead of an `idle` call; a Lambda@Edge
   * result's JSON text that fits is written as UTF-16 code units from byte MAILBOX_BODY, its length in
   * int32 2 and then its invocation's id in int32 1, instead of a `result` call; a response body
   * that fits is written from byte MAILBOX_BODY and `respond` gets its length as `inline` (else -1).
   */
  mailbox: SharedArrayBuffer;
  /** Emit "result" (a Lambda@Edge-style invocation's value) with the value as JSON text, parsed by the host (when it does not fit the mailbox). */
  result(invocation: number, json: string): void;
  /** Emit "idle": `errors` is JSON `GuestError[]`, or "" when every waitUntil promise fulfilled. */
  idle(invocation: number, errors: string): void;
  /** Emit "chunk": the next chunk of guest stream `stream` (null = end). */
  chunk(stream: number, chunk: Uint8Array | null): void;
  /**
   * Emit "socket": the function sent on WebSocket connection `socket` (the id its response's
   * `webSocket` got, see the "response" emit): a message (`data`, text or bytes), or with `data`
   * null a close (`code`, `reason`), or with code -1 the function failed the connection (a
   * listener threw; the peer sees an abnormal close).
   */
  socket(socket: number, data: string | Uint8Array | null, code: number, reason: string): void;
  /**
   * Links and evaluates lazy prelude part `name` (src/runtime/guest/lazy/<name>.ts, built as an
   * ES module) into this context, once, and returns its module namespace. Only the prelude's
   * trusted code holds this function (guest/core/lazy.ts); it runs inside the guest entry that
   * needed the part (its timeout backstop covers it). The CPU from here to `chunkLoaded` (the
   * part's compile and its modules' evaluation) is the platform's, not charged to the function.
   */
  loadChunk(name: string): unknown;
  /** The guest finished setting up the part `loadChunk` gave it (called even when that failed). */
  chunkLoaded(): void;
  /**
   * The WebAssembly module of lazy part `name` (`prelude-<name>.generated.wasm`, the HTMLRewriter
   * parser), compiled once per process and copied in: isolates share its code, never an instance
   * or a memory. Called by the part while it loads, so the cost is the platform's.
   */
  loadWasm(name: string): unknown;
  /**
   * The bytes of WebAssembly linear memory every live memory of the isolate holds now (user
   * code's and the prelude's, guest/wasm/accounting.ts), which the isolate's heap limit does not
   * see. True when, added to the heap, they are over the memory limit: the host then has disposed
   * the isolate inside this call (ERR_MEMORY_LIMIT), so the entry ends here.
   */
  wasmMemory(bytes: number): boolean;
  /**
   * V8's `gc` for this isolate (made in a context of its own, never on a global user code can
   * read): the guest collects before it refuses a WebAssembly memory room to grow, so memories of
   * instances nobody holds any more give their reservation back (guest/wasm/accounting.ts).
   */
  loadGc(): () => void;
  /** The isolate's memory budget in MB (`limits.memoryMb` of the functions it may run). */
  readonly memoryMb: number;
}

/** A parsed URL: href, protocol, username, password, host, hostname, port, pathname, search, hash, origin, joined by "\n". */
export type UrlParts = string;

/**
 * Async host operations. Payload and settled value per kind:
 * - "fetch": `FetchOpPayload` → `GuestResponseHead & { body: GuestBody; tunnel?: number; webSocket?: true }` (body is a host stream;
 *   `tunnel`: the host completed a WebSocket handshake, the response's `webSocket` stands for it;
 *   `webSocket`: the server accepted the handshake, the payload's socket id is its connection)
 * - "stream.read": `{ stream: number }` → `Uint8Array | null` (null = end)
 * - "stream.cancel": `{ stream: number }` → `null`
 * - "subtle": `{ method: string, args: unknown[] }` → method result (keys as `KeyHandle`)
 * - "binding": `{ binding: string, method: string, args: unknown[] }` → result
 * - "cancel": `{ op: number }` → `null`: the guest gave up on op `op` (an aborted fetch); the
 *   host aborts its work and frees what it holds for it (the undici request, its response body)
 * - "cache": `CacheOpPayload` → match: `CacheOpMatch | null`; put: `null`; delete: `boolean`
 */
export type OpKind = "fetch" | "stream.read" | "stream.cancel" | "subtle" | "binding" | "cancel" | "cache";

/**
 * One Workers Cache API call (guest/fetch/cache.ts → HostServices' CacheApiHost). `cache` is
 * null for `caches.default`, else the name `caches.open` was given. A put's body is whole
 * bytes or a guest stream id the host pulls (GuestApi.pull), as it pulls a response body.
 */
export interface CacheOpPayload {
  method: "match" | "put" | "delete";
  cache: string | null;
  url: string;
  headers: Array<[string, string]>;
  response?: GuestResponseHead & { body: GuestBody };
}

/** A cache hit as the guest gets it: the body whole. */
export type CacheOpMatch = GuestResponseHead & { body: Uint8Array | null };

/** A body as it crosses the bridge: absent, whole bytes, or a stream id on the other side. */
export type GuestBody = null | Uint8Array | { stream: number };

export interface GuestRequestData {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: GuestBody;
}

export interface GuestResponseHead {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
}

export interface FetchOpPayload extends GuestRequestData {
  redirect: "follow" | "manual" | "error";
  /** Set for `env.NAME.fetch()` of a service binding: the binding's name (the host finds its target). */
  service?: string;
  /**
   * Set on a WebSocket handshake (`Upgrade: websocket`): the guest's id for the socket. When the
   * server accepts it, the result has `webSocket: true` and the connection is that socket's
   * ("socket" emits and entries carry the id; code -3 in a "socket" emit: the function accepted it).
   */
  webSocket?: number;
}

/** A crypto key lives on the host; the guest holds this copy of its public facts. */
export interface KeyHandle {
  __key: number;
  type: "secret" | "public" | "private";
  extractable: boolean;
  algorithm: Record<string, unknown>;
  usages: string[];
}

/** A value thrown by user code, reduced to plain data by trusted guest code. */
export interface GuestError {
  name: string;
  message: string;
  stack: string;
}

export type Emit =
  /**
   * A fetch-style invocation produced its response head; body as GuestBody (a stream id is a guest stream to pull).
   * `webSocket`: a 101 that hands the host one side of a WebSocketPair, by the id its "socket" emits carry.
   * `tunnel`: a 101 that returns the connection a handshake fetch() opened, by the host's token for it.
   */
  | { type: "response"; invocation: number; head: GuestResponseHead; body: GuestBody; webSocket?: number; tunnel?: number }
  /** The function sent on WebSocket connection `socket` (HostBridge.socket). */
  | { type: "socket"; socket: number; data: string | Uint8Array | null; code: number; reason: string }
  /** A Lambda@Edge-style invocation produced its result (plain JSON data). */
  | { type: "result"; invocation: number; value: unknown }
  /** The handler threw or its promise rejected. */
  | { type: "error"; invocation: number; error: GuestError; passThrough: boolean }
  /** Every waitUntil promise settled (sent after response/result/error). */
  | { type: "idle"; invocation: number; waitUntilErrors: GuestError[] }
  /** A chunk of a guest stream pulled by the host; chunk null = end. */
  | { type: "chunk"; stream: number; chunk: Uint8Array | null }
  | { type: "chunk-error"; stream: number; error: GuestError }
  /** Subrequest count etc. are kept on the host; this reports guest-side facts. */
  | { type: "unhandled-rejection"; error: GuestError };

export type Dialect = "module" | "service-worker" | "lambda";

export interface DialectInfo {
  dialect: Dialect | null;
  /** Exported handler names found (fetch, scheduled, handler ...), for error messages. */
  exports: string[];
}

/** What the host asks the guest to run. */
export type Invocation =
  | { kind: "fetch"; request: GuestRequestData; cf?: Record<string, unknown> | undefined }
  | { kind: "cloudfront"; event: unknown; context: Record<string, unknown> }
  | { kind: "scheduled"; cron: string; scheduledTime: number };

/** Guest entry points (each called by the host with applySync). */
export interface GuestApi {
  /** Called once after the bundle evaluated. `namespace` is the ES module namespace (undefined for scripts). */
  init(namespace: unknown, env: Record<string, unknown>, bindingSpecs: BindingSpec[]): DialectInfo;
  /**
   * Makes `env` before the bundle runs: for a classic script (service-worker syntax) with
   * bindings, each becomes a global as well (`asGlobals`), as Workers does for that syntax; for
   * a module that imports `cloudflare:workers`, its `env` export is ready at the top level.
   * `init` then uses the same object.
   */
  prepareEnv(env: Record<string, unknown>, bindingSpecs: BindingSpec[], asGlobals: boolean): void;
  dispatch(invocation: number, job: Invocation): void;
  /**
   * A "fetch" invocation with primitive arguments (the hot path; see `HostBridge.respond`):
   * headers as JSON `[name, value][]`, body as whole bytes, a host stream id or null, `cf` as JSON.
   * When the handler answered within this call with a body that is none or fits the mailbox, the
   * result is the response head instead of a `respond` call (a callback crossing saved):
   * `${status}\n${inline}\n${headersJson}\n${statusText}` (inline: the body's length in the
   * mailbox, or -1 for none); the host reads it before the mailbox's idle word.
   */
  dispatchFetch(invocation: number, method: string, url: string, headers: string, body: Uint8Array | number | null, cf: string | undefined): string | undefined;
  /**
   * A "cloudfront" invocation with its event and context as JSON text (a string crosses for ~1 µs, an
   * object is structure-cloned); `startedAt` is `HostBridge.now()` when it began (for the context's
   * `getRemainingTimeInMillis`). The value is posted through the mailbox (else emitted with
   * `HostBridge.result`), and so is idle (a Lambda@Edge handler has no waitUntil).
   */
  dispatchCloudFront(invocation: number, eventJson: string, contextJson: string, startedAt: number): void;
  settle(opId: number, ok: boolean, value: unknown): void;
  fireTimer(timerId: number): void;
  /** Host wants the next chunk of guest stream `stream`; answered by an emit of type chunk. */
  pull(stream: number): void;
  cancelStream(stream: number, reason: string): void;
  /**
   * The host's peer on WebSocket connection `socket` sent a message (`data`), closed it (`data`
   * null, `code`, `reason`), or was lost (`code` -1: the function sees close 1006, not clean).
   */
  socket(socket: number, data: string | Uint8Array | null, code: number, reason: string): void;
  /** The invocation is over: drop its timers and pending work. */
  finish(invocation: number): void;
  /** Runs the request path once on synthetic data, before any user code is in the isolate (spare shells). */
  warm(): void;
}

/**
 * How the guest builds `env` entries that are not plain values.
 * Plain vars and secrets arrive in `env` directly; a spec makes an object whose
 * methods become "binding" ops named by `binding` (KV plugs in here).
 */
export interface BindingSpec {
  name: string;
  kind: string;
  methods: string[];
}
