/**
 * The child-process host: runs the same runtime as an edge worker, for callers
 * that must survive a function that aborts its process (the harness, `verge dev`).
 * Started by client.ts with --no-node-snapshot; messages are JSON frames on fd 3 (channel.ts).
 */
import { Socket } from "node:net";
import { VergeError, type SerializedError } from "../../shared/errors.ts";
import type { RequestData } from "../../shared/http.ts";
import { createBindings } from "../bindings/index.ts";
import { failureReport } from "../failure-report.ts";
import type { InvocationReport } from "../invocation.ts";
import type { FunctionSpec } from "../pool.ts";
import { createRuntime, type FetchInvokeOptions, type FetchInvokeResult, type Runtime } from "../runtime.ts";
import { createHostServices } from "../services.ts";
import type { HostServices } from "../host-services.ts";
import { createChannel } from "./channel.ts";
import { createServiceCaller } from "./service-calls.ts";
import type { BindingCallResult, ChildConfig, FunctionDecl, ToChild, ToParent, WireReport } from "./messages.ts";
import type { BindingHandler } from "../host-services.ts";
import { MAX_WEBSOCKET_BUFFERED_BYTES, type WebSocketEnd } from "../../shared/websocket.ts";

// fd 3 is the pipe the parent reads and writes (client.ts); the process ends with it.
const socket = new Socket({ fd: 3, readable: true, writable: true });
const channel = createChannel<ToChild, ToParent>(socket, (m) => void handle(m));
socket.on("close", () => process.exit(0));
socket.on("end", () => process.exit(0));
const send = (m: ToParent): void => channel.send(m);
/** Service binding calls go to the parent, which runs their targets (service-calls.ts). */
const serviceCaller = createServiceCaller(send);

let runtime: Runtime | undefined;
let services: HostServices | undefined;
let config: ChildConfig = {};
const specs = new Map<number, FunctionSpec>();
/** `route.data` of the functions registered with a route (FunctionDecl.route). */
const routes = new Map<number, unknown>();

/** A fetch call of a function registered with a `route`, as an extension gets it. */
export interface RoutedFetch {
  fn: number;
  /** The function's spec: the object direct calls use (same warm isolates, same bindings). */
  spec: FunctionSpec;
  /** The decl's `route.data`. */
  data: unknown;
  request: RequestData;
  opts: FetchInvokeOptions;
  runtime: Runtime;
  services: HostServices;
}

/** What a child program adds to this host (see {@link extendHost}). */
export interface HostExtension {
  /** Runs a routed fetch call; `meta` (JSON) reaches the parent's result as it is. */
  fetch(call: RoutedFetch): Promise<FetchInvokeResult & { meta?: unknown }>;
  /** The function was unregistered; calls of it may still be running. */
  unregister?(fn: number): void;
  /** The Cache API of invocations that bring none (HostServices.caches): the harness's, in this process's memory. */
  caches?: HostServices["caches"];
}

let extension: HostExtension | undefined;

/**
 * For a child program that extends this host (client.ts `program`): it imports
 * this module, which starts the host, and calls this at its top level, before
 * any message can arrive. Fetch calls of functions registered with a `route`
 * then go to `ext.fetch` instead of the runtime.
 */
export function extendHost(ext: HostExtension): void {
  extension = ext;
}
const bodies = new Map<number, AsyncIterator<Uint8Array>>();
/** WebSockets functions answered fetch calls with, by call id (the parent's peer talks to them with "ws-*"). */
const sockets = new Map<number, WebSocketEnd>();

/**
 * Relays a function's WebSocket to the parent. A function that sends faster than the parent
 * reads fills the pipe's buffer: past MAX_WEBSOCKET_BUFFERED_BYTES the connection fails (1006)
 * instead of the child's memory.
 */
function relaySocket(id: number, end: WebSocketEnd, finished: Promise<unknown>): void {
  sockets.set(id, end);
  // Kept until the invocation is over: the peer answers the function's close with its own.
  void finished.finally(() => sockets.delete(id));
  let over = false;
  end.attach({
    message(data) {
      if (over) return;
      if (channel.pending() > MAX_WEBSOCKET_BUFFERED_BYTES) {
        over = true;
        end.abort();
        send({ t: "ws-close", id, code: 1006, reason: "" });
        return;
      }
      send({ t: "ws-msg", id, data });
    },
    close(code, reason) {
      if (over) return;
      over = true;
      send({ t: "ws-close", id, code, reason });
    },
  });
}
const reqStreams = new Map<number, (chunk: Uint8Array | null) => void>();

