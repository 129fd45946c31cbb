/**
 * Workers' WebSocket and WebSocketPair (lazy part "websocket"), as workerd has them.
 *
 * `new WebSocketPair()` makes two linked sockets, own properties 0 and 1. What one
 * side sends arrives at the other on a later microtask; a side that has not called
 * `accept()` keeps what arrives until it does. A Worker returns one side in
 * `new Response(null, { status: 101, webSocket })`: that side is then *coupled*
 * to the host (`coupleToHost`, called when the fetch handler answers), and
 * everything the other side sends goes to the host with `host.socket(id, ...)`;
 * what the host's peer (a viewer, a test) sends arrives through the guest entry
 * `socket` (`hostSocketEvent`), inside that entry, so its listeners are charged
 * to it and a listener that spins is stopped by its CPU backstop.
 *
 * As in workerd: `on<type>` handlers run before the listeners added with
 * addEventListener; sending before `accept()` or after `close()` is a TypeError;
 * a bad close code or a reason without a code an InvalidAccessError; a socket
 * that closed receives the peer's close (readyState 2, then 3 once both closed).
 * A listener that throws while handling what the host's peer sent fails the
 * connection: the error is the invocation's, the socket gets an `error` event,
 * and the peer sees an abnormal close (1006).
 */
import { host, primordials } from "../core/host.ts";
import { toGuestError } from "../core/errors.ts";
import { chunk } from "../core/lazy.ts";
import { DOMException } from "../platform/dom-exception.ts";
import { CloseEvent, ErrorEvent, MessageEvent } from "./events.ts";
import { SOCKET_ACCEPTED, connect, protocolList, socketUrl } from "./outbound.ts";

const { Event, EventTarget, dispatchCatching } = chunk("events");
type Event = InstanceType<ReturnType<typeof chunk<"events">>["Event"]>;

type Delivery =
  | { kind: "open" }
  | { kind: "message"; data: string | ArrayBuffer }
  | { kind: "close"; code: number; reason: string; wasClean: boolean }
  | { kind: "error"; message: string; error: unknown };

/** Where a socket's sends go: the other side of its pair, or the host once that side was returned in a response. */
interface Peer {
  receive(d: Delivery): void;
}

const ACCEPT_FIRST = "You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.";
/** Codes a script may close with: 1000 and 1001..4999 except the four reserved for the endpoints (RFC 6455 §7.4.1). */
const RESERVED = new Set([1004, 1005, 1006, 1015]);
const HANDLERS = ["open", "message", "close", "error"] as const;
type HandlerType = (typeof HANDLERS)[number];

// What arrives at a socket of a pair, delivered in order on later microtasks.
let queue: Array<() => void> = [];
let draining = false;
function later(fn: () => void): void {
  queue[queue.length] = fn;
  if (draining) return;
  draining = true;
  primordials.PromiseResolve(undefined).then(drain);
}
function drain(): void {
  while (queue.length > 0) {
    const batch = queue;
    queue = [];
    for (let i = 0; i < batch.length; i++) {
      // One delivery's failure (its listeners' are caught where they run) must not stop the others.
      try {
        batch[i]!();
      } catch (error) {
        reportUncaught(error);
      }
    }
  }
  draining = false;
}

interface SocketState {
  accepted: boolean;
  /** Returned in a response: what arrives is forwarded to `forward` (the host). */
  used: boolean;
  closedOut: boolean;
  closedIn: boolean;
  /** What arrived before accept() (or while its flush is pending). */
  inbox: Delivery[] | null;
  peer: Peer | null;
  forward: Peer | null;
  binaryType: "arraybuffer" | "blob";
  handlers: Partial<Record<HandlerType, unknown>>;
  /** Set on the side whose peer is the host: the coupling's id and invocation. */
  hostId: number;
  invocation: number;
  /** A connection fetch() opened (the host's pass-through token); 0 for a pair's socket. */
  tunnel: number;
  /** The client side of an outbound connection (fetch() with `Upgrade: websocket`, or `new WebSocket(url)`). */
  outbound: boolean;
  /** `new WebSocket(url)` before its handshake completed (readyState 0). */
  connecting: boolean;
  /** A close called while connecting, sent once the connection is open. */
  closeWhenOpen: { code: number; reason: string } | null;
  url: string | null;
  protocol: string;
  /** What the server agreed to for `new WebSocket(url)` (null: nothing); "" for any other socket. */
  extensions: string | null;
}

