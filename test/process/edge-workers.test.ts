/**
 * A supervised edge node's workers (issue 4), over real processes and HTTP:
 * - the workers' log lines reach startEdgeNode's `log` (through the primary),
 *   tagged with the worker's slot and pid;
 * - `maxIsolatesPerFunction` reaches every worker's isolate pool;
 * - a connection the primary handed to a worker that then dies is closed, never
 *   left open with no answer, and the next requests succeed;
 * - every deploy reaches every worker while they serve traffic (issue 4/6: a
 *   worker's read snapshot from just before the primary's commit hid the new
 *   state, and the worker kept the previous version until the next change), each
 *   within lmdb-js's expected re-reads (nothing logged);
 * - a worker's drain counts hits answered at once and requests in flight, and
 *   ends when they are done, not at its deadline;
 * - health lists the seq each worker serves, and a worker stuck on an old state
 *   (stopped with SIGSTOP) makes the node `behind` and not ok until it catches up.
 * Every wait is a poll with a deadline.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEdgeNode, optionsFromEnv, type EdgeNode } from "../../edge-nodes/server.ts";
import { freePort, lambda, startFleet, startWebOrigin, type Fleet } from "../helpers/fleet.ts";
import { until } from "../helpers/until.ts";

const HOST = "workers.test";
const TIMEOUT = { timeout: 90_000 };


type Outcome = { kind: "answer"; status: number; body: string; error: string | undefined } | { kind: "closed"; code: string } | { kind: "hung" };

/** One GET on a fresh connection: an answer, a closed connection, or nothing within `ms` ("hung"). */
function outcome(url: string, path: string, ms = 15_000): Promise<Outcome> {
  const u = new URL(path, url);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, headers: { host: HOST }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => settle({ kind: "answer", status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), error: res.headers["x-verge-error"] as string | undefined }));
      res.on("error", (err: NodeJS.ErrnoException) => settle({ kind: "closed", code: err.code ?? err.message }));
    });
    const timer = setTimeout(() => {
      settle({ kind: "hung" });
      req.destroy();
    }, ms);
    req.on("error", (err: NodeJS.ErrnoException) => settle({ kind: "closed", code: err.code ?? err.message }));
    req.end();
  });
}

// ---- one supervised node (2 workers, at most 1 isolate per function in each) ----

const lines: Array<Record<string, unknown>> = [];
let shared: { fleet: Fleet; node: EdgeNode } | undefined;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const noStore = `headers: { "cache-control": [{ key: "Cache-Control", value: "no-store" }] }`;
const fn = (name: string) => ({ "viewer-request": { function: name, alias: "live", includeBody: false } });

async function supervised(): Promise<{ fleet: Fleet; node: EdgeNode }> {
  if (shared) return shared;
  const origin = await startWebOrigin((req, res) => res.writeHead(200, { "cache-control": "no-store" }).end(`origin ${req.url}`));
  cleanups.push(() => origin.close());
  const fleet = await startFleet({ nodes: 0 });
  cleanups.push(() => fleet.close());
  const dataDir = mkdtempSync(join(tmpdir(), "verge-edge-workers-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const node = await startEdgeNode({
    registry: { url: fleet.registry.url, token: fleet.nodeToken },
    nodeId: "node-w",
    region: "region-w",
    dataDir,
    port: await freePort(),
    host: "127.0.0.1",
    workers: 2,
    allowPrivateSubrequests: true,
    maxIsolatesPerFunction: 1,
    log: (line) => void lines.push(line as Record<string, unknown>),
  });
  fleet.nodes.push(node); // closed by fleet.close(); counted by waitApplied
  await fleet.publish("hello", lambda(`console.log("hello from " + cf.request.uri); return { status: "200", ${noStore}, body: "hello" };`));
  await fleet.publish("slow", lambda(`await new Promise((r) => setTimeout(r, 1500)); return { status: "200", ${noStore}, body: "slow" };`));
  await fleet.waitApplied(
    await fleet.distribution("workers", {
      hostnames: [HOST],
      origins: [{ id: "web", url: origin.url }],
      behaviors: [
        { pathPattern: "/hello/*", originId: "web", functions: fn("hello") },
        { pathPattern: "/slow/*", originId: "web", functions: fn("slow") },
      ],
      defaultBehavior: { originId: "web", functions: {} },
    }),
  );
  // Both workers have the distribution once fresh connections (round-robin) all answer.
  for (let i = 0; i < 4; i++) await until("the hello path on every worker", async () => ((await outcome(node.url, "/hello/warm")).kind === "answer" ? true : undefined));
  shared = { fleet, node };
  return shared;
}

