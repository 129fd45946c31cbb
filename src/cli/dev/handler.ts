/**
 * One request through `verge dev`: lease the current version, run the
 * function, answer with the limit report header, and render build errors
 * and exceptions as pages (HTML for browsers, JSON otherwise).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { InvocationReport } from "../../runtime/invocation.ts";
import { buildErrorPage, exceptionPage, formatProblems, wantsHtml } from "./pages.ts";
import type { DevSession } from "./session.ts";
import { limitsHeader, statusStyle, type Terminal } from "./terminal.ts";
import type { Version } from "./versions.ts";

const STATUS_BY_CODE: Record<string, number> = { ERR_INVALID_RESULT: 502, ERR_RESPONSE_TOO_LARGE: 502, ERR_NO_UPSTREAM: 502 };
/** How long the head may wait for the invocation's report (body buffered meanwhile), and how much body. */
const HEAD_WAIT_MS = 250;
const HEAD_BUFFER_BYTES = 1 << 20;

export interface DevHandlerOptions {
  session: DevSession;
  entry: string;
  term: Terminal;
}

export type DevHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<void>) & {
  /** The request a console line belongs to: the only one in flight on its version, else none. */
  requestOf(version: Version): string | undefined;
};

export function createDevHandler(o: DevHandlerOptions): DevHandler {
  const { session, term } = o;
  const inFlight = new Map<Version, Set<string>>();

  const logLine = (id: string, req: IncomingMessage, status: number, started: number, extra: string): void => {
    const ms = Math.round(performance.now() - started);
    term.line(`${term.paint("dim", `[${id}]`)} ${req.method} ${req.url} ${term.paint(statusStyle(status), String(status))} ${ms} ms ${term.paint("dim", extra)}`);
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
      if (url.pathname === "/__scheduled") {
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
      const response = await version.verge.dispatchFetch(url.href, {
        method: req.method ?? "GET",
        headers,
        ...(hasBody ? { body: Readable.toWeb(req) as unknown as ReadableStream, duplex: "half" } : {}),
      } as RequestInit);
      report = version.verge.reportOf(response);
      const reader = response.body?.getReader();
      // A client that goes away cancels the body, so the invocation ends and the lease is released.
      res.once("close", () => {
        if (!res.writableFinished) reader?.cancel().catch(() => {});
      });
      // Hold the head briefly so it can carry the invocation's own report (the usual case: a
      // function that answered with bytes is over by now); a long stream gets `?` for now.
      const buffered: Uint8Array[] = [];
      let pending = reader?.read();
      let done = reader === undefined;
      let size = 0;
      const deadline = started + HEAD_WAIT_MS;
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
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((v, k) => {
        if (k !== "set-cookie") out[k] = v;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out["set-cookie"] = cookies;
      Object.assign(out, commonHeaders(id, version, limitsHeader(known?.limits, version.limits), problems !== undefined));
      if (response.statusText) res.writeHead(response.status, response.statusText, out);
      else res.writeHead(response.status, out);
      for (const chunk of buffered) res.write(chunk);
      while (!done && pending !== undefined) {
        const r = await pending;
        if (r.done) break;
        await write(res, r.value);
        pending = reader!.read();
      }
      res.end();
      const final = known ?? (report ? await Promise.race([report, sleep(version.limits.wallMs + 1000)]) : undefined);
      logLine(id, req, response.status, started, `v${version.number} ${limitsHeader(final?.limits, version.limits)}`);
    } catch (err) {
      sendError(err, id, version, req, res, html, started);
    } finally {
      ids.delete(id);
      if (ids.size === 0) inFlight.delete(version);
      // The old version is disposed only when this request is over, waitUntil included.
      if (report !== undefined) void Promise.race([report, sleep(version.limits.wallMs + 1000)]).then(() => lease.release());
      else lease.release();
    }
  };

  function sendError(err: unknown, id: string, version: Version, req: IncomingMessage, res: ServerResponse, html: boolean, started: number): void {
    const e = err as { code?: unknown; message?: string; guestStack?: string };
    const code = typeof e.code === "string" ? e.code : "ERR_INTERNAL";
    const status = STATUS_BY_CODE[code] ?? 503;
    const message = e.message ?? String(err);
    // The prelude's own frames say nothing to the user.
    const stack = e.guestStack?.split("\n").filter((l) => !l.includes("(verge:prelude:")).join("\n");
    logLine(id, req, status, started, `v${version.number} ${code}`);
    term.line(term.paint("red", `  ${code}: ${message}`) + (stack ? "\n" + indent(stack) : ""));
    if (res.headersSent) return void res.destroy();
    const head = { ...commonHeaders(id, version, limitsHeader(undefined, version.limits), session.buildError() !== undefined), "x-verge-error": code };
    const info = { status, code, message, stack, requestId: id };
    if (html) res.writeHead(status, { ...head, "content-type": "text/html; charset=utf-8" }).end(exceptionPage(info));
    else res.writeHead(status, { ...head, "content-type": "application/json" }).end(JSON.stringify({ error: { code, message, requestId: id, ...(stack ? { stack } : {}) } }));
  }

  return Object.assign(handler, {
    requestOf(version: Version) {
      const ids = inFlight.get(version);
      return ids !== undefined && ids.size === 1 ? [...ids][0] : undefined;
    },
  });
}

function commonHeaders(id: string, version: Version, limits: string, stale: boolean): Record<string, string> {
  const h: Record<string, string> = { "x-verge-request-id": id, "x-verge-limits": limits, "x-verge-dev-version": String(version.number) };
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

function indent(s: string): string {
  return s.split("\n").map((l) => `    ${l}`).join("\n");
}
