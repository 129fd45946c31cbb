/**
 * The worker side of the supervisor: what a worker process (a full data plane)
 * uses to take part in crash attribution, quarantine, messages and drain. In a
 * process that is not a cluster worker (tests, a single-process node) the same
 * API works alone: an empty quarantine, no messages, drain on SIGTERM/SIGINT.
 */
import cluster from "node:cluster";
import { createCrashMarker } from "./marker.ts";
import { ENV_HEARTBEAT, ENV_MARKER, ENV_QUARANTINE, ENV_WORKER_ID, isMessage } from "./messages.ts";
import type { QuarantineEntry, QuarantineView, SupervisorMessage, WorkerInfo } from "./messages.ts";
import { createRequester } from "./requests.ts";

/** A server that can stop accepting connections (node:http, @hono/node-server). */
export interface Closeable {
  close(callback?: (err?: Error) => void): unknown;
}

export interface DrainOptions {
  /** Runs after in-flight requests finished (or the deadline passed), before exit: close stores, dispose the runtime. */
  beforeExit?: () => void | Promise<void>;
}

export interface ConnectWorkerOptions {
  /** Deadline of a drain started by a signal rather than by the primary (default 30 s, origin events' wall limit). */
  drainTimeoutMs?: number;
  /** Marker path outside a supervisor (inside one, the primary sets it); none: onEnter does nothing. */
  markerPath?: string;
  /**
   * Where this process's log lines go (`log()` and the worker's own events).
   * Default: under the supervisor, to the primary (its `log`, with `worker` and
   * `pid` added); alone, a JSON line on stderr.
   */
  log?: (line: object) => void;
}