let stateOf: (ws: WebSocket) => SocketState;
/** Where an `on<type>` handler's error goes while a delivery dispatches (see #dispatch). */
let handlerFailure: { error?: { error: unknown } } | null = null;
let isSocket: (v: unknown) => v is WebSocket;
const TOKEN = Symbol("websocket");

function toCloseCode(code: unknown): number {
  const n = Math.trunc(Number(code));
  return Number.isFinite(n) ? n : 0;
}

export class WebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static readonly READY_STATE_CONNECTING = 0;
  static readonly READY_STATE_OPEN = 1;
  static readonly READY_STATE_CLOSING = 2;
  static readonly READY_STATE_CLOSED = 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  #s: SocketState;

  /** `new WebSocket(url, protocols?)`: a connection the host opens (a handshake subrequest); events from "open" on. */
  constructor(url?: unknown, protocols?: unknown) {
    let target: { href: string; protocols: string[] } | null = null;
    if (protocols !== TOKEN) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
      target = { href: socketUrl(url), protocols: protocolList(protocols) };
    }
    super();
    this.#s = { accepted: false, used: false, closedOut: false, closedIn: false, inbox: [], peer: null, forward: null, binaryType: "arraybuffer", handlers: {}, hostId: 0, invocation: 0, tunnel: 0, outbound: false, connecting: false, closeWhenOpen: null, url: null, protocol: "", extensions: "" };
    if (target !== null) connect(this, target.href, target.protocols);
  }

  get readyState(): number {
    const s = this.#s;
    if (s.connecting) return 0;
    return s.closedOut && s.closedIn ? 3 : s.closedOut || s.closedIn ? 2 : 1;
  }
  get url(): string | null {
    return this.#s.url;
  }
  get protocol(): string {
    return this.#s.protocol;
  }
  get extensions(): string | null {
    return this.#s.extensions;
  }
  get binaryType(): string {
    return this.#s.binaryType;
  }
  set binaryType(value: string) {
    // An enumeration attribute ignores values outside it (WebIDL). Messages arrive as ArrayBuffer either way.
    if (value === "arraybuffer" || value === "blob") this.#s.binaryType = value;
  }

  accept(): void {
    const s = this.#s;
    if (s.used) throw new TypeError("Can't accept() WebSocket that was already used in a response.");
    if (s.tunnel !== 0) throw new TypeError("verge: a WebSocket that fetch() opened cannot be used inside the Worker (not supported); return its response to pass the connection on to the client");
    if (s.accepted) return;
    s.accepted = true;
    // An outbound connection the function takes holds its invocation open (the host is told).
    if (s.outbound && s.peer !== null) host.socket(s.hostId, null, SOCKET_ACCEPTED, "");
    // Delivered after the code that called accept() has added its listeners, and (as workerd, whose
    // reader starts with accept) after what that code sends to sockets already reading.
    if (s.inbox !== null && s.inbox.length > 0) later(() => later(() => this.#flush()));
    else s.inbox = null;
  }

  send(message: unknown): void {
    const s = this.#s;
    if (arguments.length === 0) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    if (!s.accepted || s.connecting) throw new TypeError(ACCEPT_FIRST);
    if (s.closedOut) throw new TypeError("Can't call WebSocket send() after close().");
    let data: string | ArrayBuffer;
    if (message instanceof ArrayBuffer) data = message.slice(0);
    else if (ArrayBuffer.isView(message)) data = new Uint8Array(message.buffer, message.byteOffset, message.byteLength).slice().buffer;
    else data = String(message);
    s.peer?.receive({ kind: "message", data });
  }

  close(code?: unknown, reason?: unknown): void {
    const s = this.#s;
    let c: number | undefined;
    if (code !== undefined) {
      c = toCloseCode(code);
      if (c < 1000 || c > 4999 || RESERVED.has(c)) throw new DOMException(`Invalid WebSocket close code: ${c}.`, "InvalidAccessError");
    }
    if (reason !== undefined && code === undefined) throw new DOMException("If you specify a WebSocket close reason, you must also specify a code.", "InvalidAccessError");
    if (!s.accepted) throw new TypeError(ACCEPT_FIRST);
    if (s.closedOut) return;
    s.closedOut = true;
    const close = { code: c ?? 1005, reason: reason === undefined ? "" : String(reason) };
    if (s.connecting) s.closeWhenOpen = close;
    else s.peer?.receive({ kind: "close", ...close, wasClean: true });
  }

  /** As workerd: the `on<type>` handler runs before the listeners. */
  override dispatchEvent(event: Event): boolean {
    const handler = this.#s.handlers[event.type as HandlerType];
    if (typeof handler === "function") {
      try {
        (handler as (e: Event) => void).call(this, event);
      } catch (error) {
        // Inside a delivery the caller decides (#dispatch); otherwise reported as the shim reports a listener's.
        if (handlerFailure !== null) handlerFailure.error ??= { error };
        else reportUncaught(error);
      }
    }
    return super.dispatchEvent(event as never);
  }

  /** What arrives from the peer: kept until accept(), then dispatched. */
  #arrive(d: Delivery): void {
    const s = this.#s;
    if (s.used) return s.forward?.receive(d);
    if (d.kind === "close") s.closedIn = true;
    if (s.inbox !== null) {
      s.inbox[s.inbox.length] = d;
      return;
    }
    this.#dispatch(d);
  }

  #flush(): void {
    const s = this.#s;
    const inbox = s.inbox;
    if (inbox === null) return;
    for (let i = 0; i < inbox.length; i++) this.#dispatch(inbox[i]!);
    s.inbox = null;
  }

  #dispatch(d: Delivery): void {
    const event = d.kind === "open" ? new Event("open") : d.kind === "message" ? new MessageEvent("message", { data: d.data }) : d.kind === "close" ? new CloseEvent("close", { code: d.code, reason: d.reason, wasClean: d.wasClean }) : new ErrorEvent("error", { message: d.message, error: d.error });
    const outer = handlerFailure;
    const slot: { error?: { error: unknown } } = {};
    handlerFailure = slot;
    let failed: { error: unknown } | undefined;
    try {
      failed = dispatchCatching(this as never, event as never);
    } finally {
      handlerFailure = outer;
    }
    failed = slot.error ?? failed;
    if (failed === undefined) return;
    if (this.#s.hostId !== 0 && d.kind !== "error" && this.#s.peer !== null) this.#fail(failed.error);
    else reportUncaught(failed.error);
  }

  /** A listener threw on what the host's peer sent: the invocation fails, the socket errors, the peer sees 1006. */
  #fail(error: unknown): void {
    const s = this.#s;
    const g = toGuestError(error);
    host.emit({ type: "error", invocation: s.invocation, error: g, passThrough: false });
    host.log("error", `Uncaught ${g.stack || `${g.name}: ${g.message}`}`);
    const id = s.hostId;
    s.peer = null;
    s.closedOut = true;
    s.closedIn = true;
    host.socket(id, null, -1, "");
    this.#dispatch({ kind: "error", message: `Uncaught ${g.name}: ${g.message}`, error });
  }

  static {
    stateOf = (ws) => ws.#s;
    isSocket = (v): v is WebSocket => typeof v === "object" && v !== null && #s in v;
    for (const type of HANDLERS) {
      Object.defineProperty(WebSocket.prototype, `on${type}`, {
        get(this: WebSocket) {
          return this.#s.handlers[type] ?? null;
        },
        set(this: WebSocket, value: unknown) {
          this.#s.handlers[type] = typeof value === "function" || (typeof value === "object" && value !== null) ? value : null;
        },
        configurable: true,
        enumerable: true,
      });
    }
    const constants: Array<[string, number]> = [["CONNECTING", 0], ["OPEN", 1], ["CLOSING", 2], ["CLOSED", 3]];
    for (const [name, value] of constants) {
      for (const key of [name, `READY_STATE_${name}`]) Object.defineProperty(WebSocket.prototype, key, { value, enumerable: true });
    }
  }
  /** Runs what arrived at `ws` from its peer (for the pair and host ends below). */
  static arrive(ws: WebSocket, d: Delivery): void {
    ws.#arrive(d);
  }
  /** `new WebSocket(url)`'s connection is open (`protocol`, `extensions`: the server's choices): "open", then what arrived meanwhile. */
  static opened(ws: WebSocket, protocol: string, extensions: string | null): void {
    const s = ws.#s;
    s.connecting = false;
    s.protocol = protocol;
    s.extensions = extensions;
    host.socket(s.hostId, null, SOCKET_ACCEPTED, "");
    ws.#dispatch({ kind: "open" });
    ws.#flush();
    const close = s.closeWhenOpen;
    if (close !== null && s.peer !== null) s.peer.receive({ kind: "close", ...close, wasClean: true });
  }
  /** `new WebSocket(url)`'s handshake failed: an error event, then close 1006, as workerd. */
  static failed(ws: WebSocket, message: string): void {
    const s = ws.#s;
    s.connecting = false;
    s.closedIn = true;
    s.closedOut = true;
    s.peer = null;
    s.inbox = null;
    coupled.delete(s.hostId);
    const text = `Failed to establish the WebSocket connection: ${message}`;
    ws.#dispatch({ kind: "error", message: `Uncaught TypeError: ${text}`, error: new TypeError(text) });
    ws.#dispatch({ kind: "close", code: 1006, reason: "Failed to establish websocket connection", wasClean: false });
  }
}

