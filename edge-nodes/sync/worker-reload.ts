/**
 * A worker process's side of the applied state (supervised node, server.ts):
 * the primary follows the feed, persists each state in the node's LMDB, then
 * sends `edge:reload { seq }`; the worker re-reads. Issue 4/6: a node reported
 * a deploy applied while its only worker kept serving the previous version.
 *
 * Why a read can be behind: lmdb-js serves every read of a process from one read
 * transaction, from the first read after its last reset until a setTimeout(0)
 * resets it. A request that read anything (a cache lookup) just before the
 * primary's commit pins a snapshot without that commit, and a reload message
 * handled before the timer reads the old mark. (A commit made by this process
 * resets the snapshot itself, so a node without workers never showed it.)
 * Resetting lmdb-js's read transaction by hand (`resetReadTxn()`) was tried and
 * crashed its own timer later ("Attempt to reset an invalid read txn").
 *
 * 1. On a reload message, read; while the state read is older than the message's
 *    `seq`, read again after 1, 2, 5, 10, … ms (about 3 s in all). The first
 *    re-read, after lmdb's timer, normally has it; more than two re-reads is
 *    logged as a warning, giving up as an error.
 * 2. Safety net: on each status message from the primary (every second) carrying
 *    the primary's applied seq, a worker whose state differs re-reads, and logs
 *    when that found a state the reload messages had not brought.
 *
 * @example
 * const follow = followPrimaryState(plane.sync, { log });
 * worker.onMessage("edge:reload", (m) => follow.reload(m.seq));
 * worker.onMessage("edge:status", (m) => follow.check(m.sync.appliedSeq));
 */
export interface ReloadableState {
  current(): { seq: number };
  /** Re-reads the persisted state; with `seq`, whether it is now at least that. */
  reload(seq?: number): boolean;
}

export interface WorkerReloadOptions {
  log?: (line: Record<string, unknown>) => void;
  /** Delays between re-reads while behind a reload message's seq (tests shorten them). */
  retryDelaysMs?: readonly number[];
}

export interface WorkerReload {
  /** A reload message from the primary: the state it applied has this seq. */
  reload(seq: number | undefined): void;
  /** The primary's applied seq from its periodic status message. */
  check(seq: number | undefined): void;
  /** Re-reads so far (each after a read that was behind its message's seq). */
  rereads(): number;
  stop(): void;
}

const RETRY_DELAYS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1000] as const;
/** Re-reads that are the expected cost of lmdb-js's snapshot timer: not logged. */
const QUIET_REREADS = 2;

export function followPrimaryState(sync: ReloadableState, options: WorkerReloadOptions = {}): WorkerReload {
  const log = options.log ?? (() => {});
  const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  /** The highest seq a reload message asked for and not yet read, with the retry in progress. */
  let pending: { seq: number; attempt: number; timer: NodeJS.Timeout | undefined; since: number } | undefined;
  let stopped = false;
  let rereads = 0;

  function retry(): void {
    const p = pending!;
    p.timer = undefined;
    if (stopped) return;
    rereads++;
    if (sync.reload(p.seq)) {
      if (p.attempt > QUIET_REREADS) log({ level: "warn", msg: "sync: worker state stayed behind the primary's reload message; caught up after re-reading", seq: p.seq, rereads: p.attempt, ms: Date.now() - p.since });
      pending = undefined;
      return;
    }
    if (p.attempt >= delays.length) {
      log({ level: "error", msg: "sync: worker state still behind the primary's reload message; the periodic check will retry", seq: p.seq, have: sync.current().seq, rereads: p.attempt, ms: Date.now() - p.since });
      pending = undefined;
      return;
    }
    p.timer = setTimeout(retry, delays[p.attempt++]);
  }

  return {
    reload(seq) {
      if (stopped) return;
      if (typeof seq !== "number") {
        sync.reload();
        return;
      }
      if (pending !== undefined) {
        // A retry is already scheduled: it now waits for the newer seq too.
        pending.seq = Math.max(pending.seq, seq);
        return;
      }
      if (sync.reload(seq)) return;
      pending = { seq, attempt: 0, timer: undefined, since: Date.now() };
      pending.timer = setTimeout(retry, delays[pending.attempt++] ?? 0);
    },
    check(seq) {
      if (stopped || typeof seq !== "number" || pending !== undefined) return;
      const before = sync.current().seq;
      if (before === seq) return;
      sync.reload();
      const after = sync.current().seq;
      if (after !== before) log({ level: "warn", msg: "sync: the periodic check found a state the reload messages had not brought", from: before, to: after, primarySeq: seq });
    },
    rereads: () => rereads,
    stop() {
      stopped = true;
      if (pending?.timer !== undefined) clearTimeout(pending.timer);
      pending = undefined;
    },
  };
}
