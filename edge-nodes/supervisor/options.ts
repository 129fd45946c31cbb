/** The supervisor's options, validated and with defaults filled. */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isAbsolute } from "node:path";
import { VergeError } from "../../src/shared/errors.ts";
import { DEFAULT_QUARANTINE_RULE, type QuarantineRule } from "./quarantine.ts";

export interface SupervisorOptions {
  /** Worker processes (default `os.availableParallelism()`). */
  workers?: number;
  /** Absolute path of the worker entry module; it calls `connectWorker()`. */
  workerScript: string;
  workerArgs?: string[];
  /** Node flags of the workers (default the primary's); `--no-node-snapshot` is added when missing (isolated-vm needs it). */
  execArgv?: string[];
  /** Added to the primary's environment for the workers. */
  env?: Record<string, string>;
  /** Where crash markers (`workers/<n>.marker`) and `quarantine.json` live. */
  dataDir: string;
  /** Default 3 crashes of one digest within 10 minutes. */
  quarantine?: QuarantineRule;
  /** One object per event (default: a JSON line on stderr). */
  log?: (line: object) => void;
  /**
   * A dead worker is replaced at once; one that dies again within `stableAfter`
   * ms of its start waits `initial` ms, doubling each time up to `max`
   * (default 100 ms → 5 s, stable after 10 s).
   */
  restartBackoffMs?: { initial?: number; max?: number; stableAfter?: number };
  /** Deaths before ready, in a row, that reject `ready` (default 3; restarts go on). */
  startAttempts?: number;
  /** Drain deadline of `stop()` and of signals (default 30 s, origin events' wall limit). */
  drainTimeoutMs?: number;
  /** Past the drain deadline, how long before remaining workers are killed (default 1 s). */
  killGraceMs?: number;
  /**
   * A ready worker whose main thread sends no heartbeat for this long is killed
   * and its crash blamed (default 30 s; 0 turns hang detection off).
   */
  hangTimeoutMs?: number;
  /** Stop gracefully on SIGTERM/SIGINT and exit 0; a second signal kills at once (default true). */
  handleSignals?: boolean;
  /** Connection balancing: "round-robin" in the primary (node's default) or left to the "os". Process-wide. */
  scheduling?: "round-robin" | "os";
}

export interface SupervisorConfig {
  workers: number;
  workerScript: string;
  workerArgs: string[];
  execArgv: string[];
  env: Record<string, string>;
  dataDir: string;
  quarantine: QuarantineRule;
  log: (line: object) => void;
  restartBackoffMs: { initial: number; max: number; stableAfter: number };
  startAttempts: number;
  drainTimeoutMs: number;
  killGraceMs: number;
  hangTimeoutMs: number;
  handleSignals: boolean;
  scheduling: "round-robin" | "os" | undefined;
}

const defaultLog = (line: object) => process.stderr.write(JSON.stringify({ at: new Date().toISOString(), ...line }) + "\n");

/** Reports every problem at once, in one ERR_INVALID_OPTIONS. */
export function resolveSupervisorOptions(o: SupervisorOptions): SupervisorConfig {
  const problems: string[] = [];
  const positiveInt = (path: string, v: unknown) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) problems.push(`${path}: expected a positive integer, found ${JSON.stringify(v)}`);
  };
  const nonNegative = (path: string, v: unknown) => {
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) problems.push(`${path}: expected a number ≥ 0, found ${JSON.stringify(v)}`);
  };
  positiveInt("workers", o.workers);
  positiveInt("startAttempts", o.startAttempts);
  positiveInt("quarantine.crashes", o.quarantine?.crashes);
  positiveInt("quarantine.windowMs", o.quarantine?.windowMs);
  nonNegative("restartBackoffMs.initial", o.restartBackoffMs?.initial);
  nonNegative("restartBackoffMs.max", o.restartBackoffMs?.max);
  nonNegative("restartBackoffMs.stableAfter", o.restartBackoffMs?.stableAfter);
  nonNegative("drainTimeoutMs", o.drainTimeoutMs);
  nonNegative("killGraceMs", o.killGraceMs);
  nonNegative("hangTimeoutMs", o.hangTimeoutMs);
  if (typeof o.workerScript !== "string" || !isAbsolute(o.workerScript)) problems.push(`workerScript: expected an absolute path, found ${JSON.stringify(o.workerScript)}`);
  else if (!existsSync(o.workerScript)) problems.push(`workerScript: expected an existing file, found nothing at ${o.workerScript}`);
  if (typeof o.dataDir !== "string" || o.dataDir === "") problems.push(`dataDir: expected a directory path, found ${JSON.stringify(o.dataDir)}`);
  if (o.scheduling !== undefined && o.scheduling !== "round-robin" && o.scheduling !== "os") problems.push(`scheduling: expected "round-robin" or "os", found ${JSON.stringify(o.scheduling)}`);
  if (problems.length > 0) throw new VergeError("ERR_INVALID_OPTIONS", `invalid supervisor options:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { details: { problems } });

  const execArgv = [...(o.execArgv ?? process.execArgv)];
  if (!execArgv.includes("--no-node-snapshot")) execArgv.push("--no-node-snapshot");
  return {
    workers: o.workers ?? availableParallelism(),
    workerScript: o.workerScript,
    workerArgs: o.workerArgs ?? [],
    execArgv,
    env: o.env ?? {},
    dataDir: o.dataDir,
    quarantine: { ...DEFAULT_QUARANTINE_RULE, ...o.quarantine },
    log: o.log ?? defaultLog,
    restartBackoffMs: { initial: 100, max: 5_000, stableAfter: 10_000, ...stripUndefined(o.restartBackoffMs ?? {}) },
    startAttempts: o.startAttempts ?? 3,
    drainTimeoutMs: o.drainTimeoutMs ?? 30_000,
    killGraceMs: o.killGraceMs ?? 1_000,
    hangTimeoutMs: o.hangTimeoutMs ?? 30_000,
    handleSignals: o.handleSignals ?? true,
    scheduling: o.scheduling,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
