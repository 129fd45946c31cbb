/**
 * Hang detection: a worker whose main thread stops turning (a guest stuck in a
 * builtin V8 cannot interrupt, such as `new Array(1e9).fill(0)` under some
 * heap limits, DESIGN.md §5) sends no heartbeat, answers nothing, yet never
 * dies. The primary is the watchdog that does not run on the blocked thread:
 * past `timeoutMs` without a heartbeat the worker is killed, and its crash is
 * blamed like any other.
 */

export interface HangWatch {
  /** Heartbeat interval the workers are told to use. */
  readonly intervalMs: number;
  /** Starts (or restarts) watching `id`, e.g. when it says ready. */
  watch(id: number): void;
  beat(id: number): void;
  forget(id: number): void;
  stop(): void;
}

export function createHangWatch(timeoutMs: number, onHung: (id: number, silentMs: number) => void): HangWatch {
  const intervalMs = Math.max(10, Math.min(1_000, Math.floor(timeoutMs / 4)));
  const last = new Map<number, number>();
  let lastCheck = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    // The primary itself was blocked (or the machine suspended): nobody's silence is proven.
    if (now - lastCheck > 2 * intervalMs) {
      for (const id of last.keys()) last.set(id, now);
    }
    lastCheck = now;
    for (const [id, at] of last) {
      if (now - at <= timeoutMs) continue;
      last.delete(id);
      onHung(id, now - at);
    }
  }, intervalMs);
  timer.unref();
  return {
    intervalMs,
    watch: (id) => void last.set(id, Date.now()),
    beat: (id) => {
      if (last.has(id)) last.set(id, Date.now());
    },
    forget: (id) => void last.delete(id),
    stop: () => clearInterval(timer),
  };
}
