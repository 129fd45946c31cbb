/**
 * Cron triggers in a fleet (issue 5): a registry and two edge nodes on one
 * manual clock. At each fire both nodes claim it and exactly one runs
 * `scheduled()` (the function calls a test origin); the other logs that the
 * fire was claimed elsewhere. With the registry down, nobody runs the fire.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createManualClock } from "../../edge-nodes/cron/index.ts";
import { startFleet, startWebOrigin, type Fleet, type TestWebOrigin } from "../helpers/fleet.ts";

const MIN = 60_000;
// The registry checks fire times against its real clock: start the manual one at real time.
const start = Date.now();
const clock = createManualClock(start);
const firstFire = Math.floor(start / MIN) * MIN + MIN;
const logs: Array<Array<Record<string, unknown>>> = [[], []];
let fleet: Fleet;
let sink: TestWebOrigin;

const SOURCE = `export default {
  fetch() { return new Response("ok"); },
  async scheduled(controller, env, ctx) {
    console.log("fired " + controller.cron);
    await fetch(env.SINK + "/fired?cron=" + encodeURIComponent(controller.cron) + "&t=" + controller.scheduledTime);
  },
};
`;

before(async () => {
  sink = await startWebOrigin((_req, res) => res.end("noted"));
  fleet = await startFleet({ nodes: 2, nodeOptions: (i) => ({ cronClock: clock, log: (l) => logs[i]!.push(l as Record<string, unknown>) }) });
  // A generous CPU budget: this test is about arbitration, and a cold start on a loaded machine can pass 50 ms.
  await fleet.publish("ticker", SOURCE, { crons: ["* * * * *"], env: { SINK: sink.url }, cpuMs: 2000 });
  await fleet.waitApplied();
});
after(async () => {
  await fleet?.close();
  await sink?.close();
});

/** Each node's `scheduled` record for the fire at `time`, once both logged one. */
async function recordsAt(time: number): Promise<Array<Record<string, unknown>>> {
  const iso = new Date(time).toISOString();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = logs.map((l) => l.find((x) => x.msg === "scheduled" && x.scheduledTime === iso));
    if (found.every((x) => x !== undefined)) return found as Array<Record<string, unknown>>;
    if (Date.now() > deadline) throw new Error(`not every node logged the fire at ${iso}: ${JSON.stringify(logs.map((l) => l.filter((x) => x.msg === "scheduled")))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fired = (time: number) => sink.seen.filter((s) => s.url === `/fired?cron=${encodeURIComponent("* * * * *")}&t=${time}`);

test("each fire runs on exactly one of two nodes, with the function's env; the other logs it was claimed elsewhere", async () => {
  for (const time of [firstFire, firstFire + MIN]) {
    clock.set(time + 250);
    const records = await recordsAt(time);
    const outcomes = records.map((r) => r.outcome).sort();
    assert.deepEqual(outcomes, ["claimed-elsewhere", "ok"], JSON.stringify(records));
    const winner = records.find((r) => r.outcome === "ok")!;
    assert.equal(winner.function, "ticker");
    assert.equal(winner.cron, "* * * * *");
    assert.match(String(winner.version), /^[0-9a-f]{64}$/);
    assert.equal(typeof winner.cpuMs, "number");
    assert.equal(typeof winner.wallMs, "number");
    const loser = records.find((r) => r.outcome === "claimed-elsewhere")!;
    assert.equal(loser.claimedBy, winner.node);
    assert.equal(fired(time).length, 1, "the function ran once");
  }
  const metrics = await Promise.all(fleet.nodes.map(async (n) => (await fetch(`${n.url}/_verge/metrics`)).text()));
  const ok = metrics.map((m) => Number(/verge_scheduled_total\{function="acme\/ticker",outcome="ok"[^}]*\} (\d+)/.exec(m)?.[1] ?? 0));
  const lost = metrics.map((m) => Number(/verge_scheduled_total\{function="acme\/ticker",outcome="claimed-elsewhere"[^}]*\} (\d+)/.exec(m)?.[1] ?? 0));
  assert.equal(ok[0]! + ok[1]!, 2);
  assert.equal(lost[0]! + lost[1]!, 2);
  // verge logs: each run once, from the node that ran it, with its console line; never the claimed-elsewhere side.
  const deadline = Date.now() + 10_000;
  let runs: Array<{ node: string; scheduled?: { outcome: string; scheduledTime: string }; invocations: Array<{ event: string; logs: Array<{ message: string }> }> }> = [];
  while (runs.length < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const listed = await fleet.registry.call("GET", "/v1/tenants/acme/logs?limit=1000", { token: fleet.tenantToken });
    runs = (listed.body.events as typeof runs).filter((e) => e.scheduled !== undefined);
  }
  assert.deepEqual(runs.map((r) => [r.scheduled!.outcome, r.invocations[0]!.event, r.invocations[0]!.logs.map((l) => l.message)]), [
    ["ok", "scheduled", ["fired * * * * *"]],
    ["ok", "scheduled", ["fired * * * * *"]],
  ]);
  assert.deepEqual(runs.map((r) => r.scheduled!.scheduledTime).sort(), [new Date(firstFire).toISOString(), new Date(firstFire + MIN).toISOString()]);
});

test("registry down: neither node runs the fire, both log ERR_REGISTRY_UNAVAILABLE", async () => {
  await fleet.stopRegistry();
  const time = firstFire + 2 * MIN;
  clock.set(time + 250);
  const records = await recordsAt(time);
  assert.deepEqual(records.map((r) => r.outcome), ["ERR_REGISTRY_UNAVAILABLE", "ERR_REGISTRY_UNAVAILABLE"]);
  assert.match(String(records[0]!.message), /^not run: /);
  assert.equal(fired(time).length, 0);
});
