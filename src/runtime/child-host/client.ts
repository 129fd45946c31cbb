/**
 * The parent side of the child-process host. Same operations as the in-process
 * runtime; a child that dies (a V8 abort, a SIGSEGV from a memory bomb, a wedged
 * host thread killed by the watchdog) fails only its in-flight calls, and the
 * next call starts a fresh child.
 */
import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { VergeError, reviveError, type SerializedError } from "../../shared/errors.ts";
import type { RequestData, ResponseData } from "../../shared/http.ts";
import type { InvocationReport } from "../invocation.ts";
import type { DialectInfo } from "../bridge/protocol.ts";
import type { LogEntry } from "../report.ts";
import { createChannel, pulledBody, type Channel } from "./channel.ts";
import type { BindingCallResult, ChildConfig, FunctionDecl, ServiceToParent, ToChild, ToParent, WireReport, WireRequest } from "./messages.ts";
import type { BindingDecl } from "../bindings/index.ts";
import { withFailureReport } from "../failure-report.ts";
import type { WebSocketEnd } from "../../shared/websocket.ts";
import { RemoteSocket } from "./remote-socket.ts";
import { createServiceAnswerer, type ParentServiceHandler } from "./service-calls.ts";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));
/** Time past a call's wall budget after which the watchdog kills a child that has not answered. */
const WATCHDOG_GRACE_MS = 2_000;

export interface ChildRuntimeOptions extends ChildConfig {
  onLog?: (entry: LogEntry, functionId: string) => void;
  /**
   * The child program (default: child.ts beside this file). A program that
   * extends the host imports child.ts and calls its `extendHost` (the harness
   * does, to run its edge pipeline in the child).
   */
  program?: string;
  /**
   * Runs the targets of the functions' service bindings in this process (the harness's
   * `serviceBindings`): a function's `env.NAME.fetch()` in the child crosses here
   * (service-calls.ts). Without it such calls fail in the child.
   */
  service?: ParentServiceHandler;
}

export type RemoteFetchResult =
  /** `meta`: what a routed call's extension added (FunctionDecl.route), as it sent it. `response.webSocket`: a 101's connection to the function. */
  | { type: "response"; response: ResponseData & { webSocket?: WebSocketEnd }; cold: boolean; finished: Promise<InvocationReport>; meta?: unknown }
  | { type: "request"; request: RequestData; cold: boolean; finished: Promise<InvocationReport> };

interface Call {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  finished: (r: InvocationReport) => void;
  /** The promise `finished` settles. */
  done: Promise<InvocationReport>;
  /** The watchdog covers the answer only (a routed call, FunctionDecl.route). */
  answerOnly: boolean;
  chunk?: { resolve: (c: Uint8Array | null) => void; reject: (e: unknown) => void };
  body?: AsyncIterator<Uint8Array>;
  /** When the watchdog kills the child if this call has not answered (performance.now ms); none for calls without a function. */
  deadline?: number;
  /** The function the call runs (for the watchdog's message). */
  decl?: FunctionDecl;
  /** Set when the watchdog killed the child for this call. */
  watchdogError?: VergeError;
  answered: boolean;
  /** The child process the call was sent to: its exit fails this call, not calls sent to its successor. */
  owner: ChildProcess | null;
  /** The WebSocket the function answered with (a 101). */
  socket?: RemoteSocket;
}

export interface ChildRuntime {
  register(decl: FunctionDecl): number;
  unregister(fn: number): void;
  load(fn: number): Promise<{ dialect: DialectInfo; startupCpuMs: number }>;
  fetch(fn: number, request: RequestData, opts?: { cf?: Record<string, unknown>; eventType?: "viewer-request" | "origin-request"; clientIp?: string }): Promise<RemoteFetchResult>;
  event(fn: number, event: unknown): Promise<{ kind: "request" | "response"; result: unknown; cold: boolean; finished: Promise<InvocationReport> }>;
  scheduled(fn: number, cron: string, time?: number): Promise<{ finished: Promise<InvocationReport> }>;
  /** Calls `method` on binding `name` in the child, on the same storage its functions use; throws the binding's error. */
  binding(name: string, decl: BindingDecl, method: string, args: unknown[]): Promise<unknown>;
  /** Number of child processes started so far (1 after the first call; more after crashes). */
  readonly spawns: number;
  dispose(): Promise<void>;
}

