/**
 * The process model (issue 4), each case in its own supervisor process over
 * testing/worker-fixture.ts: shared port, restart after SIGKILL while the other
 * worker keeps serving, broadcast, graceful and forced shutdown, single-process
 * mode, a worker that cannot start.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, get, poll, PRIMARY_FIXTURE, reach, spawnNode, startSupervised, WORKER_FIXTURE } from "./testing/harness.ts";
import type { Answer, Line } from "./testing/harness.ts";

const root = mkdtempSync(join(tmpdir(), "verge-supervisor-"));
test.after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const dataDir = () => join(root, String(++dirs));

/** A keep-alive agent whose one connection is held by a worker other than `not`. */
async function pinnedAgent(port: number, not: number | null): Promise<{ agent: http.Agent; pid: number }> {
  return poll("a connection to another worker", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const pid = (await get(port, "/pid", agent)).body.pid as number;
    if (pid !== not) return { agent, pid };
    agent.destroy();
    return undefined;
  });
}

test("two workers share the port; one killed with SIGKILL mid-load is replaced while the other keeps answering", { timeout: 60_000 }, async (t) => {
  const sup = await startSupervised({ dataDir: dataDir(), workers: 2, execArgv: [] }, (fn) => t.after(fn));
  const a = await pinnedAgent(sup.port, null);
  const b = await pinnedAgent(sup.port, a.pid);
  t.after(() => (a.agent.destroy(), b.agent.destroy()));
  const info = (await get(sup.port, "/pid", a.agent)).body;
  assert.ok((info.execArgv as string[]).includes("--no-node-snapshot"), "the supervisor adds --no-node-snapshot");

  // Load on worker A's connection for the whole kill-and-restart.
  const answers: Answer[] = [];
  let loading = true;
  const load = (async () => {
    while (loading) answers.push(await get(sup.port, "/pid", a.agent));
  })();
  const from = sup.lines.length;
  const inFlightOnB = get(sup.port, "/slow?ms=20000", b.agent);
  await sup.waitFor((l) => l.event === "slow-start" && l.pid === b.pid, 10_000, from);
  process.kill(b.pid, "SIGKILL");
  await assert.rejects(inFlightOnB, "the request on the killed worker is lost");

  const exit = await sup.waitFor((l) => l.event === "worker-exit" && l.pid === b.pid, 10_000, from);
  assert.equal(exit.signal, "SIGKILL");
  assert.equal(exit.crash, true);
  assert.equal(exit.blamed, null, "no function had run in that worker");
  const replaced = await sup.waitFor((l) => l.event === "worker-ready" && l.worker === exit.worker && l.pid !== b.pid, 10_000, from);
  const servedDuringRestart = answers.length;
  await reach(sup.port, "/pid", (body) => body.pid === replaced.pid);
  loading = false;
  await load;

  assert.ok(servedDuringRestart > 0, "worker A answered while B was down");
  assert.ok(answers.every((r) => r.status === 200 && r.body.pid === a.pid), "every request on worker A succeeded");
  assert.ok(alive(a.pid));

  sup.command({ cmd: "workers" });
  const listed = (await sup.waitFor((l) => l.event === "workers", 5_000, from)).workers as Array<{ id: number; pid: number; restarts: number; port: number }>;
  assert.deepEqual(listed.map((w) => [w.pid, w.restarts, w.port]).sort(), [[a.pid, 0, sup.port], [replaced.pid, 1, sup.port]].sort());

  sup.kill("SIGTERM");
  assert.deepEqual(await sup.exited, { code: 0, signal: null });
});

test("broadcast reaches every live worker", { timeout: 60_000 }, async (t) => {
  const sup = await startSupervised({ dataDir: dataDir(), workers: 2 }, (fn) => t.after(fn));
  sup.command({ cmd: "broadcast", message: { type: "reload", seq: 7 } });
  const pids = (sup.lines.find((l) => l.event === "supervisor-ready")!.workers as Array<{ pid: number }>).map((w) => w.pid);
  const has7 = (body: Record<string, unknown>) => (body.reloads as Array<{ seq: number }>).some((m) => m.seq === 7);
  for (const pid of pids) await reach(sup.port, "/messages", (body) => body.pid === pid && has7(body));
  sup.kill("SIGTERM");
  assert.equal((await sup.exited).code, 0);
});

