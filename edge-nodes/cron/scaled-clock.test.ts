/** The scaled cron clock over a manual base clock: its time, its timers, and a scheduler driven by it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Snapshot } from "../../src/shared/protocol.ts";
import type { AppliedState } from "../types.ts";
import { createManualClock, startCronScheduler, type FireRecord } from "./index.ts";
import { createScaledClock } from "./scaled-clock.ts";

const REAL = Date.parse("2031-05-01T10:00:30Z");
const CRON = Date.parse("2031-05-01T09:00:00Z");
const MIN = 60_000;

test("cron time = start + (real - anchor) x speed; timers wait the real share of their cron delay, never less", () => {
  const real = createManualClock(REAL);
  const clock = createScaledClock({ start: CRON, anchor: REAL, speed: 10 }, real);
  assert.equal(clock.now(), CRON);
  real.set(REAL + 6_000);
  assert.equal(clock.now(), CRON + MIN, "6 real seconds are a cron minute");
  let fired = 0;
  clock.setTimer(() => fired++, 25_001);
  real.set(REAL + 6_000 + 2_500);
  assert.equal(fired, 0, "2.5 s real is 25 s of cron time: 1 ms short");
  real.set(REAL + 6_000 + 2_501);
  assert.equal(fired, 1);
  const offset = createScaledClock({ start: CRON, anchor: REAL }, real);
  assert.equal(offset.now(), CRON + 8_501, "speed 1: a plain offset");
  assert.throws(() => createScaledClock({ start: CRON, anchor: REAL, speed: 0 }, real), /cronTime: expected .* a speed > 0/);
});

test("a scheduler on a scaled clock fires each cron minute when its timer wakes, with the cron time", async () => {
  const real = createManualClock(REAL);
  const clock = createScaledClock({ start: CRON + 30_000, anchor: REAL, speed: 10 }, real);
  const snapshot = { seq: 1, tenants: { acme: { functions: { tick: { tenant: "acme", name: "tick", config: { crons: ["* * * * *"] } } }, aliases: { "tick/live": { routes: [{ version: "d1", weight: 1 }] } }, versions: {}, distributions: {} } } } as unknown as Snapshot;
  const state: AppliedState = { seq: 1, snapshot, distributionFor: () => undefined };
  const records: FireRecord[] = [];
  let done: () => void = () => {};
  const scheduler = startCronScheduler({
    state: { current: () => state, load: async () => ({}) as never, subscribe: () => () => {} },
    runtime: { scheduled: async () => ({ finished: Promise.resolve({ limits: { cpuMs: { used: 1, limit: 50 }, wallMs: { used: 1, limit: 30000 } }, logs: [], waitUntilErrors: [] }) as never }) },
    claim: async (r) => ({ run: true, node: r.node }),
    nodeId: "n1",
    log: () => {},
    clock,
    onFire: (r) => {
      records.push(r);
      done();
    },
  });
  try {
    const next = (): Promise<void> => new Promise((r) => (done = r));
    // 30 cron seconds to the next minute: 3 real seconds.
    real.set(REAL + 2_999);
    assert.equal(records.length, 0);
    let fire = next();
    real.set(REAL + 3_000);
    await fire;
    assert.deepEqual(records.map((r) => [r.scheduledTime, r.outcome]), [["2031-05-01T09:01:00.000Z", "ok"]]);
    fire = next();
    real.set(REAL + 9_000);
    await fire;
    assert.deepEqual(records.map((r) => r.scheduledTime), ["2031-05-01T09:01:00.000Z", "2031-05-01T09:02:00.000Z"]);
  } finally {
    scheduler.stop();
  }
});