function revive(r: WireReport): InvocationReport {
  const out: InvocationReport = { limits: r.limits, logs: r.logs, waitUntilErrors: r.waitUntilErrors.map(reviveError) };
  if (r.error) out.error = reviveError(r.error);
  return out;
}

export function createChildRuntime(options: ChildRuntimeOptions = {}): ChildRuntime {
  const { onLog, program = CHILD, service, ...config } = options;
  if (onLog) config.forwardLogs = true;
  if (service) config.serviceBindings = true;
  const decls = new Map<number, FunctionDecl>();
  const calls = new Map<number, Call>();
  let child: ChildProcess | null = null;
  let nextFn = 1;
  let nextId = 1;
  let spawns = 0;
  let disposed = false;
  let stderrTail = "";

  let channel: Channel<ToParent, ToChild> | null = null;

  function spawn(): ChildProcess {
    // Messages go over fd 3 as JSON frames (channel.ts), not Node's IPC channel.
    const c = spawnProcess(process.execPath, ["--no-node-snapshot", "--disable-warning=ExperimentalWarning", program], {
      stdio: ["ignore", "inherit", "pipe", "pipe"],
    });
    spawns++;
    stderrTail = "";
    c.stderr!.on("data", (d: Buffer) => {
      stderrTail = (stderrTail + d.toString("utf8")).slice(-4096);
      if (process.env.VERGE_DEBUG_CHILD === "1") process.stderr.write(d);
    });
    // Service calls of this child are answered to this child only, and end with it.
    const services = createServiceAnswerer(service);
    const ch: Channel<ToParent, ToChild> = createChannel<ToParent, ToChild>(c.stdio[3] as Socket, (m) => {
      if (m.t === "service" || m.t === "service-read" || m.t === "service-cancel") services.onMessage(m, (r) => ch.send(r));
      else onMessage(m);
    });
    channel = ch;
    c.on("exit", (code, signal) => {
      services.closeAll();
      onExit(c, code, signal);
    });
    ch.send({ t: "config", config });
    for (const [fn, decl] of decls) ch.send({ t: "register", fn, decl });
    return c;
  }

  let referenced = false;
  function refresh(): void {
    // Keep the parent's event loop alive only while calls are in flight (toggled on change only).
    if (child === null) return;
    const want = calls.size > 0;
    if (want === referenced) return;
    referenced = want;
    if (want) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  }

  /**
   * One timer for every call's deadline (a timer per call cost ~2 µs of each call): armed for the
   * earliest deadline, it kills a child that left a call unanswered past its wall budget plus grace
   * (a host thread wedged by a hostile function). Unref'd: a call in flight keeps the loop alive.
   */
  let watchdog: NodeJS.Timeout | undefined;
  let watchdogAt = Infinity;
  function armWatchdog(at: number): void {
    if (at >= watchdogAt) return;
    if (watchdog !== undefined) clearTimeout(watchdog);
    watchdogAt = at;
    watchdog = setTimeout(sweep, Math.max(1, at - performance.now()));
    watchdog.unref();
  }
  function sweep(): void {
    watchdog = undefined;
    watchdogAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const call of calls.values()) {
      if (call.deadline === undefined) continue;
      if (call.deadline <= now) {
        if (call.watchdogError === undefined) {
          const d = call.decl!;
          const what = d.route === undefined ? `the wall-time budget of ${d.limits.wallMs} ms` : `${d.route.answerWithinMs} ms`;
          call.watchdogError = new VergeError("ERR_WALL_LIMIT", `function ${d.source.id}: no answer within ${what}; its process was killed`);
          // Detached at once: a call made before its exit is seen goes to a new child, not to this dying one.
          const victim = call.owner;
          if (victim !== null && victim === child) {
            child = null;
            channel = null;
            referenced = false;
          }
          victim?.kill("SIGKILL");
        }
      } else if (call.deadline < next) next = call.deadline;
    }
    if (next !== Infinity) armWatchdog(next);
  }

  function send(m: ToChild): void {
    if (child === null) {
      // After dispose nothing starts a child again (a body still being read, say): the exit of
      // the last one fails every call in flight.
      if (disposed) return;
      child = spawn();
    }
    channel!.send(m);
  }

  function onExit(c: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child === c) {
      child = null;
      channel = null;
      referenced = false;
    }
    const memory = /out of memory|memory limit|allocation failed|heap limit/i.test(stderrTail);
    const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    const err = memory
      ? new VergeError("ERR_MEMORY_LIMIT", `the function's process ran out of memory and was restarted (${how})`)
      : new VergeError("ERR_RUNTIME_CRASHED", `the function's process died (${how}) and was restarted; the next call runs in a new process`);
    for (const [id, call] of calls) if (call.owner === c || call.owner === null) fail(id, call, call.watchdogError ?? err);
  }

  function fail(id: number, call: Call, err: VergeError): void {
    if (!call.answered) call.reject(err);
    call.socket?.closed(1006, "");
    call.chunk?.reject(err);
    call.finished({ limits: emptyLimits(), logs: [], error: err, waitUntilErrors: [] });
    calls.delete(id);
  }

  function onMessage(m: Exclude<ToParent, ServiceToParent>): void {
    if (m.t === "log") {
      onLog?.(m.entry, m.fn);
      return;
    }
    const call = calls.get(m.id);
    if (call === undefined) return;
    switch (m.t) {
      case "ws-msg":
        call.socket?.message(m.data);
        return;
      case "ws-close":
        call.socket?.closed(m.code, m.reason);
        return;
      case "ok":
        call.answered = true;
        // A routed call's watchdog covers the answer only (FunctionDecl.route); so does one that
        // opened a WebSocket, which lasts as long as its peer keeps it (the runtime's CPU backstop
        // still stops a function that spins in a handler).
        if (call.answerOnly) call.deadline = undefined;
        const v = m.value as { response?: { webSocket?: unknown } } | null;
        if (v !== null && typeof v === "object" && v.response?.webSocket === true) {
          call.deadline = undefined;
          call.socket = new RemoteSocket(m.id, (out) => {
            if (calls.has(m.id)) send(out);
          });
          // The caller gets the socket itself with the answer (the call may be over before it reads it).
          v.response.webSocket = call.socket;
        }
        call.resolve(m.value);
        if (m.report !== undefined) {
          calls.delete(m.id);
          call.finished(revive(m.report));
          refresh();
        }
        return;
      case "err": {
        call.answered = true;
        const error = reviveError(m.error);
        if (m.reporting === true) {
          // The invocation ran: its report follows in "finished" (see failure-report.ts); keep the call until then.
          call.reject(withFailureReport(error, call.done));
          return;
        }
        calls.delete(m.id);
        call.reject(error);
        refresh();
        return;
      }
      case "chunk": {
        const w = call.chunk;
        call.chunk = undefined;
        w?.resolve(m.chunk);
        return;
      }
      case "chunk-err": {
        const w = call.chunk;
        call.chunk = undefined;
        w?.reject(reviveError(m.error));
        return;
      }
      case "finished":
        calls.delete(m.id);
        call.finished(revive(m.report));
        refresh();
        return;
      case "req-read": {
        const it = call.body;
        if (it === undefined) return send({ t: "req-chunk", id: m.id, chunk: null });
        it.next().then(
          (r) => send({ t: "req-chunk", id: m.id, chunk: r.done ? null : r.value }),
          () => send({ t: "req-chunk", id: m.id, chunk: null }),
        );
        return;
      }
    }
  }

  function call<T>(make: (id: number) => ToChild, fn: number, body?: AsyncIterable<Uint8Array>): { id: number; value: Promise<T>; finished: Promise<InvocationReport> } {
    if (disposed) throw new VergeError("ERR_RUNTIME_DISPOSED", "the runtime was disposed");
    const id = nextId++;
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    let finished!: (r: InvocationReport) => void;
    const value = new Promise<T>((res, rej) => {
      resolve = res as (v: unknown) => void;
      reject = rej;
    });
    const done = new Promise<InvocationReport>((res) => (finished = res));
    const decl = decls.get(fn);
    const entry: Call = { resolve, reject, finished, done, answered: false, answerOnly: decl?.route !== undefined, owner: null };
    if (body) entry.body = body[Symbol.asyncIterator]();
    if (decl !== undefined) {
      // A wedged host thread cannot answer: past the wall budget plus grace, kill the child.
      entry.deadline = performance.now() + (decl.route?.answerWithinMs ?? decl.limits.wallMs + WATCHDOG_GRACE_MS);
      entry.decl = decl;
      armWatchdog(entry.deadline);
    }
    calls.set(id, entry);
    send(make(id));
    entry.owner = child;
    refresh();
    return { id, value, finished: done };
  }

  function responseBody(id: number): AsyncIterable<Uint8Array> {
    return pulledBody(
      () => calls.get(id),
      () => send({ t: "read", id }),
      (finished) => {
        if (!finished && calls.has(id)) send({ t: "cancel", id });
      },
    );
  }

  return {
    get spawns() {
      return spawns;
    },
    register(decl) {
      const fn = nextFn++;
      decls.set(fn, decl);
      if (child !== null) channel?.send({ t: "register", fn, decl });
      return fn;
    },
    unregister(fn) {
      decls.delete(fn);
      if (child !== null) channel?.send({ t: "unregister", fn });
    },
    async load(fn) {
      const c = call<{ dialect: DialectInfo; startupCpuMs: number }>((id) => ({ t: "load", id, fn }), fn);
      try {
        return await c.value;
      } finally {
        calls.delete(c.id);
        refresh();
      }
    },
    async fetch(fn, request, opts = {}) {
      const streamed = request.body !== null && !(request.body instanceof Uint8Array);
      const wire: WireRequest = { method: request.method, url: request.url, headers: request.headers, body: streamed ? "stream" : (request.body as Uint8Array | null) };
      const c = call<{ type: "response" | "request"; cold: boolean; response?: ResponseData & { body: Uint8Array | null | "stream" }; request?: RequestData; meta?: unknown }>(
        (id) => ({ t: "fetch", id, fn, request: wire, opts }),
        fn,
        streamed ? (request.body as AsyncIterable<Uint8Array>) : undefined,
      );
      const v = await c.value;
      if (v.type === "request") return { type: "request", request: v.request!, cold: v.cold, finished: c.finished };
      const r = v.response!;
      const socket = (r as { webSocket?: unknown }).webSocket;
      if (socket instanceof RemoteSocket) return { type: "response", response: { ...r, body: null, webSocket: socket }, cold: v.cold, finished: c.finished };
      const body = r.body === "stream" ? responseBody(c.id) : r.body;
      return { type: "response", response: { ...r, body }, cold: v.cold, finished: c.finished, ...(v.meta !== undefined ? { meta: v.meta } : {}) };
    },
    async binding(name, decl, method, args) {
      const c = call<BindingCallResult>((id) => ({ t: "binding", id, name, decl, method, args }), 0);
      let r: BindingCallResult;
      try {
        r = await c.value;
      } finally {
        calls.delete(c.id);
        refresh();
      }
      if (r.ok) return r.value;
      const Ctor = r.error.name === "TypeError" ? TypeError : r.error.name === "RangeError" ? RangeError : Error;
      throw new Ctor(r.error.message);
    },
    async event(fn, event) {
      const c = call<{ kind: "request" | "response"; result: unknown; cold: boolean }>((id) => ({ t: "event", id, fn, event }), fn);
      const v = await c.value;
      return { ...v, finished: c.finished };
    },
    async scheduled(fn, cron, time = Date.now()) {
      const c = call<null>((id) => ({ t: "scheduled", id, fn, cron, time }), fn);
      await c.value;
      return { finished: c.finished };
    },
    async dispose() {
      disposed = true;
      if (watchdog !== undefined) clearTimeout(watchdog);
      const c = child;
      const ch = channel;
      child = null;
      channel = null;
      if (c === null || c.exitCode !== null) return;
      c.ref();
      await new Promise<void>((resolve) => {
        c.once("exit", () => resolve());
        // The child exits when its end of the pipe closes.
        ch?.close();
        setTimeout(() => c.kill("SIGKILL"), 2_000).unref();
      });
    },
  };
}

function emptyLimits(): InvocationReport["limits"] {
  const z = { used: 0, limit: null };
  return { cpuMs: z, wallMs: z, heapMb: z, subrequests: z, responseBytes: z };
}

export type { SerializedError };
