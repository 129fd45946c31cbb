/**
 * Outbound WebSockets: a function's `fetch(url, { headers: { Upgrade: "websocket" } })`
 * (and `new WebSocket(url)`, which the guest makes into one) is a WebSocket
 * handshake the host sends with the `ws` package, under the same address rules
 * as any subrequest (the policy's DNS lookup at connect time, IP literals
 * checked first). The server's 101 gives a connection the invocation joins to
 * the function's socket (`join`, src/runtime/socket-set.ts); any other answer is
 * an ordinary response, its body streamed from the connection.
 *
 * Limits, as for a WebSocket a function returns: a message from the server over
 * MAX_WEBSOCKET_MESSAGE_BYTES closes the connection with 1009 (the function sees
 * it too); a server that reads slower than the function sends has at most
 * MAX_WEBSOCKET_BUFFERED_BYTES queued, then its connection is dropped (1006 for
 * the function). Compression (permessage-deflate) is offered when the request
 * asks for it (`new WebSocket` does, as workerd); the message cap then counts
 * inflated bytes, so a compressed zip bomb closes with 1009 as soon as it
 * inflates past it. Redirects are not followed (a 3xx is the answer).
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { headerLines, type HeaderList, type RequestData, type ResponseData } from "../shared/http.ts";
import { MAX_WEBSOCKET_BUFFERED_BYTES, MAX_WEBSOCKET_MESSAGE_BYTES, closeReason, sendableCloseCode, type WebSocketEnd } from "../shared/websocket.ts";
import type { AddressGuard } from "./fetch-guard.ts";
import type { FetchOptions } from "./host-services.ts";
import { CLOSE_REPLY_MS, holdCloseReply } from "./ws-close.ts";

/** A connection a handshake subrequest opened: joined to the function's socket, or dropped when nobody takes it. */
export interface OutboundWebSocket {
  /** From now on the server's messages and close go to `end`, and `end`'s peer sends to the server. */
  join(end: WebSocketEnd): void;
  /** Closes the connection abnormally (the server sees 1006). */
  drop(): void;
}

/** A request a WebSocket handshake: `Upgrade: websocket` (any method: the handshake is sent as a GET, as workerd sends it). */
export function isWebSocketHandshake(headers: HeaderList): boolean {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === "upgrade" && value.split(",").some((v) => v.trim().toLowerCase() === "websocket")) return true;
  }
  return false;
}

