/**
 * WebSocket handshakes to `verge dev`: the current version's function answers
 * the handshake through the harness (as `dispatchFetch` with its `Upgrade`
 * header); a 101 with a WebSocket is completed with the viewer and relayed
 * frame by frame as an edge node does (edge-nodes/websocket-relay.ts), any
 * other answer is written on the connection, which then closes. With
 * `--upstream` the handshake goes through the edge pipeline's request path,
 * which takes no WebSockets: the function sees no `Upgrade` header there.
 */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { randomBytes } from "node:crypto";
import { asWebSocketEnd, failureReport, type VergeWebSocket } from "../../harness/index.ts";
import { createRelay } from "../../../edge-nodes/websocket-relay.ts";
import type { DevSession } from "./session.ts";
import type { Terminal } from "./terminal.ts";

export type DevUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export function createDevUpgrade(session: DevSession, term: Terminal): DevUpgrade {
  const relay = createRelay();
  return (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    const id = randomBytes(6).toString("hex");
    const lease = session.versions.acquire();
    if (lease === undefined) return answer(socket, 503, [["content-type", "text/plain; charset=utf-8"]], "no version is built yet\n");
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const line = (status: number, extra: string): void => term.line(`${term.paint("dim", `[${id}]`)} ${req.method} ${req.url} ${status} ${term.paint("dim", `WebSocket v${lease.version.number} ${extra}`)}`);
    lease.version.verge.dispatchFetch(url.href, { method: req.method ?? "GET", headers }).then(
      async (response) => {
        const ws = (response as Response & { webSocket?: VergeWebSocket }).webSocket;
        const report = lease.version.verge.reportOf(response);
        void (report ?? Promise.resolve()).finally(() => lease.release());
        if (ws === undefined) {
          line(response.status, "answered without a WebSocket");
          return answer(socket, response.status, [...response.headers], new Uint8Array(await response.arrayBuffer()));
        }
        line(101, "open");
        relay(req, socket, head, { headers: [...response.headers], end: asWebSocketEnd(ws) });
        void report?.then((r) => line(101, `closed${r.error !== undefined ? ` ${r.error.code}: ${r.error.message}` : ""}`));
      },
      (err: { code?: string; message?: string }) => {
        void (failureReport(err) ?? Promise.resolve()).finally(() => lease.release());
        const code = typeof err.code === "string" ? err.code : "ERR_INTERNAL";
        line(503, code);
        answer(socket, code === "ERR_INVALID_RESULT" ? 502 : 503, [["content-type", "text/plain; charset=utf-8"], ["x-verge-error", code]], `${code}: ${err.message ?? String(err)}\n`);
      },
    );
  };
}

/** An answer instead of a 101: the response, then the connection closes. */
function answer(socket: Duplex, status: number, headers: Array<[string, string]>, body: Uint8Array | string): void {
  if (socket.destroyed) return;
  const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n`;
  for (const [name, value] of headers) if (!/^(content-length|connection|transfer-encoding)$/i.test(name)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${bytes.byteLength}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, "latin1"), bytes]));
}
