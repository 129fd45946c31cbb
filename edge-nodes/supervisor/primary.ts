/**
 * The edge node's process model (issue 4, DESIGN.md §5): a primary that runs
 * one worker process per core, each a full data plane, all sharing the
 * listening port.
 *
 * Why node:cluster rather than child_process.fork with handle passing: cluster
 * already shares a listening socket between processes (round-robin accept in
 * the primary by default, or the OS's own balancing), keeps doing so while
 * workers come and go, and its IPC channel is the one prom-client's
 * AggregatorRegistry uses for the node's metrics. Handle passing would rebuild
 * the same thing by hand.
 */
import cluster from "node:cluster";
import type { Worker } from "node:cluster";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { VergeError } from "../../src/shared/errors.ts";
import { clearCrashMarker, readCrashMarker } from "./marker.ts";
import { createHangWatch } from "./hang-watch.ts";
import { guardHandoffs } from "./handoff-guard.ts";
import { handleStopSignals } from "./signals.ts";
import { ENV_HEARTBEAT, ENV_MARKER, ENV_QUARANTINE, ENV_WORKER_ID, isMessage } from "./messages.ts";
import type { QuarantineView, SupervisorMessage, WorkerInfo } from "./messages.ts";
import { createRequestRouter, type RequestHandler } from "./requests.ts";
import { createCrashLedger } from "./quarantine.ts";
import { resolveSupervisorOptions, type SupervisorOptions } from "./options.ts";

export interface Supervisor {
  /** Resolves when every worker said ready; rejects when one keeps dying before it does. */
  ready: Promise<void>;
  /** Sends `message` to every live worker (e.g. `{ type: "reload" }` after sync applied a state). */
  broadcast(message: SupervisorMessage): void;
  /** The primary's view of the quarantine. */
  quarantine: QuarantineView;
  /** Lifts a quarantine (operator action) and tells the workers; false when it was not quarantined. */
  release(digest: string): boolean;
  /** Live workers; workers get the same list with `request("verge:workers")` (or `workers()`). */
  workers(): WorkerInfo[];
  /** Answers workers' `request(kind, payload)` (e.g. metrics summed over workers); `verge:*` kinds are reserved. */
  onRequest(kind: string, handler: RequestHandler): () => void;
  /** Graceful: workers drain in-flight requests, those still alive at the deadline are killed. */
  stop(options?: { deadlineMs?: number }): Promise<void>;
}

interface Slot {
  id: number;
  worker: Worker | null;
  startedAt: number;
  restarts: number;
  ready: boolean;
  port: number | null;
  /** The worker's `setStatus`, null until it says one. */
  status: Record<string, unknown> | null;
  /** Deaths in a row that came soon after start (drive the backoff). */
  quickDeaths: number;
  /** Deaths before ready in a row (during the first start, reject `ready`). */
  earlyDeaths: number;
  /** Killed by the supervisor itself: never a crash, unless it hung. */
  killed: boolean;
  hung: boolean;
  timer: NodeJS.Timeout | null;
}

let active = false;

/**
 * Starts the workers. Call once, in the primary process.
 *
 * @example
 * const supervisor = startSupervisor({ workerScript: new URL("./worker.ts", import.meta.url).pathname, dataDir });
 * await supervisor.ready;
 */
