/**
 * The edge node's Node.js request listener. A GET or HEAD whose URL the adapter
 * would take as it is goes to the pipeline straight from Node's request
 * (`Pipeline.answerNow`), without the web `Request` and the Hono context made
 * for it, and an answer whose body is in memory (a fresh hit, a function's
 * answer, a small origin response) is written from here. An answer with a
 * streamed body is handed to @hono/node-server, which writes it as it writes
 * the app's. Everything else goes through the Hono app (app.ts): other methods,
 * `/_verge/`, and URLs the adapter would normalise.
 *
 * "As it is": `http://<Host><target>` is the adapter's own URL for it, i.e. a
 * Host in lowercase letters, digits, `.`, `_`, `-` with an optional port, and a
 * target in origin form of plain URL characters (no `%`) without dot segments.
 * The pipeline runs the same request checks on it as on any other.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { headerLines, partsOf } from "../src/shared/http.ts";
import { viewerOf } from "./app.ts";
import type { ImmediateHit, Pipeline, ViewerInfo, ViewerRequest } from "./types.ts";

/** Largest body written as one latin1 string with the head (one write instead of a writev of head and body). */
const ONE_WRITE_BYTES = 16 * 1024;
// The adapter's own test for a URL it uses as it is (a port 1000–59999 or 6000–9999; no `%`, which it
// normalises, nor other characters a URL would escape); anything else it parses with `new URL`.
const SIMPLE_HOST = /^[a-z0-9._-]+(?::(?:[1-5][0-9]{3,4}|[6-9][0-9]{3}))?$/;
const SIMPLE_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;

/** What the app is: `app.fetch` of the Hono app, maybe wrapped (the worker counts requests in flight). */
export type AppFetch = (request: Request, env: HttpBindings) => Response | Promise<Response>;

export interface EdgeListener {
  listener: RequestListener;
  /** Requests the listener itself is waiting on the pipeline for (the app's own are counted by its caller). */
  inFlight(): number;
}

/**
 * @example
 * const { listener } = createEdgeListener(pipeline, app.fetch);
 * createServer(listener).listen(8787);
 */
export function createEdgeListener(pipeline: Pipeline, fetch: AppFetch): EdgeListener {
  // An answer this listener got but does not write goes to the adapter's listener, which asks for it here.
  const handed = new WeakMap<IncomingMessage, Response>();
  const next = getRequestListener((request, env) => {
    const incoming = (env as HttpBindings).incoming;
    const answer = handed.get(incoming);
    if (answer === undefined) return fetch(request, env as HttpBindings);
    handed.delete(incoming);
    return answer;
  });
  const answerNow = pipeline.answerNow;
  let inFlight = 0;
  const write = (req: IncomingMessage, res: ServerResponse, out: ImmediateHit | Response) => {
    if (writeAnswer(res, out)) return;
    handed.set(req, out as Response);
    void next(req, res);
  };
  const listener: RequestListener = (req, res) => {
    const asked = answerNow === undefined ? undefined : viewerRequestOf(req, res);
    if (asked === undefined) {
      void next(req, res);
      return;
    }
    let out: ReturnType<NonNullable<Pipeline["answerNow"]>>;
    try {
      out = answerNow!(asked.request, asked.viewer);
    } catch {
      // It answers its own failures; should it throw, the app's path answers (and a throw there is the adapter's to handle).
      void next(req, res);
      return;
    }
    if (!(out instanceof Promise)) {
      write(req, res, out);
      return;
    }
    inFlight++;
    out.then(
      (response) => {
        inFlight--;
        write(req, res, response);
      },
      () => {
        // The pipeline answers its own failures; this is a bug there. The viewer still gets an answer.
        inFlight--;
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("internal error\n");
      },
    );
  };
  return { listener, inFlight: () => inFlight };
}

/** The request and viewer for the pipeline when `req` may go straight to it (see the file's comment), else undefined. */
function viewerRequestOf(req: IncomingMessage, res: ServerResponse): { request: ViewerRequest; viewer: ViewerInfo } | undefined {
  const method = req.method;
  if (method !== "GET" && method !== "HEAD") return undefined;
  const target = req.url ?? "";
  const host = req.headers.host;
  if (host === undefined || target.startsWith("/_verge/") || !SIMPLE_HOST.test(host) || !SIMPLE_TARGET.test(target) || DOT_SEGMENT.test(target)) return undefined;
  const viewer = viewerOf(req.socket as { remoteAddress?: string; encrypted?: boolean }, () => closedEarly(res));
  return { request: { method, url: `${viewer.scheme}://${host}${target}`, headers: headerLines(req.rawHeaders), body: () => null }, viewer };
}

/** Aborts when `res` closes before its answer was all sent: the viewer went away. */
function closedEarly(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  const check = () => {
    if (!res.writableFinished) controller.abort(new Error("the viewer went away before its answer was sent"));
  };
  if (res.closed) check();
  else res.once("close", check);
  return controller.signal;
}

/**
 * Writes an answer whose body is in memory, as @hono/node-server would (the status's
 * own reason phrase, `Content-Length` from the body unless the answer has one);
 * false, with nothing written, for a streamed body or headers Node refuses.
 */
function writeAnswer(res: ServerResponse, out: ImmediateHit | Response): boolean {
  let status: number;
  let headers: string[];
  let body: Uint8Array | null;
  if ("immediate" in out) {
    ({ status, headers, body } = out);
  } else {
    const parts = partsOf(out);
    if (parts === undefined || !(parts.body === null || parts.body instanceof Uint8Array)) return false;
    status = parts.status;
    body = parts.body;
    headers = [];
    let length = false;
    for (const [name, value] of parts.headers) {
      headers.push(name, value.trim());
      if (name === "content-length") length = true;
    }
    if (body !== null && !length) headers.push("content-length", String(body.byteLength));
  }
  try {
    res.writeHead(status, headers);
  } catch {
    return false;
  }
  if (body === null) res.end();
  else if (body.byteLength <= ONE_WRITE_BYTES) res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1"), "latin1");
  else res.end(body);
  return true;
}
