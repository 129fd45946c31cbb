/**
 * A {@link CronClock} that moves only when told: tests set it to a fire time
 * and every scheduler on it ticks at once, without waiting for real minutes.
 */
import type { CronClock } from "./scheduler.ts";

export interface ManualClock extends CronClock {
  /** Moves to `time` (ms) and runs every timer due by then, in time order. */
  set(time: number): void;
}

/** @example const clock = createManualClock(Date.parse("2030-01-01T00:00:00Z")); clock.set(clock.now() + 60_000); */
export function createManualClock(start: number): ManualClock {
  let now = start;
  let timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return { cancel: () => void (timers = timers.filter((t) => t !== timer)) };
    },
    set(time) {
      now = time;
      for (;;) {
        const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) return;
        timers = timers.filter((t) => t !== due);
        due.fn();
      }
    },
  };
}