async function workerPids(node: EdgeNode): Promise<number[]> {
  const o = await outcome(node.url, "/_verge/health");
  assert.equal(o.kind, "answer");
  return (JSON.parse((o as { body: string }).body) as { workers: Array<{ pid: number }> }).workers.map((w) => w.pid);
}

test("optionsFromEnv: VERGE_MAX_ISOLATES_PER_FUNCTION, VERGE_MAX_ISOLATES, VERGE_MAX_ISOLATES_PER_TENANT, each overridden by its option; anything but an integer ≥ 1 is refused", () => {
  const base = { VERGE_ORIGIN: "http://registry", VERGE_NODE_TOKEN: "t", VERGE_WORKERS: "0" };
  for (const [name, option] of [
    ["VERGE_MAX_ISOLATES_PER_FUNCTION", "maxIsolatesPerFunction"],
    ["VERGE_MAX_ISOLATES", "maxIsolates"],
    ["VERGE_MAX_ISOLATES_PER_TENANT", "maxIsolatesPerTenant"],
  ] as const) {
    assert.equal(optionsFromEnv(base)[option], undefined, `${name} unset: the runtime's default`);
    assert.equal(optionsFromEnv({ ...base, [name]: "" })[option], undefined, `${name} empty: the runtime's default`);
    assert.equal(optionsFromEnv({ ...base, [name]: "8" })[option], 8);
    assert.equal(optionsFromEnv({ ...base, [name]: "8" }, { [option]: 2 })[option], 2);
    for (const bad of ["0", "-1", "1.5", "many"]) {
      assert.throws(() => optionsFromEnv({ ...base, [name]: bad }), (e: { code?: string; message: string }) => e.code === "ERR_INVALID_OPTIONS" && e.message.startsWith(`${name}: expected an integer ≥ 1, found "${bad}"`));
    }
    assert.throws(() => optionsFromEnv(base, { [option]: 0 }), (e: { code?: string; message: string }) => e.code === "ERR_INVALID_OPTIONS" && e.message.startsWith(`${name}: expected an integer ≥ 1, found 0`));
  }
});

test("a supervised node's workers log through the `log` option, with their slot and pid", TIMEOUT, async () => {
  const { node } = await supervised();
  const pids = await workerPids(node);
  assert.equal(pids.length, 2);
  const r = await outcome(node.url, "/hello/logged");
  assert.equal(r.kind, "answer");
  const line = await until("the function's console line in the node's log", async () =>
    lines.find((l) => l.msg === "console" && typeof l.text === "string" && l.text.includes("hello from /hello/logged")),
  );
  assert.ok(pids.includes(line.pid as number), `pid ${String(line.pid)} is a worker's (${pids.join(", ")})`);
  assert.notEqual(line.pid, process.pid);
  assert.ok(line.worker === 0 || line.worker === 1, `worker slot ${String(line.worker)}`);
  assert.ok(lines.some((l) => l.event === "worker-ready"), "the supervisor's own events come through the same log");
});