test("workers ask the primary: the worker list, a registered handler, an error by code", { timeout: 60_000 }, async (t) => {
  const sup = await startSupervised({ dataDir: dataDir(), workers: 2 }, (fn) => t.after(fn));
  const listed = (await get(sup.port, "/workers")).body;
  assert.deepEqual((listed.workers as Array<{ id: number }>).map((w) => w.id).sort(), [0, 1]);
  assert.deepEqual(listed.quarantine, []);
  const echo = await get(sup.port, "/ask?kind=echo");
  assert.deepEqual(echo.body.value, { payload: { from: echo.body.pid }, from: { id: (listed.workers as Array<{ id: number; pid: number }>).find((w) => w.pid === echo.body.pid)!.id, pid: echo.body.pid } });
  assert.deepEqual((await get(sup.port, "/ask?kind=boom")).body.code, "ERR_TEST_BOOM");
  assert.deepEqual((await get(sup.port, "/ask?kind=nothing")).body.code, "ERR_NO_SUCH_REQUEST");
  assert.deepEqual((listed.workers as Array<{ status: unknown }>).map((w) => w.status), [null, null], "no status until a worker says one");
  // A worker's setStatus is what the primary lists for it.
  const said = (await get(sup.port, "/status?n=7")).body.pid as number;
  const status = await poll("the status in the worker list", async () => {
    const w = ((await get(sup.port, "/workers")).body.workers as Array<{ pid: number; status: { n: number } | null }>).find((x) => x.pid === said);
    return w?.status ?? undefined;
  });
  assert.deepEqual(status, { n: 7 });
  sup.kill("SIGTERM");
  assert.equal((await sup.exited).code, 0);
});

test("SIGTERM drains: a request in flight completes, workers exit 0, none is restarted, the primary exits 0", { timeout: 60_000 }, async (t) => {
  const sup = await startSupervised({ dataDir: dataDir(), workers: 2 }, (fn) => t.after(fn));
  const from = sup.lines.length;
  const slow = get(sup.port, "/slow?ms=1500");
  const started = await sup.waitFor((l) => l.event === "slow-start", 10_000, from);
  sup.kill("SIGTERM");
  const answer = await slow;
  assert.equal(answer.status, 200);
  assert.equal(answer.body.pid, started.pid);
  assert.deepEqual(await sup.exited, { code: 0, signal: null });

  const after = sup.lines.slice(from);
  const exits = after.filter((l) => l.event === "worker-exit");
  assert.equal(exits.length, 2);
  assert.ok(exits.every((l) => l.code === 0 && l.crash === false), JSON.stringify(exits));
  assert.equal(after.filter((l) => l.event === "worker-start").length, 0, "nothing restarted during the stop");
  assert.ok(after.some((l) => l.event === "supervisor-stopped"));
});

test("a second signal kills at once", { timeout: 60_000 }, async (t) => {
  const sup = await startSupervised({ dataDir: dataDir(), workers: 2 }, (fn) => t.after(fn));
  const pids = (sup.lines.find((l) => l.event === "supervisor-ready")!.workers as Array<{ pid: number }>).map((w) => w.pid);
  const from = sup.lines.length;
  const slow = get(sup.port, "/slow?ms=20000").then(() => "answered", () => "lost");
  await sup.waitFor((l) => l.event === "slow-start", 10_000, from);
  sup.kill("SIGTERM");
  await sup.waitFor((l) => l.event === "supervisor-stopping", 5_000, from);
  sup.kill("SIGINT");
  assert.deepEqual(await sup.exited, { code: 1, signal: null });
  assert.equal(await slow, "lost");
  await poll("workers gone", async () => (pids.some(alive) ? undefined : true));
  assert.ok(sup.lines.some((l) => l.event === "supervisor-forced-stop"));
});

test("single-process mode: the same worker alone has an empty quarantine and drains on SIGTERM", { timeout: 60_000 }, async (t) => {
  const w = spawnNode(WORKER_FIXTURE, [], (fn) => t.after(fn));
  const port = (await w.waitFor((l) => l.event === "listening")).port as number;
  assert.deepEqual((await get(port, "/pid")).body.clustered, false);
  assert.deepEqual((await get(port, "/quarantined?digest=abc")).body, { pid: w.child.pid, quarantined: false, list: [] });
  assert.deepEqual(((await get(port, "/workers")).body.workers as Array<{ pid: number }>).map((x) => x.pid), [w.child.pid]);
  assert.equal((await get(port, "/ask?kind=echo")).body.code, "ERR_NOT_SUPERVISED");
  const slow = get(port, "/slow?ms=800");
  await w.waitFor((l: Line) => l.event === "slow-start");
  w.kill("SIGTERM");
  assert.equal((await slow).status, 200);
  assert.deepEqual(await w.exited, { code: 0, signal: null });
});

test("a worker that dies before it is ready rejects ready (ERR_WORKER_START_FAILED)", { timeout: 60_000 }, async (t) => {
  const sup = spawnNode(
    PRIMARY_FIXTURE,
    [JSON.stringify({ dataDir: dataDir(), workers: 1, workerArgs: ["--fail-at-start"], restartBackoffMs: { initial: 10, max: 20 } })],
    (fn) => t.after(fn),
  );
  const failed = await sup.waitFor((l) => l.event === "supervisor-ready-failed", 15_000);
  assert.equal(failed.code, "ERR_WORKER_START_FAILED");
  assert.match(failed.message as string, /exited 3 times before it was ready \(last: code 1\)/);
  const exits = sup.lines.filter((l) => l.event === "worker-exit");
  assert.deepEqual(exits.slice(0, 3).map((l) => l.restartInMs), [0, 10, 20], "backoff doubles up to its cap");
  assert.equal((await sup.exited).code, 1);
});
