/**
 * One request through `verge dev`: lease the current version, run it (the
 * function alone, or with `--upstream` the edge pipeline: events, response
 * cache, origin), answer with the limit report header, and render build errors
 * and failures as pages (HTML for browsers, JSON otherwise).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { failureReport, type LogSource } from "../../harness/index.ts";
import type { InvocationReport } from "../../runtime/invocation.ts";
import { buildErrorPage, exceptionPage, formatProblems, wantsHtml } from "./pages.ts";
import type { DevSession } from "./session.ts";
import { limitsHeader, statusStyle, type Terminal } from "./terminal.ts";
import type { Version } from "./versions.ts";

const STATUS_BY_CODE: Record<string, number> = { ERR_INVALID_RESULT: 502, ERR_RESPONSE_TOO_LARGE: 502, ERR_NO_UPSTREAM: 502 };
/** How long the head may wait, once the answer is there, for the invocation's report (body buffered meanwhile), and how much body. */
const HEAD_WAIT_MS = 250;
const HEAD_BUFFER_BYTES = 1 << 20;
/** The limit header when the pipeline answered without running the function (a cache hit with origin events, ...). */
export const NOT_RUN = "none (the function did not run for this request)";
/** Pipeline lines kept for the error page of their request. */
const MAX_EDGE_LINES = 256;

export interface DevHandlerOptions {
  session: DevSession;
  entry: string;
  term: Terminal;
}

export type DevHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<void>) & {
  /** The request a console line belongs to: the only one in flight on its version, else none. */
  requestOf(version: Version): string | undefined;
  /** A line of a version's function or pipeline, printed with the request it belongs to. */
  log(version: Version, level: string, message: string, from: LogSource): void;
};

