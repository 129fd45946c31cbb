/**
 * Issue 4 fault tests over real processes and real HTTP: the registry killed and
 * restarted, the origin down, a worker SIGKILLed under load, a memory bomb
 * quarantined while a canary keeps answering. Every wait is a poll with a
 * deadline; every assertion is about behaviour, never timing.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { startFleet, startWebOrigin, lambda, type Fleet, type Reply, type TestWebOrigin } from "../helpers/fleet.ts";
import { until } from "../helpers/until.ts";

const HOST = "faults.test";
const TIMEOUT = { timeout: 60_000 };

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});


interface Health {
  connected: boolean;
  staleSeconds: number;
  appliedSeq: number;
  workers: Array<{ id: number; pid: number; restarts: number }>;
  quarantined: Array<{ digest: string; crashes: number }>;
}

async function health(fleet: Fleet, i = 0): Promise<Health> {
  const r = i === 0 ? await tryGet(fleet, "/_verge/health", 2_000) : await fleet.get(i, HOST, "/_verge/health");
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Health;
}

/**
 * A request that never throws and never hangs: a network error, or no answer within
 * `timeoutMs` (node:cluster can lose a connection the primary handed to a worker that
 * died at that moment), is reported as status 0.
 */
function tryGet(fleet: Fleet, path: string, timeoutMs = 8_000): Promise<Reply> {
  const url = new URL(path, fleet.nodes[0]!.url);
  return new Promise((resolve) => {
    const fail = (e: unknown) => resolve({ status: 0, headers: {}, body: String(e) });
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: HOST }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", fail);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", fail);
    req.end();
  });
}

const gen = (body: string) => lambda(`return { status: "200", headers: { "cache-control": [{ key: "Cache-Control", value: "no-store" }] }, body: ${JSON.stringify(body)} };`);
const fn = (name: string) => ({ "viewer-request": { function: name, alias: "live", includeBody: false } });

test("registry killed: the node keeps serving, reports itself stale, and catches up after a restart", TIMEOUT, async (t) => {
  const origin = await startWebOrigin((req, res) => res.writeHead(200, { "cache-control": "max-age=300" }).end(`origin ${req.url}`));
  const fleet = await startFleet({ nodes: 1 });
  t.after(async () => {
    await fleet.close();
    await origin.close();
  });
  await fleet.publish("gen", gen("v1"));
  await fleet.waitApplied(
    await fleet.distribution("faults", {
      hostnames: [HOST],
      origins: [{ id: "web", url: origin.url }],
      behaviors: [{ pathPattern: "/fn/*", originId: "web", functions: fn("gen") }],
      defaultBehavior: { originId: "web", functions: {} },
    }),
  );
  assert.equal((await fleet.get(0, HOST, "/fn/x")).body, "v1");
  assert.equal((await fleet.get(0, HOST, "/cached/x")).headers["x-verge-cache"], "Miss");
  assert.equal((await health(fleet)).connected, true);

  await fleet.stopRegistry();
  const firstStale = await until("the node to notice the registry is gone", async () => {
    const h = await health(fleet);
    return !h.connected && h.staleSeconds > 0 ? h.staleSeconds : undefined;
  });
  await until("staleSeconds to grow", async () => ((await health(fleet)).staleSeconds > firstStale + 0.5 ? true : undefined));
  const f = await fleet.get(0, HOST, "/fn/x");
  assert.equal(f.status, 200);
  assert.equal(f.body, "v1", "a function-backed path still answers");
  const c = await fleet.get(0, HOST, "/cached/x");
  assert.equal(c.status, 200);
  assert.equal(c.headers["x-verge-cache"], "Hit", "a cached path still answers from the cache");
  assert.equal((await health(fleet)).connected, false);

  await fleet.restartRegistry();
  await fleet.publish("gen", gen("v2"));
  await until("the change made after the restart to be served", async () => ((await fleet.get(0, HOST, "/fn/x")).body === "v2" ? true : undefined));
  const h = await until("the node to report itself connected", async () => {
    const h = await health(fleet);
    return h.connected ? h : undefined;
  });
  assert.equal(h.staleSeconds, 0);
});