test("maxIsolatesPerFunction reaches the workers: beyond one busy isolate per worker, requests are throttled", TIMEOUT, async () => {
  const { node } = await supervised();
  // 4 at once on 2 workers, each allowed 1 isolate of `slow`: at most 2 run.
  const all = await Promise.all([0, 1, 2, 3].map((i) => outcome(node.url, `/slow/${i}`)));
  const ok = all.filter((o) => o.kind === "answer" && o.status === 200);
  const throttled = all.filter((o) => o.kind === "answer" && o.status === 503 && o.error === "ERR_THROTTLED");
  assert.ok(ok.length >= 1 && ok.length <= 2, `1 or 2 served: ${JSON.stringify(all)}`);
  assert.equal(ok.length + throttled.length, 4, `the others throttled: ${JSON.stringify(all)}`);
});

test("a connection handed to a worker that dies before taking it is closed, never left hanging; later requests succeed", TIMEOUT, async () => {
  const { node } = await supervised();
  const [victim, other] = await workerPids(node);
  // Stopped, the victim reads nothing: a connection the primary hands it waits for an ack.
  process.kill(victim!, "SIGSTOP");
  try {
    const pending = [0, 1, 2, 3].map((i) => outcome(node.url, `/hello/queued-${i}`));
    const settled = new Set<number>();
    pending.forEach((p, i) => void p.then(() => settled.add(i)));
    // Round-robin: one of the first two goes to the stopped worker (then out of line), the rest to the other.
    await until("every request but the one handed to the stopped worker", async () => (settled.size >= 3 ? true : undefined));
    assert.equal(settled.size, 3, "exactly one connection is held by the stopped worker");
    process.kill(victim!, "SIGKILL");
    const results = await Promise.all(pending);
    for (const r of results) assert.notEqual(r.kind, "hung", `a request hung: ${JSON.stringify(results)}`);
    const served = results.filter((r) => r.kind === "answer" && r.status === 200 && r.body === "hello");
    assert.equal(served.length, 3, JSON.stringify(results));
    assert.equal(results.filter((r) => r.kind === "closed").length, 1, JSON.stringify(results));
    await until("the primary to log the closed connection", async () => lines.find((l) => l.event === "worker-connections-closed" && l.pid === victim));
  } finally {
    try {
      process.kill(victim!, "SIGKILL");
    } catch {
      // gone
    }
  }
  await until("a replacement worker", async () => {
    const now = await workerPids(node);
    return now.length === 2 && now.includes(other!) && !now.includes(victim!) ? true : undefined;
  });
  for (let i = 0; i < 10; i++) {
    const r = await outcome(node.url, `/hello/after-${i}`);
    assert.deepEqual([r.kind, (r as { status?: number }).status], ["answer", 200], `request ${i} after the restart: ${JSON.stringify(r)}`);
  }
});

