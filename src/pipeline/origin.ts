/**
 * Requests to customer origins: undici's dispatcher API (no fetch, so bodies
 * are never decompressed and `Host` can be set), one keep-alive pool per
 * origin, timeouts as CloudFront's origin settings mean them (connection
 * timeout; response timeout = waiting for the head and between body chunks).
 *
 * An origin a function chose at origin-request is resolved like a function's
 * own `fetch()` (DESIGN.md §4): loopback, private, link-local and metadata
 * addresses are refused at connect time unless the operator allows them. The
 * distribution's configured origins are the operator's and are not checked.
 */
import { lookup as dnsLookup } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { Pool } from "undici";
import { VergeError } from "../shared/errors.ts";
import type { BodyData, HeaderList } from "../shared/http.ts";
import { refusedReason } from "../runtime/index.ts";

export interface OriginFetchInit {
  method: string;
  /** Final headers, `host` included; no hop-by-hop headers. */
  headers: HeaderList;
  body: BodyData;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A function chose this origin: apply the private-address policy. */
  chosenByFunction: boolean;
}

/** Sends one request to an origin; rejects on connection or timeout failures (mapped by {@link originError}). */
export type FetchOrigin = (url: string, init: OriginFetchInit) => Promise<Response>;

export interface OriginFetcherOptions {
  /** Let function-chosen origins resolve to private addresses (local development). */
  allowPrivateAddresses?: boolean;
  /** Host names or IP literals a function may choose even where they resolve to a refused address. */
  allowHosts?: readonly string[];
  /** Pools idle this long are closed (default 60 s). */
  idlePoolMs?: number;
}

const NULL_BODY = new Set([204, 205, 304]);

/**
 * @example
 * const origins = createOriginFetcher();
 * const res = await origins.fetch("http://origin.internal:8080/a", { method: "GET", headers: [["host", "origin.internal:8080"]], body: null, connectTimeoutMs: 1000, readTimeoutMs: 30000, keepAliveTimeoutMs: 5000, chosenByFunction: false });
 */
export function createOriginFetcher(options: OriginFetcherOptions = {}): { fetch: FetchOrigin; close(): Promise<void> } {
  const pools = new Map<string, { pool: Pool; used: number }>();
  const idleMs = options.idlePoolMs ?? 60_000;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, p] of pools) {
      if (now - p.used > idleMs) {
        pools.delete(key);
        void p.pool.close().catch(() => {});
      }
    }
  }, idleMs);
  sweep.unref();

  const guardedFor = originGuard(options);

  function poolFor(origin: string, init: OriginFetchInit): Pool {
    const guarded = guardedFor(init.chosenByFunction, origin);
    const key = `${origin}\u0000${init.connectTimeoutMs}\u0000${init.keepAliveTimeoutMs}\u0000${guarded}`;
    let p = pools.get(key);
    if (p === undefined) {
      const pool = new Pool(origin, {
        connect: { timeout: init.connectTimeoutMs, ...(guarded ? { lookup: guardedLookup } : {}) },
        keepAliveTimeout: init.keepAliveTimeoutMs,
      });
      pools.set(key, (p = { pool, used: Date.now() }));
    }
    p.used = Date.now();
    return p.pool;
  }

  async function fetchOrigin(url: string, init: OriginFetchInit): Promise<Response> {
    const target = new URL(url);
    if (guardedFor(init.chosenByFunction, target.origin)) refuseLiteral(target);
    const flat: string[] = [];
    for (const [name, value] of init.headers) flat.push(name, value);
    const res = await poolFor(target.origin, init).request({
      path: `${target.pathname}${target.search}`,
      method: init.method,
      headers: flat,
      body: init.body === null ? null : init.body instanceof Uint8Array ? init.body : Readable.from(init.body),
      headersTimeout: init.readTimeoutMs,
      bodyTimeout: init.readTimeoutMs,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.append(name, value);
    }
    const bodiless = init.method === "HEAD" || NULL_BODY.has(res.statusCode);
    if (bodiless) res.body.resume();
    const body = bodiless ? null : toWeb(res.body);
    try {
      return new Response(body, { status: res.statusCode, statusText: res.statusText, headers });
    } catch (err) {
      res.body.destroy();
      throw new VergeError("ERR_ORIGIN_RESPONSE_INVALID", `the origin answered with status ${res.statusCode}, which cannot be forwarded`, { cause: err });
    }
  }

  return {
    fetch: fetchOrigin,
    async close() {
      clearInterval(sweep);
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.pool.close().catch(() => {})));
    },
  };
}

/**
 * A Node readable as a web stream, pulled on demand. (Readable.toWeb throws
 * "Controller is already closed" from a data event after its stream is cancelled.)
 */