function reportUncaught(error: unknown): void {
  const g = toGuestError(error);
  host.log("error", `Uncaught ${g.stack || `${g.name}: ${g.message}`}`);
}

const { arrive, opened, failed } = WebSocket;
// Not part of the interface workerd exposes.
delete (WebSocket as { arrive?: unknown }).arrive;
delete (WebSocket as { opened?: unknown }).opened;
delete (WebSocket as { failed?: unknown }).failed;

/** The other side of a pair, as a peer: what is sent arrives on a later microtask. */
function pairPeer(target: WebSocket): Peer {
  return { receive: (d) => later(() => arrive(target, d)) };
}

export interface WebSocketPair {
  readonly 0: WebSocket;
  readonly 1: WebSocket;
  [Symbol.iterator](): Iterator<WebSocket>;
}

/** A function, not a class: called without `new` it must say what workerd says (a class's own check comes first). */
export const WebSocketPair = function WebSocketPair(this: object) {
  if (new.target === undefined) throw new TypeError("Failed to construct 'WebSocketPair': Please use the 'new' operator, this object constructor cannot be called as a function.");
  const a = new WebSocket(undefined, TOKEN);
  const b = new WebSocket(undefined, TOKEN);
  stateOf(a).peer = pairPeer(b);
  stateOf(b).peer = pairPeer(a);
  partnerOf.set(a, b);
  partnerOf.set(b, a);
  // Own, enumerable, read-only: Object.values(pair) and `const [client, server] = ...` work.
  Object.defineProperty(this, 0, { value: a, enumerable: true, configurable: true, writable: false });
  Object.defineProperty(this, 1, { value: b, enumerable: true, configurable: true, writable: false });
} as unknown as new () => WebSocketPair;
Object.defineProperty(WebSocketPair.prototype, Symbol.iterator, {
  value: function* (this: WebSocketPair) {
    yield this[0];
    yield this[1];
  },
  writable: true,
  configurable: true,
});

