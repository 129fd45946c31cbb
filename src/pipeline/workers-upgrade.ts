/**
 * A Workers handler at viewer-request on a WebSocket handshake (upgrade.ts step 2).
 *
 * The handler gets the viewer's handshake with its `Upgrade: websocket` (the one
 * hop-by-hop header a Worker sees, as in workerd) and answers it:
 * - a 101 with one side of a WebSocketPair: a *socket* step, the connection to the
 *   function that edge-nodes/upgrade.ts relays frames to;
 * - a 101 returning the `webSocket` of its own `fetch()` of the handshake to the
 *   distribution (auth, then pass through): the origin's connection, a *tunnel*
 *   step joined byte for byte as for a handshake without a function. That fetch
 *   ran origin-request and the origin (`toOrigin`); an origin that did not switch
 *   protocols answered it as an ordinary response, one that failed as the viewer
 *   would see it (502/504 with `x-verge-error`);
 * - anything else: an answer for the viewer (the connection then closes).
 * Its other `fetch()` calls are routed as at viewer-request (workers.ts). A
 * connection the handler fetched and did not return is closed when its
 * invocation is over.
 */
import type { FunctionSpec } from "../runtime/index.ts";
import { withFailureReport } from "../runtime/index.ts";
import { splitUrl } from "../shared/cloudfront/index.ts";
import type { RequestData } from "../shared/http.ts";
import { VergeError, hasCode } from "../shared/errors.ts";
import { errorResponse } from "./errors.ts";
import { dataToResponse } from "./events.ts";
import { requestUrl, type Context, type Flow, type FlowRequest } from "./flow.ts";
import { stripHopByHop } from "./headers.ts";
import { hostName } from "./hardening.ts";
import type { Invoked } from "./invoker.ts";
import { cachesFor } from "./caches.ts";
import type { UpgradeStep } from "./upgrade.ts";
import { cfOf, ownLength, viewerSubrequest, type ServeSubrequest, type Subrequest } from "./workers.ts";

type Tunnel = Extract<UpgradeStep, { kind: "tunnel" }>;

function isHandshake(headers: ReadonlyArray<readonly [string, string]>): boolean {
  return headers.some(([name, value]) => name.toLowerCase() === "upgrade" && value.toLowerCase().split(",").some((v) => v.trim() === "websocket"));
}

export async function workersHandshake(
  ctx: Context,
  flow: Flow,
  spec: FunctionSpec,
  serve: ServeSubrequest,
  toOrigin: (request: FlowRequest) => Promise<Extract<UpgradeStep, { kind: "answer" | "tunnel" }>>,
): Promise<Invoked<UpgradeStep>> {
  const tunnels = new Map<number, Tunnel>();
  let nextTunnel = 1;
  /** The invocation is over: a tunnel its fetch() opens now is closed at once. */
  let over = false;
  const routed = viewerSubrequest(ctx, flow, serve);
  let hostnames: Set<string> | undefined;
  const subrequest: Subrequest = async (request, options) => {
    hostnames ??= new Set(flow.distribution.hostnames.map((h) => h.toLowerCase()));
    const url = new URL(request.url);
    if (request.method.toUpperCase() !== "GET" || !isHandshake(request.headers) || !hostnames.has(hostName(url.host))) return routed(request, options);
    const { uri, querystring } = splitUrl(request.url);
    const sub: FlowRequest = { method: "GET", uri, querystring, headers: stripHopByHop(request.headers), body: { head: new Uint8Array(0), rest: null, absent: true } };
    let step: Awaited<ReturnType<typeof toOrigin>>;
    try {
      step = await toOrigin(sub);
    } catch (err) {
      // As the viewer would see it (an unreachable origin is a 502 with x-verge-error), not an exception.
      if (!hasCode(err)) throw err;
      step = { kind: "answer", response: errorResponse(err.code, flow.requestId, "GET") };
    }
    if (step.kind === "answer") {
      const r = step.response;
      return { status: r.status, statusText: r.statusText, headers: [...r.headers], body: r.body === null ? null : (r.body as unknown as AsyncIterable<Uint8Array>) };
    }
    if (over) {
      // The invocation ended (or failed) while this fetch was on its way: nobody can return it.
      step.socket.destroy();
      throw new Error("the invocation is over");
    }
    const token = nextTunnel++;
    tunnels.set(token, step);
    return { status: 101, statusText: "Switching Protocols", headers: step.headers, body: null, tunnel: token };
  };
  // The handshake as the viewer sent it, with its Upgrade header (hop-by-hop, but what a Worker tests).
  const data: RequestData = {
    method: flow.request.method,
    url: requestUrl(flow),
    headers: [...stripHopByHop(flow.request.headers), ["upgrade", "websocket"]],
    body: null,
  };
  // Connections the handler opened and did not return go when it is over, or when it failed.
  const closeTunnels = (returned?: number): void => {
    over = true;
    for (const [token, t] of tunnels) if (token !== returned) t.socket.destroy();
  };
  let r: Awaited<ReturnType<typeof ctx.options.runtime.fetch>>;
  try {
    r = await ctx.options.runtime.fetch(spec, data, { clientIp: flow.viewer.clientIp, cf: cfOf(ctx), subrequest, caches: cachesFor(ctx.options.cache, flow.distribution) });
  } catch (err) {
    closeTunnels();
    throw err;
  }
  const returned = r.type === "response" ? r.response.tunnel : undefined;
  void r.finished.finally(() => closeTunnels(returned));
  if (r.type !== "response") throw withFailureReport(new TypeError("expected a Workers handler to answer with a Response"), r.finished);
  const res = r.response;
  if (res.webSocket !== undefined) return { value: { kind: "socket", headers: res.headers, end: res.webSocket }, cold: r.cold, finished: r.finished };
  if (returned !== undefined) {
    const tunnel = tunnels.get(returned);
    if (tunnel === undefined) {
      throw withFailureReport(new VergeError("ERR_INVALID_RESULT", `function ${spec.source.id}: returned a WebSocket this invocation did not open`), r.finished);
    }
    tunnels.delete(returned);
    return { value: { kind: "tunnel", headers: res.headers, socket: tunnel.socket, head: tunnel.head }, cold: r.cold, finished: r.finished };
  }
  res.headers = ownLength(res.headers, flow.request.method);
  return { value: { kind: "answer", response: dataToResponse(res) }, cold: r.cold, finished: r.finished };
}