test("origin down: an expired entry is served stale; a never-cached path gets 502 ERR_ORIGIN_UNREACHABLE", TIMEOUT, async (t) => {
  const origin: TestWebOrigin = await startWebOrigin((req, res) => res.writeHead(200, { "cache-control": "max-age=1" }).end(`origin ${req.url}`));
  const fleet = await startFleet({ nodes: 1 });
  let originClosed = false;
  t.after(async () => {
    await fleet.close();
    if (!originClosed) await origin.close();
  });
  await fleet.waitApplied(
    await fleet.distribution("faults", {
      hostnames: [HOST],
      origins: [{ id: "web", url: origin.url, connectTimeoutMs: 1000, readTimeoutMs: 1000 }],
      defaultBehavior: { originId: "web", functions: {} },
    }),
  );
  const first = await fleet.get(0, HOST, "/stale/a");
  assert.equal(first.status, 200);
  assert.equal(first.headers["x-verge-cache"], "Miss");
  await origin.close();
  originClosed = true;

  const stale = await until("the expired entry to be served stale", async () => {
    const r = await fleet.get(0, HOST, "/stale/a");
    assert.equal(r.status, 200, "while fresh it is a Hit, once expired a StaleHit: never an error");
    return r.headers["x-verge-cache"] === "StaleHit" ? r : undefined;
  });
  assert.equal(stale.body, first.body);

  const never = await fleet.get(0, HOST, "/never/cached");
  assert.equal(never.status, 502);
  assert.equal(never.headers["x-verge-error"], "ERR_ORIGIN_UNREACHABLE");
});

// ---- supervised node (2 workers), shared by the two process-fault tests ----

let sup: Fleet | undefined;
let supOrigin: TestWebOrigin | undefined;
let bombDigest = "";
/** The supervised node's log lines (the primary's, and the workers' through it). */
const supLog: Array<Record<string, unknown>> = [];

async function supervised(): Promise<Fleet> {
  if (sup) return sup;
  supOrigin = await startWebOrigin((req, res) => res.writeHead(200, { "cache-control": "no-store" }).end(`origin ${req.url}`));
  const o = supOrigin;
  cleanups.push(() => o.close());
  const fleet = await startFleet({ nodes: 1, workers: 2, nodeOptions: () => ({ log: (line) => void supLog.push(line as Record<string, unknown>) }) });
  cleanups.push(() => fleet.close());
  sup = fleet;
  await fleet.publish("load", gen("load"));
  await fleet.publish("canary", gen("canary"));
  bombDigest = await fleet.publish("bomb", lambda(`new Array(1e9).fill(0); return { status: "200", body: "survived" };`));
  await fleet.waitApplied(
    await fleet.distribution("faults", {
      hostnames: [HOST],
      origins: [{ id: "web", url: o.url }],
      behaviors: [
        { pathPattern: "/load/*", originId: "web", functions: fn("load") },
        { pathPattern: "/canary/*", originId: "web", functions: fn("canary") },
        { pathPattern: "/bomb/*", originId: "web", functions: fn("bomb") },
      ],
      defaultBehavior: { originId: "web", functions: {} },
    }),
  );
  // Every worker has the distribution once both answer on the shared port.
  for (let i = 0; i < 6; i++) await until("the load path on every worker", async () => ((await tryGet(fleet, "/load/warm")).status === 200 ? true : undefined));
  return fleet;
}

// The requests are sequential, so one at most is in flight on the victim when it dies. Besides it,
// a connection the primary accepts after the kill but before it has seen the death can be handed
// to the dead worker (it is first in the round-robin line when idle): the primary's handoff guard
// closes it and logs worker-connections-closed (supervisor/README.md). Nothing else may fail.
test("a worker SIGKILLed under load is restarted; only the request in flight on it and connections handed to it dead fail", TIMEOUT, async () => {
  const fleet = await supervised();
  const before = await until("two workers in health", async () => {
    const h = await health(fleet);
    return h.workers.length === 2 ? h.workers : undefined;
  });
  const pids = new Set(before.map((w) => w.pid));
  const victim = before[0]!;

  const failed: Reply[] = [];
  let sent = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const r = await tryGet(fleet, `/load/${sent++}`);
      if (r.status !== 200 || r.body !== "load") failed.push(r);
    }
  })();
  await until("some load before the kill", async () => (sent >= 10 ? true : undefined));
  process.kill(victim.pid, "SIGKILL");
  const after = await until("the supervisor to restart the worker", async () => {
    const h = await health(fleet);
    const slot = h.workers.find((w) => w.id === victim.id);
    return h.workers.length === 2 && slot && !pids.has(slot.pid) && slot.restarts >= 1 ? h.workers : undefined;
  });
  const atRestart = sent;
  await until("more load after the restart", async () => (sent >= atRestart + 10 ? true : undefined));
  stop = true;
  await loop;
  const closed = supLog
    .filter((l) => l.event === "worker-connections-closed" && l.worker === victim.id && l.pid === victim.pid)
    .reduce((n, l) => n + Number(l.count), 0);
  const detail = `${failed.length} of ${sent} requests failed around the kill (${closed} connections closed by the handoff guard): ${JSON.stringify(failed.map((r) => `${r.status} ${r.body.slice(0, 120)}`))}`;
  // Connections cut by the death, never an HTTP error and never a hang (tryGet's "no answer within").
  assert.ok(failed.every((r) => r.status === 0 && !r.body.includes("no answer within")), detail);
  assert.ok(failed.length <= 1 + closed, detail);
  assert.equal(after.find((w) => w.id === victim.id)!.restarts, 1);

  for (let i = 0; i < 20; i++) {
    const r = await tryGet(fleet, `/load/after-${i}`);
    assert.equal(r.status, 200, `request ${i} after the restart: ${r.body}`);
    assert.equal(r.body, "load");
  }
});