export function createDevHandler(o: DevHandlerOptions): DevHandler {
  const { session, term } = o;
  const inFlight = new Map<Version, Set<string>>();
  /** The pipeline's error lines by edge request id: the real message for that request's error page. */
  const edgeLines = new Map<string, string>();

  const logLine = (id: string, req: IncomingMessage, status: number, started: number, extra: string): void => {
    const ms = Math.round(performance.now() - started);
    term.line(`${term.paint("dim", `[${id}]`)} ${req.method} ${req.url} ${term.paint(statusStyle(status), String(status))} ${ms} ms ${term.paint("dim", extra)}`);
  };

  const requestOf = (version: Version): string | undefined => {
    const ids = inFlight.get(version);
    return ids !== undefined && ids.size === 1 ? [...ids][0] : undefined;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const id = randomBytes(6).toString("hex");
    const started = performance.now();
    const html = wantsHtml(req.headers.accept);
    const problems = session.buildError();
    const lease = problems !== undefined && (html || session.versions.current() === undefined) ? undefined : session.versions.acquire();
    if (lease === undefined) {
      const list = problems ?? [{ text: "no version is built yet" }];
      const headers = { "x-verge-request-id": id, "x-verge-error": "ERR_BUILD_FAILED", "cache-control": "no-store" };
      if (html) res.writeHead(500, { ...headers, "content-type": "text/html; charset=utf-8" }).end(buildErrorPage(list, o.entry));
      else res.writeHead(500, { ...headers, "content-type": "application/json" }).end(JSON.stringify({ error: { code: "ERR_BUILD_FAILED", message: formatProblems(list), requestId: id } }));
      logLine(id, req, 500, started, "build failed");
      return;
    }
    const { version } = lease;
    const ids = inFlight.get(version) ?? new Set<string>();
    inFlight.set(version, ids);
    ids.add(id);
    let report: Promise<InvocationReport> | undefined;
    try {
      const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
      // wrangler dev --test-scheduled's path, and Miniflare 4's.
      if (url.pathname === "/__scheduled" || url.pathname === "/cdn-cgi/handler/scheduled") {
        const cron = url.searchParams.get("cron") ?? "* * * * *";
        const time = Number(url.searchParams.get("time") ?? Date.now());
        const r = await version.verge.dispatchScheduled(cron, Number.isFinite(time) ? time : Date.now());
        const error = r.error ?? r.waitUntilErrors[0];
        if (error !== undefined) throw error;
        const head = commonHeaders(id, version, limitsHeader(r.limits, version.limits), problems !== undefined);
        res.writeHead(200, { ...head, "content-type": "text/plain; charset=utf-8" }).end("Ran scheduled event\n");
        logLine(id, req, 200, started, `scheduled "${cron}" v${version.number} ${limitsHeader(r.limits, version.limits)}`);
        return;
      }
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      let response: Response;
      try {
        response = await version.verge.dispatchFetch(url.href, {
          method: req.method ?? "GET",
          headers,
          ...(hasBody ? { body: Readable.toWeb(req) as unknown as ReadableStream, duplex: "half" } : {}),
        } as RequestInit);
      } catch (err) {
        // The invocation ran: its report (failure-report.ts) holds what it used, and ends the lease.
        report = failureReport(err);
        throw err;
      }
      report = version.verge.reportOf(response);
      const edgeError = session.pipeline ? response.headers.get("x-verge-error") : null;
      if (edgeError !== null) return await sendEdgeError(response, edgeError, report, id, version, req, res, html, started);
      await send(response, report, id, version, req, res, started, problems !== undefined);
    } catch (err) {
      await sendError(err, report, id, version, req, res, html, started);
    } finally {
      ids.delete(id);
      if (ids.size === 0) inFlight.delete(version);
      // The old version is disposed only when this request is over, waitUntil included.
      if (report !== undefined) void Promise.race([report.catch(() => undefined), sleep(version.limits.wallMs + 1000)]).then(() => lease.release());
      else lease.release();
    }
  };

  /**
   * The response, its head held briefly so it can carry the invocation's own report (the usual
   * case: a function that answered with bytes is over by now). A long stream gets `?` in the
   * header, and the real values as a trailer once it ended (chunked responses).
   */
  async function send(response: Response, report: Promise<InvocationReport> | undefined, id: string, version: Version, req: IncomingMessage, res: ServerResponse, started: number, stale: boolean): Promise<void> {
    const reader = response.body?.getReader();
    // A client that goes away cancels the body, so the invocation ends and the lease is released.
    res.once("close", () => {
      if (!res.writableFinished) reader?.cancel().catch(() => {});
    });
    const buffered: Uint8Array[] = [];
    let pending = reader?.read();
    let done = reader === undefined;
    let size = 0;
    // From the answer on: a cold start or a slow origin before it says nothing about the body.
    const deadline = performance.now() + HEAD_WAIT_MS;
    while (!done && pending !== undefined && size < HEAD_BUFFER_BYTES) {
      const r = await Promise.race([pending, sleep(deadline - performance.now())]);
      if (r === undefined) break;
      if (r.done) done = true;
      else {
        buffered.push(r.value);
        size += r.value.byteLength;
        pending = reader!.read();
      }
    }
    const known = done && report ? await Promise.race([report, sleep(deadline - performance.now())]) : undefined;
    // No report: the function did not run (a cache hit with origin events, a static asset).
    const notRun = report === undefined;
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((v, k) => {
      if (k !== "set-cookie") out[k] = v;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length) out["set-cookie"] = cookies;
    const limits = notRun ? NOT_RUN : limitsHeader(known?.limits, version.limits);
    Object.assign(out, commonHeaders(id, version, limits, stale, session.pipeline));
    // Still running when the head goes: the values follow as a trailer (only chunked bodies carry one).
    const trailer = known === undefined && report !== undefined && !response.headers.has("content-length") && req.httpVersion !== "1.0";
    if (trailer) out["trailer"] = "x-verge-limits";
    if (response.statusText) res.writeHead(response.status, response.statusText, out);
    else res.writeHead(response.status, out);
    for (const chunk of buffered) res.write(chunk);
    while (!done && pending !== undefined) {
      const r = await pending;
      if (r.done) break;
      await write(res, r.value);
      pending = reader!.read();
    }
    // The report settles when the body was read and waitUntil is done: the end waits for it briefly.
    const ended = known ?? (trailer ? await Promise.race([report!, sleep(HEAD_WAIT_MS)]) : undefined);
    if (trailer && ended !== undefined) res.addTrailers({ "x-verge-limits": limitsHeader(ended.limits, version.limits) });
    res.end();
    const final = ended ?? (report ? await Promise.race([report, sleep(version.limits.wallMs + 1000)]) : undefined);
    const cache = response.headers.get("x-verge-cache");
    logLine(id, req, response.status, started, `v${version.number}${cache ? ` ${cache}` : ""} ${notRun ? "function not run" : limitsHeader(final?.limits, version.limits)}`);
  }

  /** A failure thrown by the function (without `--upstream`): the exception page, with the invocation's report. */
  async function sendError(err: unknown, report: Promise<InvocationReport> | undefined, id: string, version: Version, req: IncomingMessage, res: ServerResponse, html: boolean, started: number): Promise<void> {
    const e = err as { code?: unknown; message?: string; guestStack?: string };
    const code = typeof e.code === "string" ? e.code : "ERR_INTERNAL";
    const status = STATUS_BY_CODE[code] ?? 503;
    const known = report ? await Promise.race([report, sleep(HEAD_WAIT_MS)]) : undefined;
    const limits = limitsHeader(known?.limits, version.limits);
    logLine(id, req, status, started, `v${version.number} ${code} ${limits}`);
    term.line(term.paint("red", `  ${code}: ${e.message ?? String(err)}`) + stackLines(e.guestStack));
    if (res.headersSent) return void res.destroy();
    const head = { ...commonHeaders(id, version, limits, session.buildError() !== undefined), "x-verge-error": code };
    page(res, html, head, { status, code, message: e.message ?? String(err), stack: userStack(e.guestStack), requestId: id });
  }

  /**
   * An error the edge pipeline answered (`--upstream`): its status, code and request id, and for
   * the developer what the edge node only logs: the function's message and stack, or the
   * pipeline's real message (origin unreachable, ...).
   */
  async function sendEdgeError(response: Response, code: string, report: Promise<InvocationReport> | undefined, id: string, version: Version, req: IncomingMessage, res: ServerResponse, html: boolean, started: number): Promise<void> {
    const requestId = response.headers.get("x-verge-request-id") ?? id;
    const edgeBody = await response.text().catch(() => "");
    const known = report ? await Promise.race([report, sleep(HEAD_WAIT_MS)]) : undefined;
    const failure = known?.error;
    const message = failure?.message ?? edgeLines.get(requestId) ?? messageIn(edgeBody) ?? code;
    edgeLines.delete(requestId);
    const limits = report === undefined ? NOT_RUN : limitsHeader(known?.limits, version.limits);
    logLine(id, req, response.status, started, `v${version.number} ${code} ${report === undefined ? "function not run" : limits}`);
    // The message is on the pipeline's line above (printed as it came); the stack goes here.
    const stack = stackLines(failure?.guestStack);
    if (stack) term.line(stack.slice(1));
    const head: Record<string, string> = { ...commonHeaders(id, version, limits, session.buildError() !== undefined, true), "x-verge-error": code };
    for (const name of ["x-verge-request-id", "via"]) {
      const v = response.headers.get(name);
      if (v !== null) head[name] = v;
    }
    page(res, html, head, { status: response.status, code, message, stack: userStack(failure?.guestStack), requestId });
  }

  return Object.assign(handler, {
    requestOf,
    log(version: Version, level: string, message: string, from: LogSource) {
      if (from.source === "pipeline" && from.requestId !== undefined) {
        if (edgeLines.size >= MAX_EDGE_LINES) edgeLines.delete(edgeLines.keys().next().value!);
        edgeLines.set(from.requestId, message);
      }
      const id = requestOf(version);
      const tag = term.paint("dim", id ? `[${id}]` : `[v${version.number}]`);
      const text = level === "error" ? term.paint("red", message) : level === "warn" ? term.paint("yellow", message) : message;
      term.line(`${tag} ${term.paint("dim", from.source === "pipeline" ? `edge ${level}` : level)} ${text}`);
    },
  });
}

function page(res: ServerResponse, html: boolean, head: Record<string, string>, info: { status: number; code: string; message: string; stack: string | undefined; requestId: string }): void {
  if (html) res.writeHead(info.status, { ...head, "content-type": "text/html; charset=utf-8" }).end(exceptionPage(info));
  else res.writeHead(info.status, { ...head, "content-type": "application/json" }).end(JSON.stringify({ error: { code: info.code, message: info.message, requestId: info.requestId, ...(info.stack ? { stack: info.stack } : {}) } }));
}

/** The user's stack: the prelude's own frames say nothing to the user. */
function userStack(stack: string | undefined): string | undefined {
  return stack?.split("\n").filter((l) => !l.includes("verge:prelude:")).join("\n");
}

function stackLines(stack: string | undefined): string {
  const s = userStack(stack);
  return s ? "\n" + s.split("\n").map((l) => `    ${l}`).join("\n") : "";
}

function messageIn(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof m === "string" ? m : undefined;
  } catch {
    return undefined;
  }
}

/** `edge`: the pipeline set the request id (`x-verge-request-id` is its, as on an edge node). */
function commonHeaders(id: string, version: Version, limits: string, stale: boolean, edge = false): Record<string, string> {
  const h: Record<string, string> = { "x-verge-limits": limits, "x-verge-dev-version": String(version.number) };
  if (!edge) h["x-verge-request-id"] = id;
  if (stale) h["x-verge-build-error"] = "the last build failed; this is the previous good version";
  return h;
}

/** Writes with backpressure; resolves at once when the client has gone. */
async function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (res.destroyed || res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.once("drain", done).once("close", done);
  });
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((r) => setTimeout(() => r(undefined), Math.max(0, ms)).unref());
}
