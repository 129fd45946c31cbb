/**
 * Outbound WebSockets in the guest: `new WebSocket(url, protocols?)` as workerd
 * has it. The handshake is the host's "fetch" op with `Upgrade: websocket` and
 * the socket's id (FetchOpPayload.webSocket), as for a fetch() handshake
 * (fetch.ts); the host opens the connection under its address rules and counts
 * it as a subrequest. Its 101 makes the socket open ("open" event, then what
 * arrived meanwhile); any other answer or a failure is an `error` event and a
 * close 1006, with workerd's messages.
 */
import type { FetchOpPayload, GuestBody, GuestResponseHead } from "../../bridge/protocol.ts";
import { callOp } from "../core/host.ts";
import { DOMException } from "../platform/dom-exception.ts";
import { URL } from "../platform/url.ts";
import { constructed, outboundSocket, type WebSocket } from "./websocket.ts";

/** A "socket" emit's code: the function accepted (or opened) this outbound connection, which now holds its invocation. */
export const SOCKET_ACCEPTED = -3;

/** The constructor's URL as workerd checks it: absolute, ws: or wss:, no fragment. */
export function socketUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new DOMException("WebSocket Constructor: The url is invalid.", "SyntaxError");
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") throw new DOMException("WebSocket Constructor: The url scheme must be ws or wss.", "SyntaxError");
  if (parsed.hash !== "" || String(url).includes("#")) throw new DOMException("WebSocket Constructor: The url fragment must be empty.", "SyntaxError");
  return parsed.href;
}

/** RFC 6455 §4.1: each subprotocol a token (visible ASCII, no separators), none twice. */
const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function protocolList(protocols: unknown): string[] {
  if (protocols === undefined) return [];
  const list = typeof protocols === "string" ? [protocols] : typeof protocols === "object" && protocols !== null && Symbol.iterator in protocols ? Array.from(protocols as Iterable<unknown>, String) : [String(protocols)];
  const seen = new Set<string>();
  for (const p of list) {
    if (!TOKEN_CHARS.test(p) || seen.has(p)) throw new DOMException("WebSocket Constructor: The protocol header token is invalid.", "SyntaxError");
    seen.add(p);
  }
  return list;
}

type Result = GuestResponseHead & { body: GuestBody; webSocket?: true };

/** Starts `ws`'s handshake with `href` (ws: or wss:, sent as http: or https:). */
export function connect(ws: WebSocket, href: string, protocols: string[]): void {
  constructed.markConnecting(ws, href);
  const { id, release } = outboundSocket(ws);
  // As workerd, a constructed socket offers compression (the host caps a message as inflated).
  const headers: Array<[string, string]> = [["upgrade", "websocket"], ["sec-websocket-extensions", "permessage-deflate"]];
  if (protocols.length > 0) headers.push(["sec-websocket-protocol", protocols.join(", ")]);
  const payload: FetchOpPayload = { method: "GET", url: href.replace(/^ws/, "http"), headers, body: null, redirect: "manual", webSocket: id };
  callOp<Result>("fetch", payload).then(
    (r) => {
      if (r.webSocket === true) {
        const chosen = (name: string): string | undefined => r.headers.find(([n]) => n.toLowerCase() === name)?.[1];
        constructed.opened(ws, chosen("sec-websocket-protocol") ?? "", chosen("sec-websocket-extensions") ?? null);
        return;
      }
      if (r.body !== null && !(r.body instanceof Uint8Array)) callOp("stream.cancel", { stream: r.body.stream }).catch(() => {});
      release();
      constructed.failed(ws, `expected server to reply with HTTP status code 101 (switching protocols), but received ${r.status} instead.`);
    },
    (e: unknown) => {
      release();
      constructed.failed(ws, e instanceof Error ? e.message : String(e));
    },
  );
}
