/**
 * Cron triggers on a supervised edge node (issue 5): with 2 worker processes,
 * only worker slot 0 schedules, so each fire runs `scheduled()` once on the
 * node, not once per worker; it is logged (through the primary, with the
 * worker's slot and pid) and counted in `verge_scheduled_total`. After slot 0
 * is killed, its replacement schedules, still once per fire.
 *
 * No real minutes: the node's `cronTime` puts the workers' cron clock 50
 * minutes back (inside the registry's claim window, which uses its real
 * clock) running 12x, so a cron minute passes every 5 real seconds. The
 * supervisor hands the spec to its workers with their settings.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startFleet, startWebOrigin, type Fleet, type TestWebOrigin } from "../helpers/fleet.ts";

const MIN = 60_000;
const SPEED = 12;
const anchor = Date.now();
const cronTime = { start: anchor - 50 * MIN, anchor, speed: SPEED };
/** The node's cron time now. */
const cronNow = (): number => Math.floor(cronTime.start + (Date.now() - anchor) * SPEED);

type Line = Record<string, unknown>;
const lines: Line[] = [];
let fleet: Fleet;
let sink: TestWebOrigin;
/** Fires scheduled after this cron time run the published version (the whole publish applied). */
let appliedAt: number;

const SOURCE = `export default {
  fetch() { return new Response("ok"); },
  async scheduled(controller, env) {
    await fetch(env.SINK + "/fired?t=" + controller.scheduledTime);
  },
};
`;

before(async () => {
  sink = await startWebOrigin((_req, res) => res.end("noted"));
  fleet = await startFleet({ nodes: 1, workers: 2, nodeOptions: () => ({ cronTime, log: (l) => lines.push(l as Line) }) });
  // A generous CPU budget: this test is about who runs a fire, and a cold start on a loaded machine can pass 50 ms.
  await fleet.publish("ticker", SOURCE, { crons: ["* * * * *"], env: { SINK: sink.url }, cpuMs: 2000 });
  await fleet.waitApplied();
  appliedAt = cronNow();
});
after(async () => {
  await fleet?.close();
  await sink?.close();
});

const records = (): Line[] => lines.filter((l) => l.msg === "scheduled" && Date.parse(String(l.scheduledTime)) > appliedAt);
const timesOf = (list: Line[]): number[] => [...new Set(list.map((r) => Date.parse(String(r.scheduledTime))))].sort((a, b) => a - b);
const sinkHits = (time: number): number => sink.seen.filter((s) => s.url === `/fired?t=${time}`).length;

/** Waits until `n` fires after cron time `from` have been logged; the newest may still be in flight, the others are complete. */
async function fires(n: number, from: number, what: string): Promise<number[]> {
  const deadline = Date.now() + (n + 2) * (MIN / SPEED) + 10_000;
  for (;;) {
    const times = timesOf(records()).filter((t) => t > from);
    if (times.length >= n) return times.slice(0, n);
    if (Date.now() > deadline) throw new Error(`${what}: ${times.length} of ${n} fires logged by ${new Date(cronNow()).toISOString()} (cron time):\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const metric = (text: string, outcome: string): number => Number(new RegExp(`verge_scheduled_total\\{function="acme/ticker",outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);

test("two workers: each fire runs once on the node, in worker slot 0; logged through the primary and counted", async () => {
  const [t1, t2, t3] = await fires(3, appliedAt, "first fires");
  assert.deepEqual([t2! - t1!, t3! - t2!], [MIN, MIN], "consecutive cron minutes");
  for (const t of [t1!, t2!]) {
    const at = records().filter((r) => Date.parse(String(r.scheduledTime)) === t);
    assert.equal(at.length, 1, `one scheduled line for ${new Date(t).toISOString()}: ${JSON.stringify(at)}`);
    const r = at[0]!;
    assert.equal(r.outcome, "ok", JSON.stringify(r));
    assert.equal(r.worker, 0, "the scheduler runs in worker slot 0");
    assert.equal(r.function, "ticker");
    assert.equal(r.cron, "* * * * *");
    assert.match(String(r.version), /^[0-9a-f]{64}$/);
    assert.equal(typeof r.pid, "number");
    assert.equal(sinkHits(t), 1, `scheduled() ran once for ${new Date(t).toISOString()}`);
  }
  assert.ok(records().every((r) => r.worker === 0), "no other worker logged a fire");
  // The node's metrics, summed over its workers by the primary. They count every fire since the
  // node started, including one that ran while the publish was still applying (before appliedAt).
  const everyOk = (): number => lines.filter((l) => l.msg === "scheduled" && l.function === "ticker" && l.outcome === "ok").length;
  const okBefore = everyOk();
  const text = await (await fetch(`${fleet.nodes[0]!.url}/_verge/metrics`)).text();
  const okAfter = everyOk();
  const ok = metric(text, "ok");
  assert.ok(ok >= okBefore && ok <= okAfter && ok >= 3, `verge_scheduled_total ok = ${ok}, fires logged ${okBefore}..${okAfter}`);
  const others = [...text.matchAll(/verge_scheduled_total\{function="acme\/ticker",outcome="([^"]+)"[^}]*\} (\d+)/g)].filter((m) => m[1] !== "ok" && m[2] !== "0");
  assert.deepEqual(others.map((m) => m[0]), [], "no fire of the function had another outcome");
});

test("worker slot 0 killed: its replacement schedules on the same timeline, still once per fire", async () => {
  const last = records().at(-1)!;
  const pid = last.pid as number;
  process.kill(pid, "SIGKILL");
  const deadline = Date.now() + 20_000;
  let restartedAt: number | undefined;
  while (restartedAt === undefined) {
    if (lines.some((l) => l.event === "worker-ready" && l.worker === 0 && l.pid !== pid)) restartedAt = cronNow();
    else if (Date.now() > deadline) throw new Error(`worker 0 was not restarted:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  const [t1] = await fires(2, restartedAt, "fires after the restart");
  const at = records().filter((r) => Date.parse(String(r.scheduledTime)) === t1);
  assert.equal(at.length, 1, JSON.stringify(at));
  assert.equal(at[0]!.outcome, "ok", JSON.stringify(at[0]));
  assert.equal(at[0]!.worker, 0);
  assert.notEqual(at[0]!.pid, pid, "the new slot-0 process ran it");
  assert.equal(sinkHits(t1!), 1);
});