test("verge edge prints its workers' log lines as JSON on stdout; --help names --max-isolates-per-function and --max-isolates-per-tenant", TIMEOUT, async (t) => {
  const { fleet } = await supervised();
  const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
  const help = spawnSync(process.execPath, ["--no-node-snapshot", main, "edge", "--help"], { encoding: "utf8" });
  assert.match(help.stdout, /--max-isolates-per-function <n>/);
  assert.match(help.stdout, /VERGE_MAX_ISOLATES_PER_FUNCTION/);
  assert.match(help.stdout, /--max-isolates-per-tenant <n>/);
  assert.match(help.stdout, /VERGE_MAX_ISOLATES_PER_TENANT/);

  const dataDir = mkdtempSync(join(tmpdir(), "verge-edge-cli-"));
  const port = await freePort();
  const args = ["--no-node-snapshot", main, "edge", "--port", String(port), "--origin", fleet.registry.url, "--token", fleet.nodeToken, "--data", dataDir, "--node-id", "node-cli", "--workers", "1", "--allow-private-subrequests"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise((r) => child.once("exit", r));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await until("verge edge to listen", async () => (out.includes(`listening on ${url}`) ? true : undefined), 60_000).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout:\n${out}\nstderr:\n${err}`);
  });
  await until("the hello function on the CLI's node", async () => {
    const r = await outcome(url, "/hello/from-cli");
    return r.kind === "answer" && r.status === 200 ? true : undefined;
  });
  const json = () => out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const line = await until("the worker's console line on stdout", async () => json().find((l) => l.msg === "console" && String(l.text).includes("/hello/from-cli")));
  assert.equal(line.worker, 0);
  assert.notEqual(line.pid, child.pid, "logged by the worker, forwarded by the primary");
  assert.ok(json().some((l) => l.event === "worker-ready"), "the supervisor's events on stdout too");
  child.kill("SIGTERM");
  await exited;
});

test("a supervised worker's drain counts cache hits answered at once and requests still in flight, and ends without its deadline", TIMEOUT, async (t) => {
  const { fleet } = await supervised();
  const origin = await startWebOrigin((req, res) => res.writeHead(200, { "cache-control": "max-age=300" }).end(`cached ${req.url}`));
  t.after(() => origin.close());
  await fleet.publish("drainslow", lambda(`console.log("drainslow started"); await new Promise((r) => setTimeout(r, 1500)); return { status: "200", ${noStore}, body: "slow done" };`));
  await fleet.waitApplied(
    await fleet.distribution("drain", {
      hostnames: ["drain.test"],
      origins: [{ id: "web", url: origin.url }],
      behaviors: [{ pathPattern: "/slow/*", originId: "web", functions: fn("drainslow") }],
      defaultBehavior: { originId: "web", functions: {} },
    }),
  );
  // Its own supervised node (one supervisor per process): `verge edge` in a child, one worker.
  const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
  const dataDir = mkdtempSync(join(tmpdir(), "verge-edge-drain-"));
  const port = await freePort();
  const args = ["--no-node-snapshot", main, "edge", "--port", String(port), "--origin", fleet.registry.url, "--token", fleet.nodeToken, "--data", dataDir, "--node-id", "node-drain", "--workers", "1", "--allow-private-subrequests"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.resume();
  const exited = new Promise<[number | null, string | null]>((r) => child.once("exit", (code, signal) => r([code, signal])));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  const json = () => out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const get = (path: string) =>
    new Promise<{ status: number; cache: string | undefined; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path, headers: { host: "drain.test" }, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, cache: res.headers["x-verge-cache"] as string | undefined, body }));
      });
      req.on("error", reject);
      req.end();
    });
  await until("the drain distribution on the node", async () => ((await get("/page").catch(() => undefined))?.status === 200 ? true : undefined), 60_000);
  for (let i = 0; i < 20; i++) assert.equal((await get("/page")).cache, "Hit", "a fresh hit: answered without a promise");
  const slow = get("/slow/x");
  await until("the slow function to start", async () => (json().some((l) => l.msg === "console" && l.text === "drainslow started") ? true : undefined));
  child.kill("SIGTERM");
  assert.deepEqual(await slow, { status: 200, cache: undefined, body: "slow done" }, "the request in flight finished during the drain");
  assert.deepEqual(await exited, [0, null]);
  assert.ok(json().some((l) => l.event === "worker-drain"), "the worker drained");
  assert.deepEqual(json().filter((l) => l.event === "worker-drain-timeout"), [], "its in-flight count reached 0 before the deadline");
});

interface WorkerHealth {
  pid: number;
  appliedSeq: number | null;
  behindSeconds: number;
}

/** /_verge/health on a fresh connection; undefined when the worker it went to did not answer within 2 s. */
async function healthOnce(node: EdgeNode): Promise<{ status: number; ok: boolean; behind: boolean; appliedSeq: number; workers: WorkerHealth[] } | undefined> {
  const o = await outcome(node.url, "/_verge/health", 2_000);
  return o.kind === "answer" ? { status: o.status, ...(JSON.parse(o.body) as { ok: boolean; behind: boolean; appliedSeq: number; workers: WorkerHealth[] }) } : undefined;
}

test("health lists the seq each worker serves; a worker stuck on an old state makes the node behind (503) until it catches up", TIMEOUT, async () => {
  const { fleet, node } = await supervised();
  const current = await until("both workers at the node's seq", async () => {
    const h = await healthOnce(node);
    return h !== undefined && h.workers.length === 2 && h.workers.every((w) => w.appliedSeq === h.appliedSeq) ? h : undefined;
  });
  assert.deepEqual([current.status, current.ok, current.behind], [200, true, false]);
  assert.deepEqual(current.workers.map((w) => w.behindSeconds), [0, 0]);

  // A worker that stops turning (SIGSTOP) keeps the state it had while the node applies a new one.
  const stuck = current.workers[0]!.pid;
  process.kill(stuck, "SIGSTOP");
  try {
    await fleet.publish("lag", lambda(`return cf.request;`));
    // Requests handed to the stopped worker get no answer: only the other worker's answers count.
    const lagging = await until("the node to report the stopped worker behind", async () => {
      const h = await healthOnce(node);
      return h?.behind === true ? h : undefined;
    });
    assert.equal(lagging.status, 503);
    assert.equal(lagging.ok, false);
    const stale = lagging.workers.find((w) => w.pid === stuck)!;
    const fresh = lagging.workers.find((w) => w.pid !== stuck)!;
    assert.ok(stale.appliedSeq !== null && stale.appliedSeq < lagging.appliedSeq, `the stopped worker serves seq ${stale.appliedSeq}, the node applied ${lagging.appliedSeq}`);
    assert.ok(stale.behindSeconds > 5);
    assert.deepEqual([fresh.appliedSeq, fresh.behindSeconds], [lagging.appliedSeq, 0]);
  } finally {
    process.kill(stuck, "SIGCONT");
  }
  const recovered = await until("the node to be ok again", async () => {
    const h = await healthOnce(node);
    return h?.ok === true ? h : undefined;
  });
  assert.equal(recovered.status, 200);
  assert.deepEqual(recovered.workers.map((w) => w.appliedSeq), [recovered.appliedSeq, recovered.appliedSeq]);
});

test("every deploy reaches every worker while the workers serve traffic", TIMEOUT, async () => {
  const { fleet, node } = await supervised();
  const site = (i: number) => `export default { fetch() { return new Response("v${i}"); } };\n`;
  await fleet.publish("site", site(0));
  await fleet.waitApplied(
    await fleet.distribution("deploys", {
      hostnames: ["deploys.test"],
      origins: [{ id: "web", url: "http://127.0.0.1:9" }], // never fetched: the Worker answers
      behaviors: [{ pathPattern: "/site/*", originId: "web", functions: { "viewer-request": { function: "site", alias: "live", includeBody: false } } }],
      defaultBehavior: { originId: "web", functions: {} },
    }),
  );
  const body = (host: string, path: string, agent: Agent | false) =>
    new Promise<string>((resolve, reject) => {
      const u = new URL(path, node.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, headers: { host }, agent }, (res) => {
        let b = "";
        res.setEncoding("utf8").on("data", (c: string) => (b += c));
        res.on("end", () => resolve(b));
      });
      req.on("error", reject);
      req.end();
    });
  // Traffic on both workers (two keep-alive connections, handed out round-robin): every
  // request reads the node's LMDB (cache lookup), so a read snapshot is nearly always open.
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  let stop = false;
  const traffic = [0, 1].map(async () => {
    while (!stop) await body(HOST, "/traffic", agent).catch(() => "");
  });
  const lineCount = lines.length;
  try {
    for (let i = 1; i <= 15; i++) {
      await fleet.publish("site", site(i));
      // Fresh connections go round-robin over the two workers: four new bodies in a row is both.
      let inARow = 0;
      await until(`deploy v${i} on both workers`, async () => {
        inARow = (await body("deploys.test", "/site/", false)) === `v${i}` ? inARow + 1 : 0;
        return inARow >= 4 ? true : undefined;
      }, 10_000);
    }
  } finally {
    stop = true;
    await Promise.all(traffic);
    agent.destroy();
  }
  const behind = lines.slice(lineCount).filter((l) => typeof l.msg === "string" && /behind the primary|periodic check found/.test(l.msg));
  assert.deepEqual(behind, [], "each reload message was caught up within the quiet re-reads, none by the periodic check");
});
