/**
 * The edge node's cron scheduler (issue 5). One per node: in the node's only
 * process, or in worker slot 0 under the supervisor (the primary runs no user
 * code). Lifecycle of a fire:
 *
 * 1. a timer wakes at the next fire of any job (at most every MAX_SLEEP_MS, so
 *    config changes and clock corrections are picked up);
 * 2. `tick(now)` takes, per job, the latest fire in (last tick, now]; one
 *    older than `graceMs` is logged as missed, not run (as Workers, no catch-up);
 * 3. the node claims the fire at the registry; only the winner goes on (registry
 *    unreachable: nobody runs it, logged and counted);
 * 4. the winner loads the version the function's cron alias routes to first
 *    (env, secrets and limits as for requests) and runs `scheduled()`;
 * 5. the outcome is logged as one JSON line and counted in
 *    `verge_scheduled_total{function,outcome}`.
 */
import { Counter, type Registry } from "prom-client";
import type { Runtime, ServiceHost } from "../../src/runtime/index.ts";
import type { ServiceScope } from "../../src/pipeline/index.ts";
import type { CronClaimResult } from "../../src/shared/protocol.ts";
import type { Quarantine, StateSource } from "../types.ts";
import type { ClaimFn } from "./claim.ts";
import { jobsOf, versionFor, type CronJob } from "./jobs.ts";
import { nextFire } from "../../src/shared/cron.ts";

/** Time and timers, injectable so tests drive fires without waiting minutes. */
export interface CronClock {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

export const systemClock: CronClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Outcomes: `ok`, an error code of the run, or why this node did not run the fire. */
export type FireOutcome = "ok" | "claimed-elsewhere" | "not-configured" | "missed" | "no-version" | `ERR_${string}`;

/** One fire as this node saw it: logged (with `msg: "scheduled"`) and given to `onFire`. */
export interface FireRecord {
  tenant: string;
  function: string;
  version: string | null;
  cron: string;
  /** ISO time of the fire. */
  scheduledTime: string;
  outcome: FireOutcome;
  /** Set when the outcome is an error, or a reason not to run. */
  message?: string;
  /** The node that holds the claim, when another one does. */
  claimedBy?: string;
  cpuMs?: number;
  wallMs?: number;
}

export interface CronSchedulerOptions {
  state: Pick<StateSource, "current" | "load" | "subscribe">;
  runtime: Pick<Runtime, "scheduled">;
  claim: ClaimFn;
  nodeId: string;
  quarantine?: Quarantine;
  /** `verge_scheduled_total` is registered here. */
  registry?: Registry;
  log: (line: object) => void;
  clock?: CronClock;
  /** A fire found later than this after its time is not run. Default 60 s. */
  graceMs?: number;
  /**
   * Service bindings of a run (`env.NAME.fetch()` in `scheduled()`): the pipeline's, run as a
   * request's (`EdgePipeline.serviceHost`), under the run's request id. Without it the calls fail.
   */
  services?: (scope: ServiceScope) => ServiceHost | undefined;
  /** Each fire as `report` logs it, with what the run wrote to the console when it ran (for verge logs). */
  onFire?: (record: FireRecord, logs?: FireLogLine[]) => void;
}

/** A console line of a cron run. */
export interface FireLogLine {
  at: string;
  level: string;
  message: string;
}

export interface CronScheduler {
  /** Runs the fires due at `now` (the clock's now by default); resolves when they have finished. */
  tick(now?: number): Promise<FireRecord[]>;
  stop(): void;
}

const MAX_SLEEP_MS = 30_000;

export function startCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const clock = options.clock ?? systemClock;
  const graceMs = options.graceMs ?? 60_000;
  const counter =
    options.registry === undefined
      ? undefined
      : new Counter({ name: "verge_scheduled_total", help: "Cron fires seen by this node, by outcome (ok, an error code, or why it did not run).", labelNames: ["function", "outcome"], registers: [options.registry] });
  let lastChecked = clock.now();
  let timer: { cancel(): void } | undefined;
  let stopped = false;

  function report(record: FireRecord, logs?: FireLogLine[]): FireRecord {
    options.log({ msg: "scheduled", node: options.nodeId, ...record });
    counter?.inc({ function: `${record.tenant}/${record.function}`, outcome: record.outcome });
    options.onFire?.(record, logs);
    return record;
  }

