/**
 * The parent's handle on a WebSocket a function in the child process returned
 * (a `WebSocketEnd`): its calls become "ws-*" messages to the child; the
 * child's "ws-msg" and "ws-close" reach the attached peer. What arrives before
 * `attach` is kept for it. The child's death is a close 1006.
 */
import type { WebSocketEnd, WebSocketPeer } from "../../shared/websocket.ts";
import type { ToChild } from "./messages.ts";

type Kept = { kind: "message"; data: string | Uint8Array } | { kind: "close"; code: number; reason: string };

export class RemoteSocket implements WebSocketEnd {
  #id: number;
  #send: (m: ToChild) => void;
  #peer: WebSocketPeer | null = null;
  #kept: Kept[] = [];
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
    if (this.#peer === null) this.#kept.push(k);
    else this.#give(this.#peer, k);
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