export interface WorkerConnection {
  /** True under the supervisor (a cluster worker), false in single-process mode. */
  readonly clustered: boolean;
  /** The worker's slot (0-based, stable across restarts), or null alone. */
  readonly id: number | null;
  /** Quarantined versions, kept current by the primary; empty alone. */
  readonly quarantine: QuarantineView;
  /** The runtime's `HostServices.onEnter`: records the function about to run in the crash marker. */
  readonly onEnter: (functionId: string) => void;
  /** Handles messages the primary broadcasts with this `type`; returns an unsubscribe. */
  onMessage(type: string, handler: (message: SupervisorMessage) => void): () => void;
  /**
   * Installs the drain: when the primary says so (or on SIGTERM/SIGINT), stop
   * accepting, wait until `inFlight()` is 0 (bounded by the deadline), then exit 0.
   */
  drain(server: Closeable | Closeable[], inFlight: () => number, options?: DrainOptions): void;
  /**
   * Asks the primary (handled by `supervisor.onRequest(kind, …)`); rejects with
   * ERR_SUPERVISOR_TIMEOUT, the handler's error code, or ERR_NOT_SUPERVISED alone.
   */
  request(kind: string, payload?: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
  /** Every live worker and the quarantine, for health; alone: this process only. */
  workers(): Promise<{ workers: WorkerInfo[]; quarantine: QuarantineEntry[] }>;
  /** Tells the primary this worker is listening (its `ready` waits for every worker). */
  ready(): void;
  /**
   * What this worker says of itself, listed by the primary as its `status` in
   * `workers()` (e.g. the state it serves). Sent when it differs from the last
   * one sent: call it as often as convenient. Alone, shown by `workers()`.
   */
  setStatus(status: Record<string, unknown>): void;
  /**
   * One structured log line (e.g. the data plane's `log` option). Under the
   * supervisor it goes to the primary, which passes it to its own `log` with
   * this worker's `worker` (slot) and `pid`; alone, to `options.log` or stderr.
   */
  readonly log: (line: object) => void;
}

const DRAIN_POLL_MS = 10;
let connection: WorkerConnection | undefined;

/**
 * Connects this process to its supervisor (once per process; later calls
 * return the same connection).
 *
 * @example
 * const worker = connectWorker();
 * const runtime = createRuntime({ services: { ...createHostServices(), onEnter: worker.onEnter } });
 * const server = createServer(handler).listen(port, () => worker.ready());
 * worker.drain(server, () => inFlight);
 */
export function connectWorker(options: ConnectWorkerOptions = {}): WorkerConnection {
  connection ??= connect(options);
  return connection;
}

function connect(options: ConnectWorkerOptions): WorkerConnection {
  const clustered = cluster.isWorker && typeof process.send === "function";
  const stderrLog = (line: object) => void process.stderr.write(JSON.stringify(line) + "\n");
  /** Never throws: a closed channel means the primary is gone, and cluster exits this worker for it. */
  const post = (message: object) => {
    if (process.connected) process.send!(message, undefined, {}, () => {});
  };
  // Once the channel is gone (the primary died), lines go to stderr rather than nowhere.
  const forward = (line: object) => (process.connected ? post({ type: "verge:log", line }) : stderrLog(line));
  const log = options.log ?? (clustered ? forward : stderrLog);
  const defaultDeadline = options.drainTimeoutMs ?? 30_000;
  const idText = clustered ? process.env[ENV_WORKER_ID] : undefined;
  const id = idText === undefined ? null : Number(idText);

  const markerPath = clustered ? process.env[ENV_MARKER] : options.markerPath;
  const onEnter = markerPath === undefined || markerPath === "" ? () => {} : createCrashMarker(markerPath);

  let quarantined = new Map<string, QuarantineEntry>();
  const setList = (list: QuarantineEntry[]) => {
    quarantined = new Map(list.map((e) => [e.digest, e]));
  };
  if (clustered) setList(parseList(process.env[ENV_QUARANTINE]));
  const quarantine: QuarantineView = {
    has: (digest) => quarantined.has(digest),
    list: () => [...quarantined.values()],
  };

  const handlers = new Map<string, Set<(m: SupervisorMessage) => void>>();
  let drainTarget: { servers: Closeable[]; inFlight: () => number; options: DrainOptions } | null = null;
  let draining = false;

  /** Steps: 1. stop accepting; 2. wait for in-flight to reach 0 or the deadline; 3. beforeExit; 4. exit 0. */
  function beginDrain(deadlineMs: number, reason: string): void {
    if (draining) return;
    draining = true;
    const target = drainTarget;
    log({ level: "info", event: "worker-drain", worker: id, pid: process.pid, reason, deadlineMs });
    if (target === null) process.exit(0);
    for (const s of target.servers) s.close(() => {});
    const deadline = Date.now() + deadlineMs;
    const finish = async (timedOut: boolean) => {
      clearInterval(timer);
      if (timedOut) log({ level: "warn", event: "worker-drain-timeout", worker: id, pid: process.pid, inFlight: target.inFlight() });
      try {
        await target.options.beforeExit?.();
      } catch (err) {
        log({ level: "error", event: "worker-before-exit-failed", worker: id, pid: process.pid, message: (err as Error).message });
      }
      process.exit(0);
    };
    const timer = setInterval(() => {
      if (target.inFlight() <= 0) void finish(false);
      else if (Date.now() >= deadline) void finish(true);
    }, DRAIN_POLL_MS);
    if (target.inFlight() <= 0) void finish(false);
  }

  /** A handler that throws must not take the worker (and its in-flight requests) down. */
  const runHandler = (h: (m: SupervisorMessage) => void, message: SupervisorMessage) => {
    try {
      h(message);
    } catch (err) {
      log({ level: "error", event: "worker-message-handler-failed", worker: id, pid: process.pid, type: message.type, message: (err as Error).message });
    }
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal (double Ctrl-C) means now.
    if (++signals > 1) process.exit(1);
    beginDrain(defaultDeadline, signal);
  };
  const installSignals = () => {
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  };

  const requester = createRequester(clustered ? post : null);
  const startedAt = new Date().toISOString();
  let status: Record<string, unknown> | null = null;
  let statusSent = "";

  if (clustered) {
    // Ctrl-C and `systemctl stop` signal the whole process group: a worker must
    // not die by that signal (an abnormal exit) while the primary drains it.
    installSignals();
    // Sent from this (the main) thread: a blocked event loop stops them, and the primary kills the worker.
    const beatMs = Number(process.env[ENV_HEARTBEAT] ?? 0);
    if (beatMs > 0) setInterval(() => post({ type: "verge:heartbeat" }), beatMs).unref();
    process.on("message", (message: unknown) => {
      if (requester.settle(message) || !isMessage(message)) return;
      if (message.type === "verge:quarantine") setList(Array.isArray(message.list) ? (message.list as QuarantineEntry[]) : []);
      else if (message.type === "verge:drain") beginDrain(typeof message.deadlineMs === "number" ? message.deadlineMs : defaultDeadline, "primary");
      else for (const h of handlers.get(message.type) ?? []) runHandler(h, message);
    });
  }

  return {
    clustered,
    id,
    quarantine,
    onEnter,
    onMessage(type, handler) {
      let set = handlers.get(type);
      if (set === undefined) handlers.set(type, (set = new Set()));
      set.add(handler);
      return () => void set.delete(handler);
    },
    drain(server, inFlight, drainOptions = {}) {
      const first = drainTarget === null;
      drainTarget = { servers: Array.isArray(server) ? server : [server], inFlight, options: drainOptions };
      if (first && !clustered) installSignals();
    },
    request: (kind, payload, opts) => requester.request(kind, payload, opts?.timeoutMs),
    async workers() {
      if (clustered) return (await requester.request("verge:workers")) as { workers: WorkerInfo[]; quarantine: QuarantineEntry[] };
      return { workers: [{ id: 0, pid: process.pid, startedAt, restarts: 0, ready: true, port: null, status }], quarantine: quarantine.list() };
    },
    log,
    setStatus(next) {
      const text = JSON.stringify(next);
      if (text === statusSent) return;
      statusSent = text;
      status = JSON.parse(text) as Record<string, unknown>;
      if (clustered) post({ type: "verge:status", status });
    },
    ready() {
      // Next tick: node:cluster sends its own "listening" (which carries the
      // port) after the listen callback returns; ready must arrive after it.
      if (clustered) process.nextTick(() => post({ type: "verge:ready" }));
    },
  };
}

function parseList(text: string | undefined): QuarantineEntry[] {
  if (text === undefined || text === "") return [];
  try {
    const list = JSON.parse(text) as unknown;
    return Array.isArray(list) ? (list as QuarantineEntry[]) : [];
  } catch {
    return [];
  }
}
