/**
 * The parent's handle on a WebSocket a function in the child process returned
 * (a `WebSocketEnd`): its calls become "ws-*" messages to the child; the
 * child's "ws-msg" and "ws-close" reach the attached peer. What arrives before
 * `attach` is kept for it, up to MAX_WEBSOCKET_BUFFERED_BYTES of messages (the
 * WebSocketEnd contract): past that the connection fails, the function sees it
 * lost (1006) and the peer gets only the failure, so a function that sends in a
 * loop before its caller attaches cannot fill the parent's memory. The child's
 * death is a close 1006.
 */
import { MAX_WEBSOCKET_BUFFERED_BYTES, type WebSocketEnd, type WebSocketPeer } from "../../shared/websocket.ts";
import type { ToChild } from "./messages.ts";

type Kept = { kind: "message"; data: string | Uint8Array } | { kind: "close"; code: number; reason: string };

/** The close reason a peer attaching after the function flooded the connection gets (with code 1006). */
export const KEPT_OVERFLOW_REASON = `verge: the function sent more than ${MAX_WEBSOCKET_BUFFERED_BYTES / 1048576} MiB on this WebSocket before its peer was attached`;

function sizeOf(data: string | Uint8Array): number {
  return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
}

export class RemoteSocket implements WebSocketEnd {
  #id: number;
  #send: (m: ToChild) => void;
  #peer: WebSocketPeer | null = null;
  #kept: Kept[] = [];
  /** Bytes of the messages in `#kept`. */
  #keptBytes = 0;
  /** The peer was told the connection ended (a close from the child, or the child's death). */
  #closedByChild = false;
  /** The peer said it is done (close or abort). */
  #closedByPeer = false;

  constructor(id: number, send: (m: ToChild) => void) {
    this.#id = id;
    this.#send = send;
  }

  // The function's close does not stop the peer: it may still send, and answers with its own close.
  send(data: string | Uint8Array): void {
    if (this.#closedByPeer) return;
    this.#send({ t: "ws-send", id: this.#id, data });
  }

  close(code?: number, reason?: string): void {
    if (this.#closedByPeer) return;
    this.#closedByPeer = true;
    this.#send({ t: "ws-close", id: this.#id, ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) });
  }

  abort(): void {
    if (this.#closedByPeer) return;
    this.#closedByPeer = true;
    this.#send({ t: "ws-abort", id: this.#id });
  }

  attach(peer: WebSocketPeer): void {
    if (this.#peer !== null) throw new Error("verge: this WebSocket already has a peer");
    this.#peer = peer;
    const kept = this.#kept;
    this.#kept = [];
    this.#keptBytes = 0;
    if (kept.length > 0) queueMicrotask(() => kept.forEach((k) => this.#give(peer, k)));
  }

  /** A "ws-msg" from the child. */
  message(data: string | Uint8Array): void {
    if (this.#closedByChild) return;
    this.#deliver({ kind: "message", data });
  }

  /** A "ws-close" from the child, or (code 1006) its death. */
  closed(code: number, reason: string): void {
    if (this.#closedByChild) return;
    this.#closedByChild = true;
    this.#deliver({ kind: "close", code, reason });
  }

  #deliver(k: Kept): void {
    if (this.#peer !== null) return this.#give(this.#peer, k);
    this.#kept.push(k);
    if (k.kind === "message") this.#keptBytes += sizeOf(k.data);
    if (this.#keptBytes > MAX_WEBSOCKET_BUFFERED_BYTES) this.#overflow();
  }

  /** Too much waits for a peer: only the failure is kept, nothing more from the child is, and the function is told its connection is lost. */
  #overflow(): void {
    this.#kept = [{ kind: "close", code: 1006, reason: KEPT_OVERFLOW_REASON }];
    this.#keptBytes = 0;
    this.#closedByChild = true;
    this.abort();
  }

  #give(peer: WebSocketPeer, k: Kept): void {
    try {
      if (k.kind === "message") peer.message(k.data);
      else peer.close(k.code, k.reason);
    } catch {
      // The peer's own failure.
    }
  }
}
