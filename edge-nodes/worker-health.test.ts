/** Worker lag for /_verge/health: each worker's applied seq against the node's, and for how long it has been behind. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BEHIND_AFTER_SECONDS, createWorkerLag, isBehind } from "./worker-health.ts";
import type { WorkerInfo } from "./supervisor/index.ts";

const worker = (id: number, pid: number, appliedSeq: number | null, ready = true): WorkerInfo => ({
  id,
  pid,
  startedAt: new Date(0).toISOString(),
  restarts: 0,
  ready,
  port: 8787,
  status: appliedSeq === null ? null : { appliedSeq },
});

test("a worker behind the node's seq is counted from when it was first seen behind, and forgotten once it caught up", () => {
  let now = 1_000_000;
  const lag = createWorkerLag(() => now);
  let seen = lag.observe(7, [worker(0, 100, 7), worker(1, 101, 6)]);
  assert.deepEqual(seen.map((w) => [w.id, w.appliedSeq, w.behindSeconds]), [[0, 7, 0], [1, 6, 0]]);
  assert.equal(isBehind(seen), false);

  now += BEHIND_AFTER_SECONDS * 1000;
  seen = lag.observe(8, [worker(0, 100, 8), worker(1, 101, 6)]);
  assert.deepEqual(seen.map((w) => w.behindSeconds), [0, BEHIND_AFTER_SECONDS]);
  assert.equal(isBehind(seen), false, "exactly the allowance is not yet behind");

  now += 1_000;
  seen = lag.observe(8, [worker(0, 100, 8), worker(1, 101, 6)]);
  assert.deepEqual(seen.map((w) => w.behindSeconds), [0, BEHIND_AFTER_SECONDS + 1]);
  assert.equal(isBehind(seen), true);

  seen = lag.observe(8, [worker(0, 100, 8), worker(1, 101, 8)]);
  assert.deepEqual(seen.map((w) => w.behindSeconds), [0, 0]);
  assert.equal(isBehind(seen), false);
  now += 10_000;
  assert.equal(isBehind(lag.observe(9, [worker(0, 100, 8), worker(1, 101, 9)])), false, "behind again starts from now");
});

test("a worker that never said its seq is behind once ready; one still starting is not; a restarted worker (new pid) starts afresh", () => {
  let now = 0;
  const lag = createWorkerLag(() => now);
  lag.observe(3, [worker(0, 100, null), worker(1, 101, null, false)]);
  now += (BEHIND_AFTER_SECONDS + 1) * 1000;
  const seen = lag.observe(3, [worker(0, 100, null), worker(1, 101, null, false)]);
  assert.deepEqual(seen.map((w) => [w.appliedSeq, w.behindSeconds]), [[null, BEHIND_AFTER_SECONDS + 1], [null, 0]]);
  assert.equal(isBehind(lag.observe(3, [worker(0, 102, 3), worker(1, 101, 3)])), false);
  assert.equal(lag.observe(4, [worker(0, 100, 2)])[0]!.behindSeconds, 0, "pid 100 was forgotten when it left the list");
});
