/**
 * The host's side of a WebSocket a function returned in a 101 response (the
 * guest side is guest/websocket/websocket.ts). It is the `WebSocketEnd` the
 * runtime's caller gets: what the caller sends enters the guest (`socket`
 * entry) on a later microtask, never inside another entry; what the function
 * sends (its "socket" emits) goes to the attached peer, also on a microtask.
 *
 * The connection is over when the function has seen the peer's close, or it
 * failed (abort, a listener that threw, the function killed). Until then the
 * invocation stays open (invocation.ts); each peer message or close starts a
 * new CPU window for the function (see README "Budgets").
 */
import { MAX_WEBSOCKET_BUFFERED_BYTES, MAX_WEBSOCKET_MESSAGE_BYTES, type WebSocketEnd, type WebSocketPeer } from "../shared/websocket.ts";
import type { Emit } from "./bridge/protocol.ts";

/** A "socket" emit's code for a connection whose function sent more in one entry than a connection may hold. */
const FLOODED = -2;

/**
 * The emits of the guest entries running now, which the Sandbox delivers once the outermost is
 * charged (an answer made in an entry that overran must not reach the caller). A WebSocket's
 * messages count: past MAX_WEBSOCKET_BUFFERED_BYTES in one entry, the rest of that connection's
 * are dropped and it is failed instead (one FLOODED emit), so the host never holds a flood.
 */
export class HeldEmits {
  #list: Emit[] = [];
  #socketBytes = 0;
  #flooded = new Set<number>();

  get size(): number {
    return this.#list.length;
  }

  hold(m: Emit): void {
    if (m.type === "socket" && m.data !== null) {
      if (this.#flooded.has(m.socket)) return;
      this.#socketBytes += sizeOf(m.data);
      if (this.#socketBytes > MAX_WEBSOCKET_BUFFERED_BYTES) {
        this.#flooded.add(m.socket);
        this.#list.push({ type: "socket", socket: m.socket, data: null, code: FLOODED, reason: "" });
        return;
      }
    }
    this.#list.push(m);
  }

  /** What was held, in order; the holder starts empty. */
  take(): Emit[] {
    const list = this.#list;
    this.#list = [];
    this.#socketBytes = 0;
    this.#flooded.clear();
    return list;
  }
}

type Out = { kind: "message"; data: string | Uint8Array } | { kind: "close"; code: number; reason: string };

export interface HostSocketOptions {
  /** Enters the guest with a peer event (GuestApi.socket); throws when the sandbox is dead. */
  deliver(data: string | Uint8Array | null, code: number, reason: string): void;
  /** The connection is over (called once). */
  onOver(): void;
}

function sizeOf(data: string | Uint8Array): number {
  return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
}

export class HostSocket implements WebSocketEnd {
  #options: HostSocketOptions;
  #peer: WebSocketPeer | null = null;
  #kept: Out[] = [];
  #keptBytes = 0;
  /** Bytes handed to the peer on microtasks that have not run yet (one guest entry's sends). */
  #inFlight = 0;
  /** The function has closed its side (or failed it). */
  #guestClosed = false;
  /** The peer's close (or loss) was given to the function. */
  #peerClosed = false;
  #over = false;

  constructor(options: HostSocketOptions) {
    this.#options = options;
  }

  get over(): boolean {
    return this.#over;
  }

  // ---- the caller's side (WebSocketEnd) ----

