/**
 * A Workers handler's WebSocket on the node (Pipeline.upgrade's "socket"
 * outcome): the `ws` package completes the handshake with the viewer (the
 * Worker's own 101 headers added, its `Sec-WebSocket-Protocol` chosen when the
 * viewer offered it) and frames are relayed both ways between the viewer and
 * the function's connection (`WebSocketEnd`):
 * - a viewer message over 1 MiB closes the connection with 1009, as Cloudflare
 *   (inflated size, when the viewer negotiated permessage-deflate);
 * - the function's close goes to the viewer (a code a peer may not send, such as
 *   1005, becomes a close without a code; the reason is cut to 123 bytes), 1006
 *   (the function failed or was killed) drops the connection;
 * - a viewer that reads slower than the function sends has at most
 *   MAX_WEBSOCKET_BUFFERED_BYTES queued: past that its connection is dropped and
 *   the function sees 1006 (a flood cannot fill the node's memory);
 * - a viewer's close frame goes to the function before the node answers it: the
 *   close the function sends while handling it (its code and reason) is the
 *   answer, as workerd sends it; a function that does not close back gets the
 *   viewer's own code and reason (the runtime's automatic reply), and one that
 *   has not answered within CLOSE_REPLY_MS gets that reply from the node;
 * - a viewer gone without a close frame is a 1006 for the function.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { HeaderList } from "../src/shared/http.ts";
import { CLOSE_REPLY_MS, holdCloseReply } from "../src/runtime/index.ts";
import { MAX_WEBSOCKET_BUFFERED_BYTES, MAX_WEBSOCKET_MESSAGE_BYTES, closeReason, sendableCloseCode, type WebSocketEnd } from "../src/shared/websocket.ts";

/** Lines `ws` writes itself in the 101 (or that must not be in one). */
const OWN_LINES = new Set(["upgrade", "connection", "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol", "content-length", "transfer-encoding"]);

export { CLOSE_REPLY_MS };

interface Pending {
  headers: HeaderList;
  protocol: string | null;
}

export type Relay = (req: IncomingMessage, socket: Duplex, head: Buffer, outcome: { headers: HeaderList; end: WebSocketEnd }) => void;

export function createRelay(): Relay {
  const pending = new WeakMap<IncomingMessage, Pending>();
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    // Compression when the viewer offers it (RFC 7692). The 1 MiB cap applies to a message as
    // inflated, so a small compressed frame that inflates past it (a zip bomb) closes with 1009
    // as soon as the cap is crossed; inflation runs on zlib's thread pool, at most 10 at a time
    // (`ws`'s default). Messages under 1 KiB go out uncompressed.
    perMessageDeflate: { threshold: 1024, concurrencyLimit: 10 },
    maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
    handleProtocols: (offered, req) => {
      const chosen = pending.get(req)?.protocol ?? null;
      return chosen !== null && offered.has(chosen) ? chosen : false;
    },
  });
  wss.on("headers", (lines, req) => {
    for (const [name, value] of pending.get(req)?.headers ?? []) if (!OWN_LINES.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  });

  return (req, socket, head, outcome) => {
    const { end } = outcome;
    if (socket.destroyed) return end.abort();
    const protocol = outcome.headers.find(([name]) => name.toLowerCase() === "sec-websocket-protocol")?.[1] ?? null;
    pending.set(req, { headers: outcome.headers, protocol });
    let joined = false;
    // A handshake `ws` refuses (no key, a bad version) is answered 400 and closed: the function sees 1006.
    socket.once("close", () => {
      if (!joined) end.abort();
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      joined = true;
      join(ws, end);
    });
  };
}

function join(ws: WebSocket, end: WebSocketEnd): void {
  let tooLarge = false;
  /** The viewer's close frame was given to the function; the node's answer waits for the function's close. */
  let viewerClosed = false;
  let replyTimer: ReturnType<typeof setTimeout> | undefined;
  const answerClose = (code: number | undefined, reason: string): void => {
    clearTimeout(replyTimer);
    if (ws.readyState !== ws.OPEN) return;
    if (code !== undefined && sendableCloseCode(code)) ws.close(code, closeReason(reason));
    else ws.close();
  };
  holdCloseReply(ws, (code, reason) => {
    viewerClosed = true;
    const text = reason.toString("utf8");
    // A function that never answers (its process is stuck) still gets the connection closed.
    replyTimer = setTimeout(() => answerClose(code, text), CLOSE_REPLY_MS);
    replyTimer.unref?.();
    end.close(code, text);
  });
  ws.on("error", (err: Error & { code?: string }) => {
    if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") tooLarge = true;
  });
  ws.on("message", (data, isBinary) => {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    end.send(isBinary ? new Uint8Array(bytes) : bytes.toString("utf8"));
  });
  ws.on("close", (code, reason) => {
    clearTimeout(replyTimer);
    if (viewerClosed) return;
    if (tooLarge) end.close(1009, "Message is too large");
    else if (code === 1006) end.abort();
    // Without the hold (a `ws` whose internals changed, the node answered already) or a protocol error `ws` closed on.
    else end.close(code, reason.toString("utf8"));
  });
  end.attach({
    message(data) {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_WEBSOCKET_BUFFERED_BYTES) return void ws.terminate();
      ws.send(data);
    },
    close(code, reason) {
      if (code === 1006) {
        clearTimeout(replyTimer);
        ws.terminate();
      } else answerClose(code, reason);
    },
  });
}