/** A WebSocket for a connection a handshake fetch() opened (`token`): it can only be returned in a response. */
export function tunnelSocket(token: number): WebSocket {
  const ws = new WebSocket(undefined, TOKEN);
  stateOf(ws).tunnel = token;
  stateOf(ws).inbox = null;
  return ws;
}

/** The host's token of a socket fetch() opened, or 0. */
export function tunnelOf(ws: WebSocket): number {
  return stateOf(ws).tunnel;
}

/** Each side of a pair to the other. */
const partnerOf = new WeakMap<WebSocket, WebSocket>();

export function isWebSocket(v: unknown): v is WebSocket {
  return isSocket(v);
}

/** The host's side of each coupled socket, by id: the guest side it talks to. */
const coupled = new Map<number, WebSocket>();
let nextId = 1;

/**
 * `ws` was returned in the response of `invocation`: from now on it stands for the host's peer.
 * Its pair's other side sends to the host; what it already sent (kept because `ws` had not
 * accepted) goes first, after `announce(id)` told the host of the connection. Returns that id.
 */
export function coupleToHost(ws: WebSocket, invocation: number, announce: (id: number) => void): number {
  const s = stateOf(ws);
  if (s.used) throw new TypeError("Can't return WebSocket that was already used in a response.");
  if (s.accepted) throw new TypeError("Can't return WebSocket in a Response after calling accept().");
  const id = nextId++;
  // The host learns of the connection before anything is sent on it.
  announce(id);
  const toHost = hostPeer(id);
  s.used = true;
  s.forward = toHost;
  const inbox = s.inbox ?? [];
  s.inbox = null;
  for (let i = 0; i < inbox.length; i++) toHost.receive(inbox[i]!);
  if (s.outbound) {
    // A connection fetch() opened, passed on: what its server sends goes to this one's peer (above),
    // and what that peer sends goes to the server, through a socket that only forwards.
    const relay = new WebSocket(undefined, TOKEN);
    const r = stateOf(relay);
    r.used = true;
    r.inbox = null;
    r.forward = s.peer;
    coupled.set(id, relay);
    if (s.peer !== null) host.socket(s.hostId, null, SOCKET_ACCEPTED, "");
    return id;
  }
  // The other side sends to `ws`, which now forwards to the host; it is the one the host's peer talks to.
  const other = partnerOf.get(ws);
  if (other !== undefined) {
    const o = stateOf(other);
    o.hostId = id;
    o.invocation = invocation;
    coupled.set(id, other);
  }
  return id;
}

