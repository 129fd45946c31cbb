/** The demo origin web server behind `verge up`'s edge nodes: a few pages with cache headers. */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export async function startDemoOrigin(port: number): Promise<{ url: string; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    const path = (req.url ?? "/").split("?")[0]!;
    const body = JSON.stringify({ origin: "verge demo origin", path, originHits: hits, seenHeaders: req.headers }, null, 2) + "\n";
    const etag = `"${createHash("sha1").update(path).digest("hex").slice(0, 16)}"`;
    if (req.headers["if-none-match"] === etag && path.startsWith("/static/")) {
      res.writeHead(304, { etag, "cache-control": "max-age=60" });
      res.end();
      return;
    }
    res.writeHead(path === "/missing" ? 404 : 200, {
      "content-type": "application/json",
      // Pages are cached by the edge for 10 s, /static/ for a minute (the origin-response function makes it an hour).
      "cache-control": path.startsWith("/static/") ? "max-age=60" : "max-age=10",
      etag,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