function getRuntime(): Runtime {
  if (runtime === undefined) {
    services = createHostServices({
      ...(config.fetch ? { fetch: config.fetch } : {}),
      ...(config.forwardLogs ? { onLog: (entry, fn) => send({ t: "log", fn, entry }) } : {}),
    });
    if (extension?.caches !== undefined) services.caches = extension.caches;
    if (config.serviceBindings === true) services.service = serviceCaller.host;
    runtime = createRuntime({ services, ...(config.idleMemoryBytes ? { idleMemoryBytes: config.idleMemoryBytes } : {}) });
  }
  return runtime;
}

function toSpec(decl: FunctionDecl): FunctionSpec {
  const { env, bindings } = createBindings(decl.bindings);
  return { source: decl.source, limits: decl.limits, env, bindings };
}

function serialize(err: unknown): SerializedError {
  if (err instanceof VergeError) return err.toJSON();
  const code = typeof (err as { code?: unknown })?.code === "string" ? ((err as { code: string }).code as SerializedError["code"]) : "ERR_RUNTIME_INTERNAL";
  return { code, message: err instanceof Error ? err.message : String(err) };
}

function wireReport(r: InvocationReport): WireReport {
  const out: WireReport = { limits: r.limits, logs: r.logs, waitUntilErrors: r.waitUntilErrors.map(serialize) };
  if (r.error) out.error = serialize(r.error);
  return out;
}

/** Why a function's declaration was refused at `register`, given again at each use. */
const refused = new Map<number, unknown>();

function spec(fn: number): FunctionSpec {
  const s = specs.get(fn);
  if (s !== undefined) return s;
  const why = refused.get(fn);
  if (why !== undefined) throw why;
  throw new VergeError("ERR_RUNTIME_INTERNAL", `child host: function ${fn} is not registered`);
}

function requestBody(id: number): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      while (true) {
        const chunk = await new Promise<Uint8Array | null>((resolve) => {
          reqStreams.set(id, resolve);
          send({ t: "req-read", id });
        });
        if (chunk === null) return;
        yield chunk;
      }
    },
  };
}

/**
 * Sends the answer, with the report in the same message when the invocation is
 * already over (the usual case for a function that answered with bytes and has
 * no waitUntil: it ended in the microtasks before its answer got here), else
 * the report follows in a "finished" message.
 */
async function answer(id: number, value: unknown, finished: Promise<InvocationReport>, mayBeOver: boolean): Promise<void> {
  // Promise.race settles with the first reaction queued: the report if it is already there.
  const report = mayBeOver ? await Promise.race([finished, undefined]) : undefined;
  if (report !== undefined) return send({ t: "ok", id, value, report: wireReport(report) });
  send({ t: "ok", id, value });
  finished.then((r) => send({ t: "finished", id, report: wireReport(r) }));
}

const bindingHandlers = new Map<string, BindingHandler>();

/** A call on a binding from the parent: the same handler (and storage) a function's `env` gets. */
async function bindingCall(m: Extract<ToChild, { t: "binding" }>): Promise<void> {
  let result: BindingCallResult;
  try {
    const key = JSON.stringify([m.name, m.decl]);
    let h = bindingHandlers.get(key);
    if (h === undefined) {
      h = createBindings({ [m.name]: m.decl }).bindings[m.name];
      if (h === undefined) throw new TypeError(`binding ${m.name} has no methods`);
      bindingHandlers.set(key, h);
    }
    if (!h.methods.includes(m.method)) throw new TypeError(`binding ${m.name}: no method ${m.method}`);
    result = { ok: true, value: await h.call(m.method, m.args) };
  } catch (err) {
    const e = err as { name?: unknown; message?: unknown };
    result = { ok: false, error: { name: typeof e?.name === "string" ? e.name : "Error", message: typeof e?.message === "string" ? e.message : String(err) } };
  }
  send({ t: "ok", id: m.id, value: result });
}

