/**
 * A local HTTP front for one harness instance (`verge dev`, `verge up`): every
 * request goes through the function; failures map as on an edge node
 * (502 invalid result, 503 exception or limit, with x-verge-error and a request id).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Verge } from "../harness/index.ts";

export interface ServeHandle {
  url: string;
  close(): Promise<void>;
}

const STATUS_BY_CODE: Record<string, number> = { ERR_INVALID_RESULT: 502, ERR_RESPONSE_TOO_LARGE: 502, ERR_NO_UPSTREAM: 502 };

export async function serve(verge: Verge, port: number, log: (line: string) => void = () => {}): Promise<ServeHandle> {
  const server = createServer((req, res) => void handle(verge, req, res, log));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function handle(verge: Verge, req: IncomingMessage, res: ServerResponse, log: (line: string) => void): Promise<void> {
  const requestId = randomUUID();
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  try {
    const response = await verge.dispatchFetch(url, {
      method: req.method ?? "GET",
      headers,
      ...(hasBody ? { body: Readable.toWeb(req) as unknown as ReadableStream, duplex: "half" } : {}),
    } as RequestInit);
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((v, k) => {
      if (k !== "set-cookie") out[k] = v;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length) out["set-cookie"] = cookies;
    out["x-verge-request-id"] = requestId;
    res.writeHead(response.status, response.statusText, out);
    if (response.body === null) res.end();
    else for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
    res.end();
    log(`${req.method} ${req.url} ${response.status}`);
  } catch (err) {
    const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "ERR_INTERNAL";
    const status = STATUS_BY_CODE[code] ?? 503;
    log(`${req.method} ${req.url} ${status} ${code}: ${(err as Error).message}`);
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-verge-error": code, "x-verge-request-id": requestId });
    res.end(`${status} ${code}\nrequest id: ${requestId}\n`);
  }
}
