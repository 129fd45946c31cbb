/**
 * The edge node's Node.js request listener: a fresh cache hit with no function
 * to run (`Pipeline.hitNow`) is written straight from Node's request, before
 * @hono/node-server makes a web `Request` of it; everything else goes on to the
 * Hono app (app.ts), which answers it, including every error.
 *
 * Only a request whose URL the adapter would take as it is goes this way
 * (`http://<Host><target>`, the adapter's own URL for it): a Host in lowercase
 * letters, digits, `.`, `_`, `-` with an optional port, a target in origin form
 * of plain URL characters (no `%`) without dot segments, not under `/_verge/`. The
 * pipeline runs the same request checks on it as on any other.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { headerLines, normalizeIp } from "./app.ts";
import type { Pipeline } from "./types.ts";

/** Largest body written as one latin1 string with the head (one write instead of a writev of head and body). */
const ONE_WRITE_BYTES = 16 * 1024;
// The adapter's own test for a URL it uses as it is (a port 1000–59999 or 6000–9999; no `%`, which it
// normalises, nor other characters a URL would escape); anything else it parses with `new URL`.
const SIMPLE_HOST = /^[a-z0-9._-]+(?::(?:[1-5][0-9]{3,4}|[6-9][0-9]{3}))?$/;
const SIMPLE_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/**
 * @param next the listener for everything that is not an immediate hit (`getRequestListener(app.fetch)`)
 * @example
 * serve({ fetch: app.fetch, port, createServer: (opts, next) => createServer(opts, withImmediateHits(pipeline, next)) });
 */
export function withImmediateHits(pipeline: Pipeline, next: RequestListener): RequestListener {
  const hitNow = pipeline.hitNow;
  if (hitNow === undefined) return next;
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!writeHit(hitNow, req, res)) next(req, res);
  };
}

function writeHit(hitNow: NonNullable<Pipeline["hitNow"]>, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method;
  if (method !== "GET" && method !== "HEAD") return false;
  const target = req.url ?? "";
  const host = req.headers.host;
  if (host === undefined || target.startsWith("/_verge/") || !SIMPLE_HOST.test(host) || !SIMPLE_TARGET.test(target) || DOT_SEGMENT.test(target)) return false;
  const socket = req.socket as { remoteAddress?: string; encrypted?: boolean };
  const scheme = socket.encrypted === true ? "https" : "http";
  const hit = hitNow(
    { method, url: `${scheme}://${host}${target}`, headers: headerLines(req.rawHeaders), body: () => null },
    { clientIp: normalizeIp(socket.remoteAddress ?? "127.0.0.1"), scheme },
  );
  if (hit === undefined) return false;
  try {
    res.writeHead(hit.status, hit.headers);
  } catch {
    // Not written (the pipeline's header checks make this unreachable): the usual path answers.
    return false;
  }
  const body = hit.body;
  if (body === null) res.end();
  else if (body.byteLength <= ONE_WRITE_BYTES) res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1"), "latin1");
  else res.end(body);
  return true;
}