/**
 * What the host's peer did on connection `id` (GuestApi.socket): a message (`data`), a clean
 * close (`data` null, its code and reason), or, with code -1, the connection was lost (close
 * 1006, not clean; nothing more can be sent).
 */
export function hostSocketEvent(id: number, data: string | Uint8Array | null, code: number, reason: string): void {
  const ws = coupled.get(id);
  if (ws === undefined) return;
  if (data !== null) {
    const payload = typeof data === "string" ? data : data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : data.slice().buffer;
    arrive(ws, { kind: "message", data: payload });
    return;
  }
  if (code === -1) {
    const s = stateOf(ws);
    s.peer = null;
    s.closedOut = true;
    coupled.delete(id);
    arrive(ws, { kind: "close", code: 1006, reason: "", wasClean: false });
    return;
  }
  arrive(ws, { kind: "close", code, reason, wasClean: true });
}

/** What a socket sends on the host's connection `id`. */
function hostPeer(id: number): Peer {
  return {
    receive(d) {
      if (d.kind === "message") host.socket(id, typeof d.data === "string" ? d.data : new Uint8Array(d.data), 0, "");
      else if (d.kind === "close") host.socket(id, null, d.code, d.reason);
    },
  };
}

/**
 * A socket for an outbound connection the host is opening under a new id (a fetch() with
 * `Upgrade: websocket`, or `new WebSocket(url)`): what the server sends before the function
 * has the socket is kept in it. `release` forgets it when the server does not accept.
 */
export function outboundSocket(ws?: WebSocket): { id: number; socket: WebSocket; release(): void } {
  const socket = ws ?? new WebSocket(undefined, TOKEN);
  const s = stateOf(socket);
  const id = nextId++;
  s.outbound = true;
  s.hostId = id;
  s.peer = hostPeer(id);
  coupled.set(id, socket);
  return {
    id,
    socket,
    release() {
      s.peer = null;
      s.closedIn = true;
      s.closedOut = true;
      coupled.delete(id);
    },
  };
}

/** For `new WebSocket(url)` (outbound.ts): its state's setters. */
export const constructed = { opened: (ws: WebSocket, protocol: string, extensions: string | null) => opened(ws, protocol, extensions), failed: (ws: WebSocket, message: string) => failed(ws, message), markConnecting: (ws: WebSocket, url: string) => Object.assign(stateOf(ws), { connecting: true, accepted: true, url }) };

/** The invocation is over: the host has dropped its connections. */
export function finishSockets(): void {
  coupled.clear();
}
