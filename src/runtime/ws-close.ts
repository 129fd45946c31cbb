/**
 * The close handshake of a `ws` connection held open for a function: `ws`
 * answers a peer's close frame as soon as it parses it, with the peer's own
 * code, while workerd lets the Worker's close (sent while it handles the peer's)
 * be the answer. Used by the edge relay (a viewer's close) and by outbound
 * WebSockets (a server's close).
 */
import type { EventEmitter } from "node:events";
import type { WebSocket } from "ws";

/** How long an answer to a peer's close frame waits for the function's own close before the peer's code goes back. */
export const CLOSE_REPLY_MS = 2_000;

/**
 * `ws` answers a peer's close frame as soon as it parses it (the same code back). This keeps its
 * bookkeeping (the frame is recorded, the socket read to its end) but not the answer: `onClose`
 * gets the frame's code (1005: none) and reason, and whoever calls `ws.close()` later answers.
 * False when this `ws` does not have the internals this relies on (then it answers itself).
 */
export function holdCloseReply(ws: WebSocket, onClose: (code: number, reason: Buffer) => void): boolean {
  const receiver = (ws as unknown as { _receiver?: EventEmitter | null })._receiver;
  const own = receiver?.listeners("conclude");
  if (receiver == null || own === undefined || own.length !== 1 || typeof own[0] !== "function") return false;
  const conclude = own[0] as (this: unknown, code: number, reason: Buffer) => void;
  receiver.removeListener("conclude", conclude);
  receiver.on("conclude", function (this: unknown, code: number, reason: Buffer) {
    // The answer to a close this side sent first: `ws` ends the connection as usual.
    if (ws.readyState !== ws.OPEN) return conclude.call(this, code, reason);
    const socket = ws as unknown as { close: WebSocket["close"] };
    // `ws`'s handler ends with this.close(code, reason): an own no-op hides it for that call only.
    socket.close = () => {};
    try {
      conclude.call(this, code, reason);
    } finally {
      delete (socket as { close?: unknown }).close;
    }
    onClose(code, reason);
  });
  return true;
}