export function toWeb(readable: Readable): ReadableStream<Uint8Array> {
  const it = readable[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = await it.next();
        if (r.done === true) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        // undici's body reports its own destruction as an AbortError: nobody is left to hear it.
        readable.on("error", () => {});
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Throws ERR_FETCH_BLOCKED when `target`'s host is a refused address literal
 * (also one the URL parser made of "0x7f.1"): a literal is never looked up, so
 * {@link guardedLookup} never sees it.
 */
export function refuseLiteral(target: URL): void {
  const literal = target.hostname.replace(/^\[|\]$/g, "");
  if (isIP(literal) === 0) return;
  const reason = refusedReason(literal);
  if (reason !== null) throw new VergeError("ERR_FETCH_BLOCKED", `origin ${target.host} refused: ${literal} is ${reason} (operators can allow it)`);
}

/**
 * Whether a request to `origin` (a URL's origin) goes through the address policy: only when a
 * function chose it, and neither private addresses in general nor its host in particular are allowed.
 */
export function originGuard(options: { allowPrivateAddresses?: boolean; allowHosts?: readonly string[] }): (chosenByFunction: boolean, origin: string) => boolean {
  const allowed = new Set((options.allowHosts ?? []).map((h) => h.toLowerCase().replace(/^\[|\]$/g, "")));
  return (chosenByFunction, origin) => {
    if (!chosenByFunction || options.allowPrivateAddresses === true) return false;
    return allowed.size === 0 || !allowed.has(new URL(origin).hostname.toLowerCase().replace(/^\[|\]$/g, ""));
  };
}

/** DNS lookup that refuses loopback, private, link-local and metadata addresses (the runtime's fetch rules). */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, "", 0);
    const list = addresses as unknown as Array<{ address: string; family: number }>;
    for (const a of list) {
      const reason = refusedReason(a.address);
      if (reason !== null) {
        return callback(new VergeError("ERR_FETCH_BLOCKED", `origin ${hostname} refused: ${a.address} is ${reason} (operators can allow it)`) as unknown as NodeJS.ErrnoException, "", 0);
      }
    }
    const first = list[0];
    if (first === undefined) return callback(new Error(`no address for ${hostname}`) as NodeJS.ErrnoException, "", 0);
    if ((options as { all?: boolean }).all === true) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, first.address, first.family);
  });
};

const UNREACHABLE = new Set([
  "ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "UND_ERR_DESTROYED", "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * What an origin failure means for the viewer: `ERR_ORIGIN_TIMEOUT` (504) when
 * the origin did not answer within its read timeout, `ERR_ORIGIN_RESPONSE_INVALID`
 * (502) for an answer that is not valid HTTP, `ERR_FETCH_BLOCKED` (502) for a
 * function-chosen origin at a refused address, `ERR_ORIGIN_UNREACHABLE` (502)
 * otherwise. Looks through `cause` chains (fetch wraps errors in "fetch failed").
 */
export function originError(err: unknown, url: string): VergeError {
  const where = new URL(url).origin;
  for (let e: unknown = err, depth = 0; e !== null && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const message = (e as { message?: unknown }).message;
    if (code === "ERR_ORIGIN_RESPONSE_INVALID" || code === "ERR_ORIGIN_TIMEOUT" || code === "ERR_ORIGIN_UNREACHABLE") return e as VergeError;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      return new VergeError("ERR_ORIGIN_TIMEOUT", `origin ${where} did not answer within its read timeout`, { cause: err });
    }
    if (code === "ERR_FETCH_BLOCKED") return new VergeError("ERR_FETCH_BLOCKED", String(message), { cause: err });
    if (code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH") {
      return new VergeError("ERR_BAD_REQUEST", "the request body did not match its Content-Length", { cause: err });
    }
    if ((typeof code === "string" && code.startsWith("HPE_")) || (e as { name?: unknown }).name === "HTTPParserError") {
      return new VergeError("ERR_ORIGIN_RESPONSE_INVALID", `origin ${where} sent a response that is not valid HTTP/1.1`, { cause: err });
    }
    if (typeof code === "string" && UNREACHABLE.has(code)) {
      return new VergeError("ERR_ORIGIN_UNREACHABLE", `origin ${where} could not be reached (${code}${typeof message === "string" ? `: ${message}` : ""})`, { cause: err });
    }
  }
  return new VergeError("ERR_ORIGIN_UNREACHABLE", `origin ${where} could not be reached: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * Never forwards ambiguous framing: a body longer than its Content-Length is
 * cut at Content-Length, one that ends short fails the stream (the viewer sees
 * the connection end, as with any truncated response).
 */
export function enforceContentLength(response: Response): Response {
  const declared = response.headers.get("content-length");
  if (declared === null || response.body === null) return response;
  if (!/^\d{1,15}$/.test(declared.trim())) {
    void response.body.cancel().catch(() => {});
    throw new VergeError("ERR_ORIGIN_RESPONSE_INVALID", `the origin sent Content-Length ${JSON.stringify(declared.slice(0, 40))}, which is not one number`);
  }
  const length = Number(declared.trim());
  const reader = response.body.getReader();
  let seen = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const r = await reader.read();
      if (r.done) {
        if (seen < length) controller.error(new VergeError("ERR_ORIGIN_RESPONSE_INVALID", `the origin's body ended after ${seen} of ${length} bytes`));
        else controller.close();
        return;
      }
      const room = length - seen;
      const chunk = r.value.byteLength > room ? r.value.subarray(0, room) : r.value;
      seen += chunk.byteLength;
      if (chunk.byteLength > 0) controller.enqueue(chunk);
      if (seen >= length) {
        controller.close();
        void reader.cancel().catch(() => {});
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
