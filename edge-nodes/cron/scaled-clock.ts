/**
 * A {@link CronClock} on its own timeline, for tests and demos: the cron time
 * is `start` at the real instant `anchor`, and runs `speed` times as fast as
 * real time (speed 1: a plain offset). The spec is plain data, so a
 * supervisor passes it to its worker processes (server.ts `cronTime`) and
 * every process, whenever it starts or restarts, is on the same timeline.
 *
 * The registry checks each claim against its own real clock (a fire at most
 * 5 minutes ahead of it and at most 1 hour behind, origin/routes/cron.ts):
 * keep the cron time inside that window, e.g. start an hour back at speed 10
 * for a fire every 6 real seconds during the next ~6 minutes.
 */
import { VergeError } from "../../src/shared/errors.ts";
import { systemClock, type CronClock } from "./scheduler.ts";

export interface CronTimeSpec {
  /** The cron time (ms since the epoch) at `anchor`. */
  start: number;
  /** The real time (ms since the epoch) at which the cron time is `start`. */
  anchor: number;
  /** Cron milliseconds per real millisecond; default 1. */
  speed?: number;
}

/**
 * @example
 * // Cron minutes every 6 real seconds, starting 50 minutes back.
 * const clock = createScaledClock({ start: Date.now() - 50 * 60_000, anchor: Date.now(), speed: 10 });
 */
export function createScaledClock(spec: CronTimeSpec, base: CronClock = systemClock): CronClock {
  const speed = spec.speed ?? 1;
  if (!Number.isFinite(spec.start) || !Number.isFinite(spec.anchor) || !Number.isFinite(speed) || speed <= 0) {
    throw new VergeError("ERR_INVALID_OPTIONS", `cronTime: expected finite start and anchor (ms) and a speed > 0, found ${JSON.stringify(spec)}`);
  }
  return {
    now: () => Math.floor(spec.start + (base.now() - spec.anchor) * speed),
    // Never early in cron time: a timer that wakes early only re-arms (scheduler.ts arm).
    setTimer: (fn, ms) => base.setTimer(fn, Math.ceil(ms / speed)),
  };
}