async function handle(m: ToChild): Promise<void> {
  switch (m.t) {
    case "service-res":
    case "service-chunk":
      return serviceCaller.onMessage(m);
    case "binding":
      return bindingCall(m);
    case "config":
      config = m.config;
      return;
    case "register":
      try {
        specs.set(m.fn, toSpec(m.decl));
        refused.delete(m.fn);
      } catch (err) {
        // Nobody waits on `register`: its error is what every use of the function gets (load, fetch, ...).
        refused.set(m.fn, err);
      }
      if (m.decl.route !== undefined) routes.set(m.fn, m.decl.route.data);
      return;
    case "unregister":
      specs.delete(m.fn);
      refused.delete(m.fn);
      if (routes.delete(m.fn)) extension?.unregister?.(m.fn);
      return;
    case "req-chunk": {
      const r = reqStreams.get(m.id);
      reqStreams.delete(m.id);
      r?.(m.chunk);
      return;
    }
    case "read": {
      const it = bodies.get(m.id);
      if (it === undefined) return send({ t: "chunk", id: m.id, chunk: null });
      try {
        const r = await it.next();
        if (r.done) {
          bodies.delete(m.id);
          send({ t: "chunk", id: m.id, chunk: null });
        } else send({ t: "chunk", id: m.id, chunk: r.value });
      } catch (err) {
        bodies.delete(m.id);
        send({ t: "chunk-err", id: m.id, error: serialize(err) });
      }
      return;
    }
    case "ws-send":
      sockets.get(m.id)?.send(m.data);
      return;
    case "ws-close":
      sockets.get(m.id)?.close(m.code, m.reason);
      return;
    case "ws-abort":
      sockets.get(m.id)?.abort();
      return;
    case "cancel": {
      const it = bodies.get(m.id);
      bodies.delete(m.id);
      await it?.return?.();
      return;
    }
  }
  try {
    const rt = getRuntime();
    switch (m.t) {
      case "load":
        return send({ t: "ok", id: m.id, value: rt.load(spec(m.fn)) });
      case "fetch": {
        const body = m.request.body === "stream" ? requestBody(m.id) : m.request.body;
        const request: RequestData = { method: m.request.method, url: m.request.url, headers: m.request.headers, body };
        const route = routes.get(m.fn);
        const r: FetchInvokeResult & { meta?: unknown } =
          route !== undefined && extension !== undefined
            ? await extension.fetch({ fn: m.fn, spec: spec(m.fn), data: route, request, opts: m.opts, runtime: rt, services: services! })
            : await rt.fetch(spec(m.fn), request, m.opts);
        if (r.type === "request") {
          const b = r.request.body;
          const bytes = b === null || b instanceof Uint8Array ? b : null;
          return answer(m.id, { type: "request", cold: r.cold, request: { ...r.request, body: bytes } }, r.finished, true);
        }
        const { webSocket, ...response } = r.response;
        if (webSocket !== undefined) {
          relaySocket(m.id, webSocket, r.finished);
          return answer(m.id, { type: "response", cold: r.cold, response: { ...response, body: null, webSocket: true } }, r.finished, false);
        }
        const b = r.response.body;
        let wireBody: Uint8Array | null | "stream";
        if (b === null || b instanceof Uint8Array) wireBody = b;
        else {
          bodies.set(m.id, b[Symbol.asyncIterator]());
          wireBody = "stream";
        }
        const meta = r.meta !== undefined ? { meta: r.meta } : {};
        return answer(m.id, { type: "response", cold: r.cold, response: { ...response, body: wireBody }, ...meta }, r.finished, wireBody !== "stream");
      }
      case "event": {
        const r = await rt.event(spec(m.fn), m.event as never);
        return answer(m.id, { kind: r.kind, result: r.result, cold: r.cold }, r.finished, true);
      }
      case "scheduled": {
        const r = await rt.scheduled(spec(m.fn), m.cron, m.time);
        return answer(m.id, null, r.finished, true);
      }
    }
  } catch (err) {
    const id = (m as { id: number }).id;
    // An invocation that failed still ran: its report follows the error (failure-report.ts).
    const finished = failureReport(err);
    if (finished === undefined) return send({ t: "err", id, error: serialize(err) });
    send({ t: "err", id, error: serialize(err), reporting: true });
    finished.then((r) => send({ t: "finished", id, report: wireReport(r) }));
  }
}