export function startSupervisor(options: SupervisorOptions): Supervisor {
  const config = resolveSupervisorOptions(options);
  if (!cluster.isPrimary) throw new VergeError("ERR_SUPERVISOR_NOT_PRIMARY", "startSupervisor: expected to run in the primary process, found a cluster worker");
  if (active) throw new VergeError("ERR_SUPERVISOR_ACTIVE", "startSupervisor: a supervisor already runs in this process (node:cluster settings are process-wide); stop it first");
  const { log } = config;
  const ledger = createCrashLedger({
    rule: config.quarantine,
    file: join(config.dataDir, "quarantine.json"),
    onSaveError: (err) => log({ level: "error", event: "quarantine-write-failed", message: err.message }),
  });
  // Fails here (not in a restart) when dataDir is not writable.
  mkdirSync(join(config.dataDir, "workers"), { recursive: true });
  active = true;
  const markerOf = (slot: Slot) => join(config.dataDir, "workers", `${slot.id}.marker`);

  if (config.scheduling !== undefined) cluster.schedulingPolicy = config.scheduling === "os" ? cluster.SCHED_NONE : cluster.SCHED_RR;
  cluster.setupPrimary({ exec: config.workerScript, args: config.workerArgs, execArgv: config.execArgv });

  let stopping: Promise<void> | null = null;
  let markReady: () => void = () => {};
  let failReady: (err: Error) => void = () => {};
  let settled = false;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => {}); // a caller that never awaits it must not crash the primary
  const slots: Slot[] = Array.from({ length: config.workers }, (_, id) => ({
    id, worker: null, startedAt: 0, restarts: 0, ready: false, port: null, status: null, quickDeaths: 0, earlyDeaths: 0, killed: false, hung: false, timer: null,
  }));

  function send(worker: Worker, message: object): void {
    if (!worker.isConnected()) return;
    try {
      worker.send(message, () => {}); // the callback takes EPIPE from a worker that is dying
    } catch {
      // channel closed between the check and the send: its exit handler takes over
    }
  }

  const hangWatch =
    config.hangTimeoutMs > 0
      ? createHangWatch(config.hangTimeoutMs, (id, silentMs) => {
          const slot = slots[id]!;
          if (slot.worker === null || stopping !== null) return;
          log({ level: "error", event: "worker-hung", worker: id, pid: slot.worker.process.pid, silentMs });
          slot.killed = slot.hung = true;
          slot.worker.process.kill("SIGKILL");
        })
      : null;

  const router = createRequestRouter();
  router.on("verge:workers", () => ({ workers: listWorkers(), quarantine: ledger.list() }));
  const listWorkers = (): WorkerInfo[] =>
    slots.flatMap((s) =>
      s.worker === null ? [] : [{ id: s.id, pid: s.worker.process.pid ?? 0, startedAt: new Date(s.startedAt).toISOString(), restarts: s.restarts, ready: s.ready, port: s.port, status: s.status }],
    );

  /** A worker's log line, to the primary's `log` with the worker's slot and pid (the line's own fields win). */
  const forwardLog = (id: number, pid: number, line: unknown): void => {
    if (typeof line === "object" && line !== null && !Array.isArray(line)) log({ worker: id, pid, ...line });
  };

  const quarantineMessage = () => ({ type: "verge:quarantine", list: ledger.list() });

  function fork(slot: Slot): void {
    slot.timer = null;
    clearCrashMarker(markerOf(slot));
    const worker = cluster.fork({
      ...config.env,
      [ENV_WORKER_ID]: String(slot.id),
      [ENV_MARKER]: markerOf(slot),
      [ENV_QUARANTINE]: JSON.stringify(ledger.list()),
      [ENV_HEARTBEAT]: String(hangWatch?.intervalMs ?? 0),
    });
    Object.assign(slot, { worker, startedAt: Date.now(), ready: false, port: null, status: null, killed: false, hung: false });
    const pid = worker.process.pid ?? 0;
    log({ level: "info", event: "worker-start", worker: slot.id, pid, restarts: slot.restarts });
    // Connections handed to this worker and never taken are closed once it is gone (see handoff-guard.ts).
    guardHandoffs(worker, (count) => log({ level: "warn", event: "worker-connections-closed", worker: slot.id, pid, count }));
    worker.on("error", (err) => log({ level: "warn", event: "worker-ipc-error", worker: slot.id, pid, message: err.message }));
    worker.on("listening", (address) => {
      slot.port = address.port;
      // The list may have changed between fork and now: send the current one.
      send(worker, quarantineMessage());
    });
    worker.on("message", (message: unknown) => {
      if (router.handle(message, { id: slot.id, pid }, (reply) => send(worker, reply))) return;
      if (!isMessage(message)) return;
      if (message.type === "verge:heartbeat") return hangWatch?.beat(slot.id);
      if (message.type === "verge:log") return forwardLog(slot.id, pid, message.line);
      if (message.type === "verge:status") {
        if (slot.worker === worker && typeof message.status === "object" && message.status !== null) slot.status = message.status as Record<string, unknown>;
        return;
      }
      if (message.type !== "verge:ready") return;
      hangWatch?.watch(slot.id);
      slot.ready = true;
      slot.earlyDeaths = 0;
      log({ level: "info", event: "worker-ready", worker: slot.id, pid, port: slot.port });
      if (!settled && slots.every((s) => s.ready)) {
        settled = true;
        markReady();
      }
      if (stopping !== null) send(worker, { type: "verge:drain", deadlineMs: config.drainTimeoutMs });
    });
    worker.on("exit", (code, signal) => {
      try {
        onExit(slot, worker, pid, code, signal);
      } catch (err) {
        log({ level: "error", event: "supervisor-error", worker: slot.id, message: (err as Error).stack ?? String(err) });
      }
    });
  }

  /** Steps: 1. blame (abnormal, not ours, not stopping); 2. log; 3. replace, with backoff. */
  function onExit(slot: Slot, worker: Worker, pid: number, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    hangWatch?.forget(slot.id);
    const abnormal = signal !== null || code !== 0;
    const crash = abnormal && (!slot.killed || slot.hung) && stopping === null;
    const blamed = crash ? readCrashMarker(markerOf(slot)) : null;
    const uptimeMs = Date.now() - slot.startedAt;
    let delay = 0;
    if (stopping === null) {
      slot.quickDeaths = uptimeMs < config.restartBackoffMs.stableAfter ? slot.quickDeaths + 1 : 1;
      delay = slot.quickDeaths <= 1 ? 0 : Math.min(config.restartBackoffMs.max, config.restartBackoffMs.initial * 2 ** (slot.quickDeaths - 2));
    }
    log({ level: crash ? "error" : "info", event: "worker-exit", worker: slot.id, pid, code, signal, crash, hung: slot.hung, blamed, uptimeMs, restartInMs: stopping === null ? delay : null });
    if (blamed !== null) blame(blamed);
    if (stopping !== null) {
      checkStopped();
      return;
    }
    if (!slot.ready && !settled && ++slot.earlyDeaths >= config.startAttempts) {
      settled = true;
      failReady(new VergeError("ERR_WORKER_START_FAILED", `worker ${slot.id} (${config.workerScript}) exited ${slot.earlyDeaths} times before it was ready (last: ${signal ?? `code ${code}`}); expected it to call ready() once listening`));
    }
    slot.restarts++;
    slot.timer = setTimeout(() => forkOrRetry(slot), delay);
  }

  /** Counts the crash; a new quarantine goes to every worker at once. */
  function blame(functionId: string): void {
    const entry = ledger.recordCrash(functionId);
    if (entry === null) return;
    log({ level: "error", event: "quarantine", digest: entry.digest, functionId: entry.functionId, crashes: entry.crashes, windowMs: config.quarantine.windowMs });
    broadcastRaw(quarantineMessage());
  }

  /** A failed fork (EAGAIN, a full disk for the marker) must not kill the primary: try again later. */
  function forkOrRetry(slot: Slot): void {
    try {
      fork(slot);
    } catch (err) {
      log({ level: "error", event: "worker-fork-failed", worker: slot.id, message: (err as Error).message });
      slot.timer = setTimeout(() => forkOrRetry(slot), config.restartBackoffMs.max);
    }
  }

  function broadcastRaw(message: object): void {
    for (const s of slots) if (s.worker !== null) send(s.worker, message);
  }

  let stopped: () => void = () => {};
  function checkStopped(): void {
    if (slots.some((s) => s.worker !== null)) return;
    clearTimeout(killTimer);
    hangWatch?.stop();
    removeSignals();
    active = false;
    log({ level: "info", event: "supervisor-stopped" });
    stopped();
  }

  let killTimer: NodeJS.Timeout | undefined;
  function killAll(): void {
    for (const s of slots) {
      if (s.worker === null) continue;
      s.killed = true;
      log({ level: "warn", event: "worker-kill", worker: s.id, pid: s.worker.process.pid });
      s.worker.process.kill("SIGKILL");
    }
  }

  /** Steps: 1. no more restarts; 2. ready workers drain, starting ones get SIGTERM; 3. SIGKILL at the deadline. */
  function stop(opts: { deadlineMs?: number } = {}): Promise<void> {
    if (stopping !== null) return stopping;
    const deadlineMs = opts.deadlineMs ?? config.drainTimeoutMs;
    log({ level: "info", event: "supervisor-stopping", deadlineMs });
    stopping = new Promise<void>((resolve) => (stopped = resolve));
    if (!settled) {
      settled = true;
      failReady(new VergeError("ERR_SUPERVISOR_STOPPED", "supervisor: stopped before every worker was ready"));
    }
    for (const s of slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      s.timer = null;
      if (s.worker === null) continue;
      // A worker not ready yet may not listen for messages yet; it has nothing in flight.
      if (s.ready) send(s.worker, { type: "verge:drain", deadlineMs });
      else s.worker.process.kill("SIGTERM");
    }
    killTimer = setTimeout(killAll, deadlineMs + config.killGraceMs);
    checkStopped();
    return stopping;
  }

  const removeSignals = config.handleSignals ? handleStopSignals({ stop, killAll, log }) : () => {};

  for (const slot of slots) fork(slot);

  return {
    ready,
    broadcast(message) {
      if (!isMessage(message) || message.type.startsWith("verge:")) {
        throw new VergeError("ERR_INVALID_OPTIONS", `broadcast: expected a message with a string \`type\` outside the reserved "verge:" prefix, found ${JSON.stringify(message)?.slice(0, 80)}`);
      }
      broadcastRaw(message);
    },
    quarantine: { has: (digest) => ledger.has(digest), list: () => ledger.list() },
    release(digest) {
      const had = ledger.release(digest);
      if (had) {
        log({ level: "info", event: "quarantine-released", digest });
        broadcastRaw(quarantineMessage());
      }
      return had;
    },
    workers: listWorkers,
    onRequest(kind, handler) {
      if (kind.startsWith("verge:")) throw new VergeError("ERR_INVALID_OPTIONS", `onRequest: expected a kind outside the reserved "verge:" prefix, found "${kind}"`);
      return router.on(kind, handler);
    },
    stop,
  };
}
