/**
 * Which workers of a supervised node serve an older state than the node has
 * applied, and for how long. Each worker says the seq its data plane applied
 * (`setStatus`, server.ts); the primary, which follows the feed, compares it
 * with its own. A worker lagging for a moment is normal (it re-reads the state
 * after the primary's reload message); one that stays behind serves an old
 * deploy, and the node's health says so (`behind`, `ok: false`). Before, health
 * showed the higher of the primary's seq and the answering worker's, which hid
 * a worker serving an old state (issue 4).
 */
import type { EdgeWorkerHealth } from "./app.ts";
import type { WorkerInfo } from "./supervisor/index.ts";

/** A worker behind for longer than this makes the node `behind` (and not ok). */
export const BEHIND_AFTER_SECONDS = 5;

export interface WorkerLag {
  /** The workers as health lists them, seen now against the node's applied seq. */
  observe(nodeSeq: number, workers: readonly WorkerInfo[]): EdgeWorkerHealth[];
}

/**
 * @example
 * const lag = createWorkerLag();
 * setInterval(() => broadcast({ workers: lag.observe(sync.status().appliedSeq, supervisor.workers()) }), 1000);
 */
export function createWorkerLag(now: () => number = Date.now): WorkerLag {
  /** pid → when it was first seen behind (a restarted worker is a new pid). */
  const since = new Map<number, number>();
  return {
    observe(nodeSeq, workers) {
      const at = now();
      const live = new Set<number>();
      const out = workers.map((w): EdgeWorkerHealth => {
        live.add(w.pid);
        const seq = typeof w.status?.["appliedSeq"] === "number" ? (w.status["appliedSeq"] as number) : null;
        // A worker not ready yet serves nothing; once ready, one that has not said its seq is behind too.
        const behind = w.ready && (seq === null || seq < nodeSeq);
        if (!behind) since.delete(w.pid);
        else if (!since.has(w.pid)) since.set(w.pid, at);
        const from = since.get(w.pid);
        return { id: w.id, pid: w.pid, startedAt: w.startedAt, restarts: w.restarts, appliedSeq: seq, behindSeconds: from === undefined ? 0 : Math.round((at - from) / 100) / 10 };
      });
      for (const pid of since.keys()) if (!live.has(pid)) since.delete(pid);
      return out;
    },
  };
}

/** The node is behind when a worker has been for more than {@link BEHIND_AFTER_SECONDS}. */
export function isBehind(workers: readonly EdgeWorkerHealth[]): boolean {
  return workers.some((w) => w.behindSeconds > BEHIND_AFTER_SECONDS);
}
