/**
 * A local HTTP front on 127.0.0.1 (`verge dev`): every request goes to one
 * handler; a handler that throws answers 500 rather than hanging the client.
 * WebSocket handshakes go to `upgrade` when one is given (any other Upgrade is
 * an ordinary request).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { isWebSocketUpgrade } from "../../edge-nodes/upgrade.ts";

export interface ServeHandle {
  url: string;
  close(): Promise<void>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function serve(handler: RequestHandler, port: number, upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<ServeHandle> {
  const server = createServer({ shouldUpgradeCallback: (req) => upgrade !== undefined && isWebSocketUpgrade(req) }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`500 ERR_INTERNAL\n${(err as Error).message ?? String(err)}\n`);
    });
  });
  if (upgrade !== undefined) server.on("upgrade", upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