  async function fire(job: CronJob, time: number): Promise<FireRecord> {
    const base = { tenant: job.tenant, function: job.function, cron: job.cron, scheduledTime: new Date(time).toISOString() };
    const state = options.state.current();
    const ref = versionFor(state, job);
    if ("missing" in ref) return report({ ...base, version: null, outcome: "no-version", message: ref.missing });
    const version = ref.digest;
    // A version this node quarantined is left to the other nodes: do not claim it.
    if (options.quarantine?.has(version)) return report({ ...base, version, outcome: "ERR_FUNCTION_QUARANTINED", message: "quarantined on this node; not claimed" });
    let claim: CronClaimResult;
    try {
      claim = await options.claim({ tenant: job.tenant, function: job.function, cron: job.cron, scheduledTime: time, node: options.nodeId });
    } catch (err) {
      const code = ((err as { code?: string }).code ?? "ERR_INTERNAL") as `ERR_${string}`;
      return report({ ...base, version, outcome: code, message: `not run: ${(err as Error).message}` });
    }
    if (!claim.run) {
      return claim.reason === "not-configured"
        ? report({ ...base, version, outcome: "not-configured", message: "the registry has no such cron for the function any more" })
        : report({ ...base, version, outcome: "claimed-elsewhere", ...(claim.node === undefined ? {} : { claimedBy: claim.node }) });
    }
    try {
      const spec = await options.state.load(state, ref);
      // Its service calls' records carry the run's id, the one its own LogEvent has (log-shipper.ts).
      const service = options.services?.({ tenant: job.tenant, state, requestId: `scheduled:${job.tenant}/${job.function}@${base.scheduledTime}` });
      const { finished } = await options.runtime.scheduled(spec, job.cron, time, service === undefined ? {} : { service });
      const r = await finished;
      const usage = { cpuMs: round(r.limits.cpuMs.used), wallMs: round(r.limits.wallMs.used) };
      const logs = r.logs.map((l) => ({ at: new Date(l.timestamp).toISOString(), level: l.level, message: l.message }));
      const failure = r.error ?? r.waitUntilErrors[0];
      if (failure !== undefined) return report({ ...base, version, outcome: failure.code as `ERR_${string}`, message: failure.message, ...usage }, logs);
      return report({ ...base, version, outcome: "ok", ...usage }, logs);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return report({ ...base, version, outcome: (e.code ?? "ERR_INTERNAL") as `ERR_${string}`, message: e.message ?? String(err) });
    }
  }

  async function tick(now = clock.now()): Promise<FireRecord[]> {
    const from = lastChecked;
    if (now <= from) return [];
    lastChecked = now;
    const runs: Array<Promise<FireRecord>> = [];
    for (const job of jobsOf(options.state.current())) {
      // The latest fire in (from, now]: fires missed while the process was busy or asleep are not all replayed.
      let due: number | undefined;
      for (let t = nextFire(job.schedule, new Date(from)).getTime(); t <= now; t = nextFire(job.schedule, new Date(t)).getTime()) due = t;
      if (due === undefined) continue;
      if (now - due > graceMs) {
        runs.push(Promise.resolve(report({ tenant: job.tenant, function: job.function, version: null, cron: job.cron, scheduledTime: new Date(due).toISOString(), outcome: "missed", message: `found ${Math.round((now - due) / 1000)} s late; not run` })));
        continue;
      }
      runs.push(fire(job, due));
    }
    return Promise.all(runs);
  }

  function arm(): void {
    if (stopped) return;
    timer?.cancel();
    const now = clock.now();
    let next = now + MAX_SLEEP_MS;
    for (const job of jobsOf(options.state.current())) next = Math.min(next, nextFire(job.schedule, new Date(Math.max(now, lastChecked))).getTime());
    timer = clock.setTimer(() => {
      // Fires run in the background: a long scheduled() never delays the next tick.
      void tick().catch((err) => options.log({ msg: "scheduler tick failed", error: (err as Error).message }));
      arm();
    }, Math.max(0, next - now));
  }

  const unsubscribe = options.state.subscribe(() => arm());
  arm();
  return {
    tick,
    stop() {
      stopped = true;
      unsubscribe();
      timer?.cancel();
    },
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