  send(data: string | Uint8Array): void {
    if (this.#over || this.#peerClosed) return;
    if (typeof data !== "string" && !(data instanceof Uint8Array)) throw new TypeError("WebSocketEnd.send: expected a string or a Uint8Array");
    if (sizeOf(data) > MAX_WEBSOCKET_MESSAGE_BYTES) {
      // As Cloudflare: the connection closes with 1009 on both sides.
      this.#toPeer({ kind: "close", code: 1009, reason: "Message is too large" });
      this.#guestClosed = true;
      this.close(1009, "Message is too large");
      return;
    }
    queueMicrotask(() => this.#enter(data, 0, ""));
  }

  close(code = 1005, reason = ""): void {
    if (this.#over || this.#peerClosed) return;
    this.#peerClosed = true;
    queueMicrotask(() => {
      this.#enter(null, code, reason);
      // A function that did not close back while handling the close gets workerd's automatic
      // reply (the same code and reason): the connection is over either way, so an invocation
      // whose function never closes is not held open after its peer left.
      if (!this.#over && !this.#guestClosed) {
        this.#guestClosed = true;
        this.#toPeer({ kind: "close", code, reason });
      }
      this.#end();
    });
  }

  abort(): void {
    if (this.#over || this.#peerClosed) return;
    this.#guestClosed = true;
    this.#lost();
  }

  attach(peer: WebSocketPeer): void {
    if (this.#peer !== null) throw new Error("verge: this WebSocket already has a peer");
    this.#peer = peer;
    const kept = this.#kept;
    this.#kept = [];
    this.#keptBytes = 0;
    if (kept.length > 0) queueMicrotask(() => kept.forEach((m) => this.#give(peer, m)));
  }

  // ---- the function's side (its "socket" emits) ----

  /** The function sent a message, closed (code ≥ 0), failed the connection (code -1), or flooded it (FLOODED). */
  fromGuest(data: string | Uint8Array | null, code: number, reason: string): void {
    if (this.#over || this.#guestClosed) return;
    if (data !== null) return this.#toPeer({ kind: "message", data });
    if (code === FLOODED) return this.#peer === null ? this.#floodedKept() : this.#flooded(this.#peer);
    this.#guestClosed = true;
    if (code === -1) {
      this.#toPeer({ kind: "close", code: 1006, reason: "" });
      this.#peerClosed = true;
      return this.#end();
    }
    this.#toPeer({ kind: "close", code, reason });
    if (this.#peerClosed) this.#end();
  }

  /** The function is gone (killed, its invocation failed or ended): the peer sees 1006 unless the function closed first. */
  kill(): void {
    if (this.#over) return;
    if (!this.#guestClosed) this.#toPeer({ kind: "close", code: 1006, reason: "" });
    this.#guestClosed = true;
    this.#peerClosed = true;
    this.#end();
  }

  #toPeer(m: Out): void {
    const peer = this.#peer;
    if (peer !== null) {
      const size = m.kind === "message" ? sizeOf(m.data) : 0;
      this.#inFlight += size;
      // One entry that sends more than a connection may hold fails it, before the host holds it all.
      if (this.#inFlight > MAX_WEBSOCKET_BUFFERED_BYTES && m.kind === "message") {
        if (!this.#guestClosed) this.#flooded(peer);
        return;
      }
      queueMicrotask(() => {
        this.#inFlight -= size;
        this.#give(peer, m);
      });
      return;
    }
    this.#kept.push(m);
    if (m.kind === "message") this.#keptBytes += sizeOf(m.data);
    // A function that floods a socket nobody reads fails it rather than filling the host's memory.
    if (this.#keptBytes > MAX_WEBSOCKET_BUFFERED_BYTES && !this.#guestClosed) this.#floodedKept();
  }

  /** More than MAX_WEBSOCKET_BUFFERED_BYTES wait for a peer: only the connection's failure is kept. */
  #floodedKept(): void {
    this.#kept = [{ kind: "close", code: 1006, reason: "" }];
    this.#keptBytes = 0;
    this.#guestClosed = true;
    this.#lost();
  }

  /** The function sent more than MAX_WEBSOCKET_BUFFERED_BYTES in one go: the peer and the function see 1006. */
  #flooded(peer: WebSocketPeer): void {
    this.#guestClosed = true;
    queueMicrotask(() => this.#give(peer, { kind: "close", code: 1006, reason: "" }));
    this.#lost();
  }

  /** The function is told the connection is lost (close 1006), then it is over. */
  #lost(): void {
    const tell = !this.#peerClosed;
    this.#peerClosed = true;
    queueMicrotask(() => {
      if (tell) this.#enter(null, -1, "");
      this.#end();
    });
  }

  #give(peer: WebSocketPeer, m: Out): void {
    try {
      if (m.kind === "message") peer.message(m.data);
      else peer.close(m.code, m.reason);
    } catch {
      // A peer's failure is its own (a closed viewer socket); the function is not told twice.
    }
  }

  #enter(data: string | Uint8Array | null, code: number, reason: string): void {
    if (this.#over && code !== -1) return;
    try {
      this.#options.deliver(data, code, reason);
    } catch {
      // The sandbox was killed in that entry: the invocation's failure ends the connection.
    }
  }

  #end(): void {
    if (this.#over) return;
    this.#over = true;
    this.#options.onOver();
  }
}
