/**
 * WebSocket connections through the node. Node's HTTP server hands a request
 * with `Upgrade: websocket` to its `upgrade` event with the raw socket (the
 * server's `shouldUpgradeCallback` sends any other `Upgrade`, e.g. h2c, down
 * the ordinary request path, which ignores it). The pipeline decides
 * (`Pipeline.upgrade`, src/pipeline/upgrade.ts: functions, origin, the
 * origin's answer); this file writes its answer on the raw socket and closes
 * it, or writes the 101 and joins the viewer's socket to the origin's until
 * either side closes, or hands a Workers handler's WebSocket to the relay
 * (websocket-relay.ts), which speaks the protocol with the viewer.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { Gauge, type Registry } from "prom-client";
import { headerLines, type HeaderList } from "../src/shared/http.ts";
import { viewerOf } from "./app.ts";
import type { Pipeline, UpgradeOutcome } from "./types.ts";
import { createRelay } from "./websocket-relay.ts";

/** For `createServer({ shouldUpgradeCallback })`: only WebSocket upgrades leave the request path. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const value = req.headers.upgrade;
  return typeof value === "string" && value.split(",").some((p) => p.trim().toLowerCase() === "websocket");
}

export interface WebSockets {
  /** Tunnels open now. */
  open(): number;
  /** Ends every open tunnel (the node is stopping). */
  closeAll(): void;
}

/**
 * @example
 * const server = createServer({ shouldUpgradeCallback: isWebSocketUpgrade }, listener);
 * const sockets = handleUpgrades(server, pipeline, metrics.registry);
 */
export function handleUpgrades(server: Server, pipeline: Pipeline, metrics?: Registry): WebSockets {
  const open = new Set<Duplex>();
  const relay = createRelay();
  if (metrics !== undefined) {
    new Gauge({
      name: "verge_websockets_open",
      help: "WebSocket connections open through this node.",
      registers: [metrics],
      aggregator: "sum",
      collect() {
        this.set(open.size);
      },
    });
  }
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A socket error (the viewer went away) must never reach the process.
    socket.on("error", () => socket.destroy());
    const upgrade = pipeline.upgrade;
    if (upgrade === undefined || !isWebSocketUpgrade(req)) {
      writeHead(socket, 501, [["content-length", "0"]]);
      socket.end();
      return;
    }
    const viewer = viewerOf(req.socket as { remoteAddress?: string; encrypted?: boolean });
    const target = req.url ?? "/";
    const host = req.headers.host ?? "";
    // Origin form is joined to Host as the adapter does; an absolute form is left for the pipeline's checks.
    const url = target.startsWith("/") ? `${viewer.scheme}://${host}${target}` : target;
    const request = { method: req.method ?? "GET", url, headers: headerLines(req.rawHeaders), body: () => null };
    upgrade(request, viewer).then(
      (outcome) => {
        if (outcome.kind === "tunnel") return join(socket, head, outcome, open);
        if (outcome.kind === "answer") return answer(socket, outcome.response);
        // A Workers handler's WebSocket: counted while its viewer's connection is open.
        if (!socket.destroyed) {
          open.add(socket);
          socket.once("close", () => open.delete(socket));
        }
        relay(req, socket, head, outcome);
      },
      () => socket.destroy(),
    );
  });
  return {
    open: () => open.size,
    closeAll: () => {
      for (const s of open) s.destroy();
    },
  };
}

function writeHead(socket: Duplex, status: number, headers: HeaderList, reason = STATUS_CODES[status] ?? ""): void {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  socket.write(`${head}\r\n`, "latin1");
}

/** An answer instead of a tunnel: the response, then the connection closes (its end frames the body). */
async function answer(socket: Duplex, response: Response): Promise<void> {
  if (socket.destroyed) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  const headers: HeaderList = [];
  for (const [name, value] of response.headers) {
    if (name === "set-cookie" || name === "connection" || name === "transfer-encoding") continue;
    headers.push([name, value]);
  }
  for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie]);
  headers.push(["connection", "close"]);
  writeHead(socket, response.status, headers, response.statusText || undefined);
  try {
    if (response.body !== null) {
      for await (const chunk of response.body) {
        if (socket.destroyed) break;
        socket.write(chunk);
      }
    }
  } catch {
    socket.destroy();
    return;
  }
  socket.end();
}

/** The 101, then bytes both ways until either side closes, which closes the other. */
function join(viewer: Duplex, viewerHead: Buffer, tunnel: Extract<UpgradeOutcome, { kind: "tunnel" }>, open: Set<Duplex>): void {
  const origin = tunnel.socket;
  origin.on("error", () => origin.destroy());
  if (viewer.destroyed) {
    origin.destroy();
    return;
  }
  writeHead(viewer, 101, tunnel.headers, "Switching Protocols");
  if (tunnel.head.byteLength > 0) viewer.write(tunnel.head);
  if (viewerHead.byteLength > 0) origin.write(viewerHead);
  open.add(viewer);
  let linger: ReturnType<typeof setTimeout> | undefined;
  const close = (): void => {
    clearTimeout(linger);
    open.delete(viewer);
    viewer.destroy();
    origin.destroy();
  };
  viewer.on("close", close);
  origin.on("close", close);
  // A side that ends (FIN) has its end passed on by pipe; the other gets a moment to finish, then
  // both close: the node's sockets allow half-open connections, and a peer that never ends its
  // half would otherwise hold the tunnel open for good.
  const ended = (): void => {
    linger ??= setTimeout(close, HALF_CLOSED_MS);
    linger.unref?.();
  };
  viewer.on("end", ended);
  origin.on("end", ended);
  viewer.pipe(origin);
  origin.pipe(viewer);
}

/** How long a tunnel stays half-closed before both sides are closed. */
const HALF_CLOSED_MS = 2_000;
