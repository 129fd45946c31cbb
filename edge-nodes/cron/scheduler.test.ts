/** The cron scheduler over fakes: which fires it takes, claims, runs, logs and counts. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { VergeError } from "../../src/shared/errors.ts";
import type { CronClaimRequest, CronClaimResult, Snapshot } from "../../src/shared/protocol.ts";
import type { AppliedState } from "../types.ts";
import { createManualClock, startCronScheduler, type FireRecord } from "./index.ts";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const MIN = 60_000;

function stateWith(crons: string[], aliases: Record<string, string> = { live: "d1" }): AppliedState {
  const snapshot = {
    seq: 1,
    tenants: {
      acme: {
        functions: { tick: { tenant: "acme", name: "tick", config: { crons } }, plain: { tenant: "acme", name: "plain", config: {} } },
        aliases: Object.fromEntries(Object.entries(aliases).map(([name, v]) => [`tick/${name}`, { routes: [{ version: v, weight: 1 }] }])),
        versions: {},
        distributions: {},
      },
    },
  } as unknown as Snapshot;
  return { seq: 1, snapshot, distributionFor: () => undefined };
}

function setup(options: { crons?: string[]; aliases?: Record<string, string>; claim?: (r: CronClaimRequest) => Promise<CronClaimResult>; fail?: Error } = {}) {
  const clock = createManualClock(T0);
  const state = stateWith(options.crons ?? ["*/5 * * * *"], options.aliases);
  const runs: Array<{ id: string; cron: string; time: number }> = [];
  const claims: CronClaimRequest[] = [];
  const logs: object[] = [];
  const records: FireRecord[] = [];
  const registry = new Registry();
  const scheduler = startCronScheduler({
    state: { current: () => state, load: async (_s, ref) => ({ id: `${ref.function}@${ref.digest}` }) as never, subscribe: () => () => {} },
    runtime: {
      async scheduled(spec, cron, time) {
        if (options.fail !== undefined) throw options.fail;
        runs.push({ id: (spec as unknown as { id: string }).id, cron, time: time! });
        return { finished: Promise.resolve({ limits: { cpuMs: { used: 1.234, limit: 50 }, wallMs: { used: 2, limit: 30000 } }, logs: [], waitUntilErrors: [] }) as never };
      },
    },
    claim: async (r) => {
      claims.push(r);
      return options.claim === undefined ? { run: true, node: r.node } : options.claim(r);
    },
    nodeId: "n1",
    registry,
    log: (l) => logs.push(l),
    clock,
    onFire: (r) => records.push(r),
  });
  return { clock, scheduler, runs, claims, logs, records, registry };
}

test("a fire: claimed with the node id and the exact time, run with the live alias's version, logged and counted", async () => {
  const { scheduler, runs, claims, logs, registry } = setup();
  const out = await scheduler.tick(T0 + 5 * MIN + 1500);
  assert.deepEqual(claims, [{ tenant: "acme", function: "tick", cron: "*/5 * * * *", scheduledTime: T0 + 5 * MIN, node: "n1" }]);
  assert.deepEqual(runs, [{ id: "tick@d1", cron: "*/5 * * * *", time: T0 + 5 * MIN }]);
  assert.deepEqual(out, [{ tenant: "acme", function: "tick", version: "d1", cron: "*/5 * * * *", scheduledTime: "2030-01-01T12:05:00.000Z", outcome: "ok", cpuMs: 1.23, wallMs: 2 }]);
  assert.deepEqual(logs, [{ msg: "scheduled", node: "n1", ...out[0] }]);
  assert.match(await registry.metrics(), /verge_scheduled_total\{function="acme\/tick",outcome="ok"\} 1/);
  assert.deepEqual(await scheduler.tick(T0 + 5 * MIN + 2000), [], "a fire is considered once");
  scheduler.stop();
});

test("only the latest fire of a gap runs; one found later than the grace is missed, not run", async () => {
  const { scheduler, runs } = setup({ crons: ["*/5 * * * *"] });
  await scheduler.tick(T0 + 10 * MIN + 5000);
  assert.deepEqual(runs.map((r) => r.time), [T0 + 10 * MIN]);
  const late = await scheduler.tick(T0 + 17 * MIN); // the 12:15 fire, found 2 minutes late
  assert.deepEqual(late.map((r) => r.outcome), ["missed"]);
  assert.equal(runs.length, 1);
  scheduler.stop();
});

test("claim lost, registry unreachable, cron gone at the registry: not run, each with its outcome", async () => {
  const lost = setup({ claim: async () => ({ run: false, node: "n2", reason: "claimed" }) });
  assert.deepEqual((await lost.scheduler.tick(T0 + 5 * MIN)).map((r) => [r.outcome, r.claimedBy]), [["claimed-elsewhere", "n2"]]);
  const down = setup({
    claim: async () => {
      throw new VergeError("ERR_REGISTRY_UNAVAILABLE", "connect ECONNREFUSED");
    },
  });
  const [rec] = await down.scheduler.tick(T0 + 5 * MIN);
  assert.equal(rec!.outcome, "ERR_REGISTRY_UNAVAILABLE");
  assert.match(rec!.message!, /^not run: connect ECONNREFUSED/);
  assert.match(await down.registry.metrics(), /outcome="ERR_REGISTRY_UNAVAILABLE"\} 1/);
  const gone = setup({ claim: async () => ({ run: false, reason: "not-configured" }) });
  assert.equal((await gone.scheduler.tick(T0 + 5 * MIN))[0]!.outcome, "not-configured");
  for (const s of [lost, down, gone]) {
    assert.equal(s.runs.length, 0);
    s.scheduler.stop();
  }
});

test("a failing scheduled() is its error code; no alias to run is no-version; the only alias serves when there is no live", async () => {
  const failing = setup({ fail: new VergeError("ERR_CPU_LIMIT", "CPU time limit of 50 ms exceeded") });
  const [rec] = await failing.scheduler.tick(T0 + 5 * MIN);
  assert.deepEqual([rec!.outcome, rec!.message], ["ERR_CPU_LIMIT", "CPU time limit of 50 ms exceeded"]);
  const none = setup({ aliases: { a: "d1", b: "d2" } });
  const [nv] = await none.scheduler.tick(T0 + 5 * MIN);
  assert.equal(nv!.outcome, "no-version");
  assert.match(nv!.message!, /no alias "live" among 2 aliases \(a, b\)/);
  assert.equal(none.claims.length, 0, "nothing to run: nothing claimed");
  const only = setup({ aliases: { prod: "d9" } });
  await only.scheduler.tick(T0 + 5 * MIN);
  assert.deepEqual(only.runs.map((r) => r.id), ["tick@d9"]);
  for (const s of [failing, none, only]) s.scheduler.stop();
});

test("the clock's timers drive ticks: moving a manual clock to a fire time runs it", async () => {
  const { clock, scheduler, records } = setup({ crons: ["0 * * * *", "30 12 * * *"] });
  clock.set(T0 + 30 * MIN);
  clock.set(T0 + 60 * MIN);
  const deadline = Date.now() + 5000;
  while (records.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(records.map((r) => [r.cron, r.scheduledTime, r.outcome]), [
    ["30 12 * * *", "2030-01-01T12:30:00.000Z", "ok"],
    ["0 * * * *", "2030-01-01T13:00:00.000Z", "ok"],
  ]);
  scheduler.stop();
});
