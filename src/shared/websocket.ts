/**
 * One WebSocket connection between a function and whoever talks to it (a viewer
 * through an edge node, a test through the harness), as the runtime hands it
 * over in a 101 response's `webSocket` (src/runtime/websocket.ts makes it; the
 * child-process host relays it). Messages and closes cross as plain calls; the
 * WebSocket framing is the caller's (edge-nodes/websocket-relay.ts uses `ws`).
 */

/** What the function's side does, told to its peer. */
export interface WebSocketPeer {
  /** The function sent a message (text or binary). */
  message(data: string | Uint8Array): void;
  /**
   * The function closed the connection with `code` and `reason` (1005: no code), or the
   * connection failed on the function's side (1006: the function threw in a handler, was
   * killed over a budget, or its process died). Nothing arrives after it.
   */
  close(code: number, reason: string): void;
}

/** The peer's handle on the connection: what it sends arrives in the function's socket. */
export interface WebSocketEnd {
  /** Gives the function a message (its `message` event); one over {@link MAX_WEBSOCKET_MESSAGE_BYTES} closes the connection with 1009. */
  send(data: string | Uint8Array): void;
  /** The peer closed (the function's `close` event, clean, with this code; 1005: none given). */
  close(code?: number, reason?: string): void;
  /** The peer is gone without a close: the function sees close 1006, not clean. */
  abort(): void;
  /**
   * Where the function's messages and close go. What it sent before this is kept (up to
   * {@link MAX_WEBSOCKET_BUFFERED_BYTES}; past that the connection fails) and delivered first.
   * Calls come on later microtasks, never inside a call of this end.
   */
  attach(peer: WebSocketPeer): void;
}

/** Cloudflare's limit on a message a Worker receives: larger ones close the connection with 1009 "Message is too large". */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;

/** What the function may have sent and its peer not yet taken (before `attach`, or queued on a slow viewer's connection). */
export const MAX_WEBSOCKET_BUFFERED_BYTES = 16 * 1024 * 1024;

/** A close frame's reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5): a longer one is cut at a character boundary. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = "";
  let bytes = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 123) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** A close code a peer may put in a close frame it sends (RFC 6455 §7.4): 1005 and 1006 mean "none" and "lost" and are never sent. */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
