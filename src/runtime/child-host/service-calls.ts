/**
 * Service binding calls that cross from the child-process host to its parent:
 * the harness's `serviceBindings` are functions in the test process, so a
 * function's `env.NAME.fetch()` in the child becomes a "service" message, the
 * parent runs its handler and answers with the response head; a streamed body
 * is then pulled chunk by chunk ("service-read"), as the parent pulls a
 * function's own response body. The request body crosses whole (the guest has
 * buffered it, as for fetch()). A caller that gives up (the fetch was aborted,
 * the invocation ended) sends "service-cancel": the parent aborts the
 * handler's signal and drops the body it holds.
 */
import type { RequestData, ResponseData } from "../../shared/http.ts";
import { readBody } from "../../shared/http.ts";
import type { ServiceCall, ServiceHost } from "../host-services.ts";
import type { ServiceToChild, ServiceToParent, WireError } from "./messages.ts";
import { pulledBody, type ChunkWaiter } from "./channel.ts";

/** What the parent runs for a service call (its own errors become the caller's rejection). */
export type ParentServiceHandler = (call: ServiceCall, request: RequestData, signal: AbortSignal) => Promise<ResponseData>;

function wireError(err: unknown): WireError {
  const e = err as { name?: unknown; message?: unknown; remote?: unknown };
  const wire: WireError = { name: typeof e?.name === "string" ? e.name : "Error", message: typeof e?.message === "string" ? e.message : String(err) };
  if (e?.remote === true) wire.remote = true;
  return wire;
}

function revive(e: WireError): Error {
  // Another Worker's exception: its name and `remote` go on to the guest, which rebuilds its class (host-ops.ts plainError).
  if (e.remote === true) return Object.assign(new Error(e.message), { name: e.name, remote: true });
  const Ctor = e.name === "TypeError" ? TypeError : e.name === "RangeError" ? RangeError : Error;
  const err = new Ctor(e.message);
  if (e.name === "AbortError") err.name = "AbortError";
  return err;
}

interface Pending {
  resolve(r: ResponseData): void;
  reject(e: unknown): void;
  /** The body's reader waiting for its next chunk. */
  chunk?: ChunkWaiter | undefined;
  settled: boolean;
}

/** The child's half: a ServiceHost whose calls go to the parent over `send`. */
export function createServiceCaller(send: (m: ServiceToParent) => void): { host: ServiceHost; onMessage(m: ServiceToChild): void } {
  const pending = new Map<number, Pending>();
  let nextId = 1;

  function body(sid: number): AsyncIterable<Uint8Array> {
    return pulledBody(
      () => pending.get(sid),
      () => send({ t: "service-read", sid }),
      (finished) => {
        if (pending.delete(sid) && !finished) send({ t: "service-cancel", sid });
      },
    );
  }

  const host: ServiceHost = async (call, request, { signal }) => {
    signal.throwIfAborted();
    const bytes = request.body === null ? null : await readBody(request.body);
    // The caller may have given up while the body was read: the call is then never made.
    signal.throwIfAborted();
    const sid = nextId++;
    return new Promise<ResponseData>((resolve, reject) => {
      const p: Pending = { resolve, reject, settled: false };
      pending.set(sid, p);
      signal.addEventListener(
        "abort",
        () => {
          if (!pending.delete(sid)) return;
          send({ t: "service-cancel", sid });
          const reason = signal.reason instanceof Error ? signal.reason : new DOMException("The operation was aborted.", "AbortError");
          if (!p.settled) reject(reason);
          p.chunk?.reject(reason);
        },
        { once: true },
      );
      send({ t: "service", sid, call, request: { method: request.method, url: request.url, headers: request.headers, body: bytes } });
    });
  };

  function onMessage(m: ServiceToChild): void {
    const p = pending.get(m.sid);
    if (p === undefined) return;
    if (m.t === "service-res") {
      p.settled = true;
      if (!m.ok) {
        pending.delete(m.sid);
        return p.reject(revive(m.error));
      }
      const r = m.response;
      if (r.body !== "stream") pending.delete(m.sid);
      p.resolve({ status: r.status, statusText: r.statusText, headers: r.headers, body: r.body === "stream" ? body(m.sid) : r.body });
      return;
    }
    const w = p.chunk;
    p.chunk = undefined;
    if (m.error !== undefined) w?.reject(revive(m.error));
    else w?.resolve(m.chunk);
  }

  return { host, onMessage };
}

/** The parent's half: runs `handler` for each "service" message and answers over `reply`. */
export function createServiceAnswerer(handler: ParentServiceHandler | undefined): { onMessage(m: ServiceToParent, reply: (m: ServiceToChild) => void): void; closeAll(): void } {
  const running = new Map<number, { abort: AbortController; body?: AsyncIterator<Uint8Array> }>();

  async function serve(m: Extract<ServiceToParent, { t: "service" }>, reply: (m: ServiceToChild) => void): Promise<void> {
    const abort = new AbortController();
    const entry: { abort: AbortController; body?: AsyncIterator<Uint8Array> } = { abort };
    running.set(m.sid, entry);
    try {
      if (handler === undefined) throw new Error(`env.${m.call.binding}.fetch(): this host runs no service bindings`);
      const r = await handler(m.call, m.request, abort.signal);
      if (abort.signal.aborted) {
        if (r.body !== null && !(r.body instanceof Uint8Array)) void r.body[Symbol.asyncIterator]().return?.()?.catch(() => {});
        return;
      }
      let wire: Uint8Array | null | "stream";
      if (r.body === null || r.body instanceof Uint8Array) {
        wire = r.body;
        running.delete(m.sid);
      } else {
        entry.body = r.body[Symbol.asyncIterator]();
        wire = "stream";
      }
      reply({ t: "service-res", sid: m.sid, ok: true, response: { status: r.status, statusText: r.statusText, headers: r.headers, body: wire } });
    } catch (err) {
      running.delete(m.sid);
      if (!abort.signal.aborted) reply({ t: "service-res", sid: m.sid, ok: false, error: wireError(err) });
    }
  }

  async function read(sid: number, reply: (m: ServiceToChild) => void): Promise<void> {
    const it = running.get(sid)?.body;
    if (it === undefined) return reply({ t: "service-chunk", sid, chunk: null });
    try {
      const r = await it.next();
      if (r.done) running.delete(sid);
      reply({ t: "service-chunk", sid, chunk: r.done ? null : r.value });
    } catch (err) {
      running.delete(sid);
      reply({ t: "service-chunk", sid, chunk: null, error: wireError(err) });
    }
  }

  function cancel(sid: number): void {
    const e = running.get(sid);
    if (e === undefined) return;
    running.delete(sid);
    e.abort.abort(new DOMException("The caller gave up on this service call.", "AbortError"));
    void e.body?.return?.()?.catch(() => {});
  }

  return {
    onMessage(m, reply) {
      if (m.t === "service") void serve(m, reply);
      else if (m.t === "service-read") void read(m.sid, reply);
      else cancel(m.sid);
    },
    /** The child is gone: every call it made is over. */
    closeAll() {
      for (const sid of [...running.keys()]) cancel(sid);
    },
  };
}
