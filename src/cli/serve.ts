/**
 * A local HTTP front on 127.0.0.1 (`verge dev`): every request goes to one
 * handler; a handler that throws answers 500 rather than hanging the client.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface ServeHandle {
  url: string;
  close(): Promise<void>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function serve(handler: RequestHandler, port: number): Promise<ServeHandle> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`500 ERR_INTERNAL\n${(err as Error).message ?? String(err)}\n`);
    });
  });
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
