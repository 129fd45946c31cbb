/**
 * A WebSocket handshake through the edge node. CloudFront passes WebSocket
 * upgrades through on any distribution; here the handshake goes through the
 * same steps as a request, then the connection is joined to where it goes:
 *
 * 1. the request checks, the distribution by host, the behavior by path;
 * 2. viewer-request: a Lambda@Edge function's generated response goes to the
 *    viewer and nothing is upgraded; a request result goes on (so an auth
 *    function guards WebSockets as it guards pages). A Workers handler gets the
 *    handshake (with its `Upgrade` header) and answers it: a 101 with one side of
 *    a WebSocketPair is a *socket*, whose frames the node relays to the function
 *    (edge-nodes/upgrade.ts); its `fetch()` of the handshake to its own
 *    distribution runs steps 3–4 and, when the origin switches protocols, gives
 *    it a 101 whose `webSocket` stands for that connection: returned as it is,
 *    the viewer is joined to the origin (a tunnel); any other answer goes to the
 *    viewer;
 * 3. origin-request (Lambda@Edge) on the request for the origin, which keeps the
 *    handshake's `Sec-WebSocket-*` headers; a generated response goes to the viewer;
 * 4. the origin, over a connection of its own (origin-upgrade.ts): a 101 becomes a
 *    tunnel; any other answer goes to the viewer as the origin gave it.
 * Not run: the cache, origin-response and viewer-response (a 101 has no body, and
 * the frames after it are not HTTP). A Workers handler at origin-request cannot
 * take a WebSocket: 501 `ERR_UPGRADE_UNSUPPORTED`.
 */
import type { Duplex } from "node:stream";
import { VergeError } from "../shared/errors.ts";
import type { HeaderList } from "../shared/http.ts";
import { lambdaViewerRequest } from "./events.ts";
import { originRequest } from "./fill.ts";
import { targetUrl, type Context, type EventType, type Flow } from "./flow.ts";
import { setHeader } from "./headers.ts";
import type { UpgradeOrigin } from "./origin-upgrade.ts";
import type { FlowRequest } from "./flow.ts";
import type { ServeSubrequest } from "./workers.ts";
import { workersHandshake } from "./workers-upgrade.ts";
import type { WebSocketEnd } from "../shared/websocket.ts";

export type UpgradeStep =
  | { kind: "answer"; response: Response }
  /** The origin's 101 header lines (not yet the viewer's), its socket, and bytes it sent after the head. */
  | { kind: "tunnel"; headers: HeaderList; socket: Duplex; head: Buffer }
  /** A Workers handler's 101 header lines and the connection to its WebSocket. */
  | { kind: "socket"; headers: HeaderList; end: WebSocketEnd };

function unsupported(event: EventType): VergeError {
  return new VergeError("ERR_UPGRADE_UNSUPPORTED", `a WebSocket handshake cannot go through the Workers handler at ${event}: a Workers handler takes WebSockets at viewer-request only`);
}

/** Steps 2–4 for a flow made of a handshake request. Throws what the pipeline renders as an error answer. */
export async function upgradeFlow(ctx: Context, upgradeOrigin: UpgradeOrigin, flow: Flow, serve: ServeSubrequest): Promise<UpgradeStep> {
  if (flow.request.method !== "GET") throw new VergeError("ERR_BAD_REQUEST", `a WebSocket handshake is a GET (RFC 6455 §4.1), not a ${flow.request.method}`);
  const onRequest = flow.behavior.functions["viewer-request"];
  if (onRequest !== undefined) {
    const out = await ctx.invoker.invoke<Response | UpgradeStep | null>(flow, "viewer-request", onRequest, (spec, lambda) => {
      if (!lambda) return workersHandshake(ctx, flow, spec, serve, (request) => toOrigin(ctx, upgradeOrigin, flow, request));
      return lambdaViewerRequest(ctx, flow, spec, onRequest.includeBody);
    });
    if (out instanceof Response) return { kind: "answer", response: out };
    if (out !== null) return out;
  }
  return toOrigin(ctx, upgradeOrigin, flow, flow.request);
}

/** Steps 3–4 for `request` (the viewer's handshake, or the one a Workers handler fetched). */
export async function toOrigin(ctx: Context, upgradeOrigin: UpgradeOrigin, flow: Flow, request: FlowRequest): Promise<Extract<UpgradeStep, { kind: "answer" | "tunnel" }>> {
  const prepared = await originRequest(ctx, flow, request, {}, false, async () => {
    throw unsupported("origin-request");
  });
  if ("generated" in prepared) return { kind: "answer", response: prepared.generated };
  const { target, sent } = prepared;
  let headers = sent.headers;
  for (const [name, value] of target.customHeaders) headers = setHeader(headers, name, value);
  // The request for the origin lost its hop-by-hop headers; a handshake needs these two back.
  headers = setHeader(setHeader(headers, "connection", "Upgrade"), "upgrade", "websocket");
  const out = await upgradeOrigin(targetUrl(target, sent), {
    headers,
    connectTimeoutMs: target.connectTimeoutMs,
    readTimeoutMs: target.readTimeoutMs,
    chosenByFunction: target.chosenByFunction,
  });
  if (!out.upgraded) return { kind: "answer", response: out.response };
  return { kind: "tunnel", headers: out.headers, socket: out.socket, head: out.head };
}