/** Header lines `ws` writes itself, or that have no meaning on a handshake. */
const OWN_LINES = new Set(["host", "connection", "upgrade", "keep-alive", "te", "trailer", "transfer-encoding", "content-length", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"]);

type Arrival = { kind: "message"; data: string | Uint8Array } | { kind: "close"; code: number; reason: string } | { kind: "lost" };

/**
 * Sends `request`'s handshake. Resolves with the 101 (headers as the server sent them) and its
 * connection in `webSocket`, or with the server's other answer; rejects as a fetch does (a refused
 * address is ERR_FETCH_BLOCKED, an unreachable server a TypeError, an abort the signal's reason).
 */
export function openWebSocket(request: RequestData, options: FetchOptions, guard: AddressGuard, timeoutMs: number): Promise<ResponseData & { url: string; redirected: false; webSocket?: OutboundWebSocket }> {
  return new Promise((resolve, reject) => {
    const url = new URL(request.url);
    guard.check(url);
    if (options.signal.aborted) return reject(options.signal.reason);
    const headers: Record<string, string> = {};
    let protocols: string[] = [];
    let deflate = false;
    for (const [name, value] of request.headers) {
      const lower = name.toLowerCase();
      if (lower === "sec-websocket-extensions") deflate ||= value.split(",").some((e) => e.split(";")[0]!.trim().toLowerCase() === "permessage-deflate");
      else if (lower === "sec-websocket-protocol") protocols = protocols.concat(value.split(",").map((p) => p.trim()).filter((p) => p !== ""));
      else if (!OWN_LINES.has(lower)) headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
    }
    const target = new URL(url);
    target.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    let ws: WebSocket;
    try {
      ws = new WebSocket(target, protocols, { headers, lookup: guard.lookup, perMessageDeflate: deflate, followRedirects: false, handshakeTimeout: timeoutMs, maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES });
    } catch (err) {
      return reject(new TypeError(`WebSocket handshake with ${url.host}: ${err instanceof Error ? err.message : String(err)}`));
    }
    let settled = false;
    const onAbort = (): void => {
      if (!settled) {
        settled = true;
        reject(options.signal.reason);
      }
      ws.terminate();
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    let upgradeHead: IncomingMessage | undefined;
    ws.once("upgrade", (res: IncomingMessage) => (upgradeHead = res));
    ws.once("unexpected-response", (req: ClientRequest, res: IncomingMessage) => {
      if (settled) return void req.destroy();
      settled = true;
      resolve({ status: res.statusCode ?? 502, statusText: res.statusMessage ?? "", headers: headerLines(res.rawHeaders), body: bodyOf(req, res, options.signal), url: url.href, redirected: false });
    });
    ws.on("error", (err: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      const blocked = (err as { cause?: unknown }).cause ?? err;
      if ((blocked as { code?: unknown }).code === "ERR_FETCH_BLOCKED") return reject(blocked);
      reject(new TypeError(`WebSocket handshake with ${url.host} failed: ${err.message}`));
    });
    // Arrivals between the 101 and `join` (a few microtasks) are kept for it.
    let kept: Arrival[] | null = [];
    let keptBytes = 0;
    let joined: WebSocketEnd | null = null;
    let tooLarge = false;
    const arrive = (a: Arrival): void => {
      if (joined !== null) return give(joined, a);
      if (kept === null) return;
      kept.push(a);
      if (a.kind === "message") keptBytes += typeof a.data === "string" ? Buffer.byteLength(a.data) : a.data.byteLength;
      if (keptBytes > MAX_WEBSOCKET_BUFFERED_BYTES) {
        kept = [{ kind: "lost" }];
        ws.terminate();
      }
    };
    ws.once("open", () => {
      options.signal.removeEventListener("abort", onAbort);
      if (settled) return void ws.terminate();
      settled = true;
      ws.on("error", (err: Error & { code?: string }) => {
        if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") tooLarge = true;
      });
      ws.on("message", (data, isBinary) => {
        const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        arrive({ kind: "message", data: isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString("utf8") });
      });
      // A server's close frame reaches the function first: its own close (or the automatic reply) answers it.
      let serverClosed = false;
      let replyTimer: ReturnType<typeof setTimeout> | undefined;
      holdCloseReply(ws, (code, reason) => {
        serverClosed = true;
        const text = reason.toString("utf8");
        replyTimer = setTimeout(() => answerClose(ws, code, text), CLOSE_REPLY_MS);
        replyTimer.unref?.();
        arrive({ kind: "close", code, reason: text });
      });
      ws.on("close", (code, reason) => {
        clearTimeout(replyTimer);
        if (serverClosed) return;
        if (tooLarge) arrive({ kind: "close", code: 1009, reason: "Message is too large" });
        else if (code === 1006) arrive({ kind: "lost" });
        else arrive({ kind: "close", code, reason: reason.toString("utf8") });
      });
      const res = upgradeHead;
      const connection: OutboundWebSocket = {
        join(end) {
          if (joined !== null || kept === null) throw new Error("verge: this outbound WebSocket was already joined or dropped");
          joined = end;
          end.attach({
            message(data) {
              if (ws.readyState !== ws.OPEN) return;
              if (ws.bufferedAmount > MAX_WEBSOCKET_BUFFERED_BYTES) return void ws.terminate();
              ws.send(data);
            },
            close(code, reason) {
              clearTimeout(replyTimer);
              if (code === 1006) ws.terminate();
              else answerClose(ws, code, reason);
            },
          });
          const early = kept;
          kept = null;
          for (const a of early) give(end, a);
        },
        drop() {
          kept = null;
          ws.terminate();
        },
      };
      resolve({ status: 101, statusText: res?.statusMessage ?? "Switching Protocols", headers: res === undefined ? [] : headerLines(res.rawHeaders), body: null, url: url.href, redirected: false, webSocket: connection });
    });
  });
}

/** A close frame with `code` (none for a code a peer may not send) and the reason cut to fit. */
function answerClose(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState !== ws.OPEN) return;
  if (sendableCloseCode(code)) ws.close(code, closeReason(reason));
  else ws.close();
}

function give(end: WebSocketEnd, a: Arrival): void {
  if (a.kind === "message") end.send(a.data);
  else if (a.kind === "close") end.close(a.code, a.reason);
  else end.abort();
}

/** A non-101 answer's body: the response itself (its iterator's return() destroys it); the handshake's connection goes with it, or with an abort. */
function bodyOf(req: ClientRequest, res: IncomingMessage, signal: AbortSignal): AsyncIterable<Uint8Array> {
  const abort = (): void => void req.destroy();
  signal.addEventListener("abort", abort, { once: true });
  res.once("close", () => {
    signal.removeEventListener("abort", abort);
    req.destroy();
  });
  return res as AsyncIterable<Uint8Array>;
}
