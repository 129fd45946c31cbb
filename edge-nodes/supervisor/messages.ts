/**
 * What the supervisor's primary and its workers say to each other (cluster
 * IPC), and what a worker finds in its environment at start. IPC is one JSON
 * message per event, never per request: a round trip costs about 60 µs.
 */
import type { Quarantine } from "../types.ts";

/** One quarantined version: keyed by digest, so a new deploy (new digest) is never quarantined. */
export interface QuarantineEntry {
  digest: string;
  /** The function id the last crash was blamed on (`tenant/function/digest`). */
  functionId: string;
  /** Crashes counted when it was quarantined (and any later). */
  crashes: number;
  /** ISO time it was quarantined. */
  since: string;
}

/** One live worker, as the primary sees it. */
export interface WorkerInfo {
  /** Slot, 0-based; stable across restarts. */
  id: number;
  pid: number;
  /** ISO time the current process started. */
  startedAt: string;
  /** How many times this slot's worker was replaced. */
  restarts: number;
  /** Said ready (listening). */
  ready: boolean;
  /** Port the worker listens on (from cluster's `listening` event), null until then. */
  port: number | null;
  /** What the worker last said of itself with `setStatus` (an edge worker: the seq its data plane applied); null until it does. */
  status: Record<string, unknown> | null;
}

/** The pipeline's view, with the richer entry type. */
export interface QuarantineView extends Quarantine {
  list(): QuarantineEntry[];
}

/** Primary → worker: the whole quarantine list, after every change and to each worker that starts. */
export interface QuarantineMessage {
  type: "verge:quarantine";
  list: QuarantineEntry[];
}

/** Primary → worker: stop accepting, finish in-flight requests within `deadlineMs`, exit 0. */
export interface DrainMessage {
  type: "verge:drain";
  deadlineMs: number;
}

/** Worker → primary: listening and able to serve. */
export interface ReadyMessage {
  type: "verge:ready";
}

/** Worker → primary, every `VERGE_SUPERVISOR_HEARTBEAT_MS` from the main thread: its event loop turns. */
export interface HeartbeatMessage {
  type: "verge:heartbeat";
}

/** Worker → primary: the worker's status (`setStatus`), sent when it changes; the primary lists it in `workers()`. */
export interface StatusMessage {
  type: "verge:status";
  status: Record<string, unknown>;
}

/** Worker → primary: one structured log line, passed to the primary's `log` with `worker` and `pid` added. */
export interface LogMessage {
  type: "verge:log";
  line: Record<string, unknown>;
}

/** A message `broadcast()` sends and `onMessage(type, …)` receives; `verge:*` types are reserved. */
export interface SupervisorMessage {
  type: string;
  [key: string]: unknown;
}

/**
 * Environment of a worker process, set by the primary at fork. Plumbing between
 * the supervisor and its own children, not configuration (CONVENTIONS.md reads
 * `VERGE_*` configuration only in server.ts and the CLI): the marker path and
 * the quarantine list must be known synchronously, before the first onEnter.
 */
export const ENV_WORKER_ID = "VERGE_SUPERVISOR_WORKER";
export const ENV_MARKER = "VERGE_SUPERVISOR_MARKER";
export const ENV_QUARANTINE = "VERGE_SUPERVISOR_QUARANTINE";
/** Heartbeat interval in ms; absent or 0: no heartbeats (hang detection off). */
export const ENV_HEARTBEAT = "VERGE_SUPERVISOR_HEARTBEAT_MS";

export function isMessage(value: unknown): value is SupervisorMessage {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}