// Each bomb runs ~12-17 s on 2 cores before V8 aborts the worker (the fill is one builtin the
// 128 MB limit cannot interrupt; the process's own heap grows to ~1.4 GB first), and quarantine
// needs 3 of them: this test alone gets a longer deadline (under a loaded machine one bomb
// has been seen to take ~70 s).
test("a memory bomb is quarantined after repeated crashes while a canary keeps answering; a new version is served", { timeout: 360_000 }, async () => {
  const fleet = await supervised();
  const canary = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await tryGet(fleet, `/canary/${i}`);
      assert.equal(r.status, 200, `the canary answers between bombs: ${r.status} ${r.body}`);
      assert.equal(r.body, "canary");
    }
  };
  const pidsOf = async () => (await health(fleet)).workers.map((w) => w.pid);
  let cleanMemoryLimit = false;
  let crashes = 0;
  let quarantined: Reply | undefined;
  for (let attempt = 0; attempt < 8 && !quarantined; attempt++) {
    const pidsBeforeBomb = await until("the worker list", pidsOf);
    // Filling 1e9 slots runs until V8 aborts the worker: a long deadline.
    const r = await tryGet(fleet, "/bomb/x", 100_000);
    if (r.status === 503 && r.headers["x-verge-error"] === "ERR_FUNCTION_QUARANTINED") {
      quarantined = r;
      break;
    }
    if (r.status === 503 && r.headers["x-verge-error"] === "ERR_MEMORY_LIMIT") {
      // The isolate was stopped cleanly: no crash, so no quarantine. The node must keep serving.
      await canary(5);
      cleanMemoryLimit = true;
      break;
    }
    // The worker died under the request (connection reset) or answered 5xx.
    assert.ok(r.status === 0 || r.status >= 500, `the bomb cannot succeed: ${r.status} ${r.body}`);
    crashes++;
    // Once the primary has seen the crash (a replacement pid in health; until then it may hand
    // a new connection to the dead worker, a request in flight on the crashing worker), the
    // canary answers at once, from the surviving worker or the replacement.
    await until(
      "the crashed worker to be replaced",
      async () => {
        const now = await pidsOf();
        return now.some((p) => !pidsBeforeBomb.includes(p)) ? true : undefined;
      },
      60_000,
    );
    await canary(4);
  }
  if (cleanMemoryLimit) return;
  assert.ok(quarantined, `the bomb was not quarantined after ${crashes} crashes`);
  assert.ok(crashes >= 3, `quarantined after ${crashes} crashes`);
  const h = await health(fleet);
  assert.ok(
    h.quarantined.some((q) => q.digest === bombDigest),
    `health lists the bomb's digest: ${JSON.stringify(h.quarantined)}`,
  );
  // Quarantined: answered at once, again and again, without crashing a worker.
  const pidsBefore = h.workers.map((w) => w.pid).sort();
  for (let i = 0; i < 3; i++) {
    const r = await tryGet(fleet, "/bomb/again");
    assert.equal(r.status, 503);
    assert.equal(r.headers["x-verge-error"], "ERR_FUNCTION_QUARANTINED");
  }
  await canary(4);
  assert.deepEqual((await health(fleet)).workers.map((w) => w.pid).sort(), pidsBefore, "no worker died on a quarantined request");

  // Quarantine is per digest: a new version of the same function is served.
  const fixed = await fleet.publish("bomb", gen("defused"));
  assert.notEqual(fixed, bombDigest);
  await until("the new version to be served", async () => {
    const r = await tryGet(fleet, "/bomb/x");
    return r.status === 200 && r.body === "defused" ? true : undefined;
  });
  await canary(4);
});
