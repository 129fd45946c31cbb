/**
 * The clocks a sandbox charges guest entries by: this thread's CPU time, the
 * reading every sandbox on the thread shares, and the wall-time backstop of an
 * entry (scaled by the machine's load, rounded to a grid). See Sandbox#measured.
 */
import { availableParallelism, loadavg } from "node:os";

/**
 * This thread's CPU time in µs (Node ≥ 23.9 has `process.threadCpuUsage`, a
 * getrusage(RUSAGE_THREAD) syscall: 2–6 µs right after an isolate call on these
 * VMs); without it, wall time, which can only overstate CPU.
 *
 * On Linux, RUSAGE_THREAD reports the scheduler's runtime of the thread as of its
 * last update, at a tick or a context switch: a running thread's reading lags by up
 * to a tick (4 ms at HZ=250), never leads. `exact` first calls getrusage(RUSAGE_SELF)
 * (`process.cpuUsage`, ~3 µs more), which brings the calling thread's runtime up to
 * date (thread_group_cputime() calls task_sched_runtime(current), Linux ≥ 3.17).
 * A lagging reading before an entry and an exact one after it can only overstate
 * the entry's CPU; two lagging ones mostly read an entry of a few hundred µs as none.
 */
export const threadCpuUs: (exact: boolean) => number =
  typeof process.threadCpuUsage === "function"
    ? (exact) => {
        if (exact) process.cpuUsage();
        const u = process.threadCpuUsage();
        return u.user + u.system;
      }
    : () => performance.now() * 1000;

/**
 * The latest reading of this thread's CPU clock and the wall time it was taken at,
 * shared by every sandbox (they all run on this thread). See `Sandbox#measured`.
 */
export const clockRef = { cpuUs: 0, atMs: -Infinity };

/**
 * How much slower than its CPU time a call may run in wall time because the
 * machine is busy: the one-minute load per core, at least 1 and at most 20,
 * read at most once a second. The per-call backstop (a wall-time timeout) is
 * scaled by it, so an overloaded host does not kill a function that did not
 * use its CPU budget (the CPU read still decides the verdict).
 */
const busy = { factor: 1, atMs: -Infinity };
const CORES = availableParallelism();
export function busyFactor(): number {
  const now = Date.now();
  if (now - busy.atMs > 1_000) {
    busy.atMs = now;
    busy.factor = Math.min(20, Math.max(1, loadavg()[0]! / CORES));
  }
  return busy.factor;
}

/**
 * isolated-vm runs each call's `timeout` as a timer on a thread of its own, which sleeps until the
 * earliest timer in its queue and wakes for every one, even one whose call returned long ago (its
 * timer is only marked dead): a wake-up per guest entry, ≈ 10–15 µs of CPU on that thread per
 * request under load. The backstop only has to stop a runaway, so its expiry is rounded up to a
 * grid of BACKSTOP_GRID_MS: the timers of every entry in one grid slot expire within the same
 * millisecond, and one wake-up clears all that expired by then.
 */
const BACKSTOP_GRID_MS = 32;
export function backstopMs(ms: number): number {
  const now = performance.now();
  return Math.max(1, Math.ceil(Math.ceil((now + ms) / BACKSTOP_GRID_MS) * BACKSTOP_GRID_MS - now));
}

/** Entries shorter than this (wall µs) are charged their wall time as CPU; the bound of the overcharge (see `#measured`). */
export const EXACT_AFTER_US = 250;
