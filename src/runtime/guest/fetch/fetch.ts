/**
 * fetch() (https://fetch.spec.whatwg.org/#fetch-method) over the "fetch" host
 * op. The request body is buffered in the guest; the response body streams
 * from the host. The host resolves the address, applies the egress policy and
 * counts subrequests (DESIGN.md §4).
 */
import type { FetchOpPayload, GuestBody, GuestResponseHead } from "../../bridge/protocol.ts";
import { callOp, cancelOp, startOp } from "../core/host.ts";
import { bodyHeaders, bodyState, bytesBody, consumeBody, hostBody } from "./body.ts";
import { Headers, appendTrusted, headerList, setGuard } from "./headers.ts";
import { Request, requestState } from "./request.ts";
import type { RequestInit } from "./request.ts";
import { isNullBodyStatus, makeResponse } from "./response.ts";
import { chunk } from "../core/lazy.ts";
import type { Response } from "./response.ts";
import type { AbortSignalLike } from "./webidl.ts";

/** What the host answers; `url` and `redirected` are optional extras (the final URL after redirects). */
type FetchResult = GuestResponseHead & { body: GuestBody; url?: string; redirected?: boolean; tunnel?: number; webSocket?: true };
type Outbound = ReturnType<ReturnType<typeof chunk<"websocket">>["outboundSocket"]>;

/** A request with `Upgrade: websocket` is a WebSocket handshake (any method, as workerd sends it as a GET). */
function isHandshake(headers: Array<[string, string]>): boolean {
  for (const [name, value] of headers) if (name === "upgrade" && value.toLowerCase().split(",").some((v) => v.trim() === "websocket")) return true;
  return false;
}

/** Headers from the host: already valid, lowercased here; the guard makes them immutable. */
export function trustedHeaders(list: Array<[string, string]>): Headers {
  const h = new Headers();
  for (const [k, v] of list) appendTrusted(h, k.toLowerCase(), v);
  setGuard(h, "immutable");
  return h;
}

function cancelHostBody(body: GuestBody): void {
  if (body !== null && !(body instanceof Uint8Array)) callOp("stream.cancel", { stream: body.stream }).catch(() => {});
}

function toResponse(r: FetchResult, method: string, url: string, signal: AbortSignalLike | null, outbound: Outbound | null): Response {
  const noBody = isNullBodyStatus(r.status) || method === "HEAD";
  if (noBody) cancelHostBody(r.body);
  const body =
    noBody || r.body === null
      ? null
      : r.body instanceof Uint8Array
        ? bytesBody(r.body)
        : hostBody(r.body.stream, signal);
  return makeResponse(
    {
      status: r.status,
      statusText: r.statusText,
      type: "default",
      url: r.url ?? url,
      redirected: r.redirected ?? false,
      cf: undefined,
      // A WebSocket handshake the host completed: a connection of its own (an outbound WebSocket),
      // or an edge node's pass-through to the origin, which can only be returned.
      webSocket: r.webSocket === true && outbound !== null ? outbound.socket : typeof r.tunnel === "number" ? chunk("websocket").tunnelSocket(r.tunnel) : null,
    },
    trustedHeaders(r.headers),
    body,
  );
}

/**
 * @example
 * const res = await fetch("https://example.com/api", { method: "POST", body: JSON.stringify(data) });
 * if (!res.ok) throw new Error(`upstream answered ${res.status}`);
 */
export function fetch(input: unknown, init?: RequestInit): Promise<Response> {
  return fetchVia(undefined, input, init);
}

/**
 * fetch() through `service` (a service binding's name: `env.NAME.fetch()`, the
 * host runs the bound function), or out to the network when undefined. The same
 * Request is built either way, as workerd's Fetcher does.
 */
export function fetchVia(service: string | undefined, input: unknown, init?: RequestInit): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const request = new Request(input as string, init);
    const s = requestState(request);
    const signal = s.signal;
    if (signal?.aborted) throw signal.reason;
    let settled = false;
    /** The "fetch" op once started: an abort tells the host, which cancels the request (Fetch "abort fetch"). */
    let opId = 0;
    /** The socket of a handshake, until the server accepts it. */
    let outbound: Outbound | null = null;
    const onAbort = () => {
      if (opId !== 0) cancelOp(opId);
      if (settled) return;
      settled = true;
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const url = s.url.replace(/#.*$/s, "");
    (async () => {
      const body = bodyState(request) === null ? null : await consumeBody(bodyState(request));
      if (settled) return;
      const payload: FetchOpPayload = {
        method: s.method,
        url,
        headers: headerList(bodyHeaders(request)).map(([k, v]) => [k, v] as [string, string]),
        body,
        redirect: s.redirect,
      };
      if (service !== undefined) payload.service = service;
      else if (isHandshake(payload.headers)) {
        outbound = chunk("websocket").outboundSocket();
        payload.webSocket = outbound.id;
      }
      const op = startOp<FetchResult>("fetch", payload);
      opId = op.id;
      const result = await op.done;
      if (result.webSocket !== true || settled) outbound?.release();
      if (settled) {
        cancelHostBody(result.body);
        return;
      }
      settled = true;
      // The listener stays: an abort after the response still reaches the host, which then drops
      // the response body it holds (and the connection), read or not.
      resolve(toResponse(result, s.method, url, signal, outbound));
    })().catch((e: unknown) => {
      outbound?.release();
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
  });
}
