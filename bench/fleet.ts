/**
 * fleet: a registry and 3 edge nodes in 3 "regions" (issue 6): per node, the
 * latency of each path through it, deploy propagation, cold start, and what a
 * registry outage does to traffic.
 *
 * Topology (lib/netns.ts): as root with iproute2, the registry in its own network
 * namespace and each node in its own, joined by a veth link per node delayed by
 * `tc netem` (1 / 20 / 60 ms one way ≈ 2 / 40 / 120 ms RTT); a kernel without netem
 * keeps the namespaces and delays through a TCP delay proxy in each node's
 * namespace (lib/delay-proxy.ts); without root, everything on 127.0.0.1 with the
 * proxy. The results name the mode. Each node is `verge edge --workers 1` (a
 * supervisor following the registry's feed + one worker process), with a customer
 * origin and a client (lib/fleet-agent.ts) in its namespace: the client is near
 * its node, the registry is far. Publishing is done from this process over an
 * undelayed admin link (a CI runner next to the registry).
 *
 * Figures, in this order, on one fleet (one process each for registry, proxies,
 * origins, edges and clients; load bounded in count and time, only inside the
 * namespaces or on 127.0.0.1):
 * 1. latency at concurrency 1 (back to back, keep-alive) per node: the origin
 *    directly (baseline), cache hit, miss (TTL 0), a trivial Lambda@Edge function
 *    on each of the four events, a Workers fetch hello at viewer-request; R rounds
 *    with the order of targets alternating; p50 = median of the rounds' p50s,
 *    p99/p999 over all samples; ×hit and ×origin are within-round ratios of p50.
 * 3. cold start: per trial, per node, the first request for a version whose
 *    bundle is (a) already in the node's LMDB (the same bytes were loaded for
 *    another function just before; a new function = a new isolate) or (b) only
 *    at the registry (a fresh 50 KiB bundle, fetched over the node's delayed link);
 *    the request starts once the node has applied the alias change
 *    (`/_verge/health` appliedSeq); the second request, and the median of the five
 *    after it (warm, the baseline), are kept too.
 * 2. deploy propagation: D deploys one at a time, each a new version of a
 *    viewer-request Worker + an alias move; from just before the publish until each
 *    node's client sees the new body (polling its node every 2 ms, one request in
 *    flight): per node and for all nodes (the slowest), p50/p99.
 * 6. registry down: every node's client runs a closed loop (concurrency 2, hit /
 *    Worker / viewer-request Lambda) for T s with the registry up, then again while
 *    the registry process is SIGKILLed at 20 % of T and restarted (same data, same
 *    port) at 55 %; errors (must be 0) and p99, with the up window as baseline; then
 *    one deploy after the restart must reach every node (the followers reconnect).
 * Throughput vs workerd / Hono and density are bench/edge.ts and bench/density.ts.
 *
 * Run: `npm run bench -- fleet [--quick] [--loopback]` or
 * `node --no-node-snapshot bench/fleet.ts [--quick] [--loopback]`;
 * `--from bench/results/<date>-fleet.json` re-renders the report.
 */
import { readFileSync } from "node:fs";
import { environment, parseArgs } from "./lib/rounds.ts";
import { routerBundle, ROUTER_PROBE_PATH } from "./lib/worker-bundle.ts";
import { startFleet, type Fleet, type FleetNode } from "./lib/fleet-servers.ts";
import type { Region } from "./lib/netns.ts";
import { report, type FleetResult, type LatencyRun, type LoadRun } from "./lib/fleet-report.ts";

const REGIONS: Region[] = [
  { name: "near (2 ms RTT)", oneWayMs: 1 },
  { name: "mid (40 ms RTT)", oneWayMs: 20 },
  { name: "far (120 ms RTT)", oneWayMs: 60 },
];

const lambda = (where: "request" | "response") =>
  `export const handler = async (event) => { const x = event.Records[0].cf.${where}; x.headers["x-bench"] = [{ key: "X-Bench", value: "1" }]; return x; };\n`;
const SITE = (i: number) => `export default { fetch() { return new Response("v${i}"); } };\n`;
const HELLO = `export default { fetch() { return new Response("hello world"); } };\n`;

/** Targets of figure 1: name → path (or the origin itself). */
export const LATENCY_TARGETS: Record<string, string> = {
  origin: "origin directly, no edge (baseline)",
  hit: "cache hit, no function",
  miss: "cache miss (TTL 0) to the origin",
  vreq: "viewer-request Lambda@Edge + hit",
  oreq: "origin-request Lambda@Edge + miss",
  ores: "origin-response Lambda@Edge + miss",
  vres: "viewer-response Lambda@Edge + hit",
  worker: "Workers fetch hello at viewer-request",
};

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function configure(fleet: Fleet): Promise<void> {
  const fns: Record<string, string> = { vreq: lambda("request"), oreq: lambda("request"), ores: lambda("response"), vres: lambda("response"), hello: HELLO, site: SITE(0), prime: HELLO, cold: HELLO };
  for (const [fn, src] of Object.entries(fns)) await fleet.setAlias(fn, await fleet.publishVersion(fn, src));
  const assoc = (event: string, fn: string) => ({ [event]: { function: fn, alias: "live", includeBody: false } });
  const noTtl = { min: 0, default: 0, max: 0 };
  for (const n of fleet.nodes) {
    await fleet.distribution(`n${n.index}`, {
      hostnames: [n.host],
      origins: [{ id: "web", url: n.originUrl }],
      behaviors: [
        { pathPattern: "/hit/*", originId: "web", functions: {} },
        { pathPattern: "/miss/*", originId: "web", ttl: noTtl, functions: {} },
        { pathPattern: "/vreq/*", originId: "web", functions: assoc("viewer-request", "vreq") },
        { pathPattern: "/oreq/*", originId: "web", ttl: noTtl, functions: assoc("origin-request", "oreq") },
        { pathPattern: "/ores/*", originId: "web", ttl: noTtl, functions: assoc("origin-response", "ores") },
        { pathPattern: "/vres/*", originId: "web", functions: assoc("viewer-response", "vres") },
        { pathPattern: "/worker/*", originId: "web", functions: assoc("viewer-request", "hello") },
        { pathPattern: "/site/*", originId: "web", functions: assoc("viewer-request", "site") },
        { pathPattern: "/prime/*", originId: "web", functions: assoc("viewer-request", "prime") },
        { pathPattern: "/api/*", originId: "web", functions: assoc("viewer-request", "cold") },
      ],
      defaultBehavior: { originId: "web", functions: {} },
    });
  }
  await Promise.all(
    fleet.nodes.flatMap((n) => [
      n.client.call("wait", { url: `${n.edgeUrl}/site/`, host: n.host, want: "v0", timeoutMs: 60_000, gapMs: 20 }),
      n.client.call("wait", { url: `${n.edgeUrl}/worker/`, host: n.host, want: "hello world", timeoutMs: 60_000, gapMs: 20 }),
    ]),
  );
}

async function latencyFigure(fleet: Fleet, quick: boolean): Promise<LatencyRun[]> {
  const out: LatencyRun[] = [];
  for (const n of fleet.nodes) {
    const targets = Object.keys(LATENCY_TARGETS).map((name) => (name === "origin" ? { name, url: `${n.originUrl}/a` } : { name, url: `${n.edgeUrl}/${name}/a`, host: n.host }));
    const r = await n.client.call("latency", { targets, n: quick ? 150 : 500, warmup: quick ? 20 : 50, rounds: quick ? 2 : 3 });
    out.push({ node: n.index, ...r });
  }
  return out;
}

async function appliedEverywhere(fleet: Fleet, seq: number): Promise<void> {
  await Promise.all(fleet.nodes.map((n) => n.client.call("health", { url: `${n.edgeUrl}/_verge/health`, seq, timeoutMs: 30_000 })));
}

async function coldFigure(fleet: Fleet, quick: boolean): Promise<FleetResult["cold"]> {
  const trials: FleetResult["cold"] = [];
  const first = (n: FleetNode, path: string) => n.client.call<{ ms: number; status: number; body: string }>("first", { url: `${n.edgeUrl}${path}`, host: n.host });
  const stamp = Date.now().toString(36);
  for (let k = 0; k < (quick ? 3 : 5); k++) {
    for (const kind of k % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const)) {
      const src = routerBundle(50 * 1024, `fleet-${stamp}-${kind}-${k}`);
      if (kind === "a") {
        // The same bytes, loaded first for another function: in LMDB, no isolate for `cold`.
        await appliedEverywhere(fleet, await fleet.setAlias("prime", await fleet.publishVersion("prime", src)));
        for (const n of fleet.nodes) await first(n, "/prime/x");
      }
      await appliedEverywhere(fleet, await fleet.setAlias("cold", await fleet.publishVersion("cold", src)));
      for (const n of fleet.nodes) {
        // The node says it applied the alias; a response of the previous version means
        // its worker has not switched yet: count those, and time the first fresh one.
        const salt = `fleet-${stamp}-${kind}-${k}`;
        let a = await first(n, ROUTER_PROBE_PATH);
        let stale = 0;
        const deadline = performance.now() + 10_000;
        while (!a.body.includes(salt) && performance.now() < deadline) {
          stale++;
          await sleep(5);
          a = await first(n, ROUTER_PROBE_PATH);
        }
        const b = await first(n, ROUTER_PROBE_PATH);
        const warm: number[] = [];
        for (let j = 0; j < 5; j++) warm.push((await first(n, ROUTER_PROBE_PATH)).ms);
        trials.push({ trial: k, kind, node: n.index, stale, fresh: a.body.includes(salt), firstMs: a.ms, secondMs: b.ms, warmMs: warm.sort((x, y) => x - y)[2]!, status: a.status, warmStatus: b.status });
      }
    }
  }
  return trials;
}

/** A deploy not served by a node within this is counted as missed (and the run goes on). */
const DEPLOY_TIMEOUT_MS = 10_000;
const misses: NonNullable<FleetResult["deployMisses"]> = [];

async function deployFigure(fleet: Fleet, count: number, from: number): Promise<FleetResult["deploys"]> {
  const deploys: FleetResult["deploys"] = [];
  for (let i = from; i < from + count; i++) {
    const want = `v${i}`;
    const t0 = now();
    const waits = fleet.nodes.map((n) =>
      n.client.call<{ at: number }>("wait", { url: `${n.edgeUrl}/site/`, host: n.host, want, timeoutMs: DEPLOY_TIMEOUT_MS, gapMs: 2 }).catch(async (err: Error) => {
        // Not there in time: keep what the node says about itself, and go on.
        const health = await n.client.call<{ body: string }>("first", { url: `${n.edgeUrl}/_verge/health`, host: "health" }).then((h) => h.body.slice(0, 400), (e: Error) => e.message);
        misses.push({ deploy: i, node: n.index, error: err.message, health, registrySeq: await fleet.seq().catch(() => -1) });
        return { at: NaN };
      }),
    );
    const digest = await fleet.publishVersion("site", SITE(i));
    await fleet.setAlias("site", digest);
    const acked = now() - t0;
    const arrivals = await Promise.all(waits);
    deploys.push({ deploy: i, ackMs: acked, perNodeMs: arrivals.map((a) => (Number.isNaN(a.at) ? null : a.at - t0)) });
    await sleep(50);
  }
  return deploys;
}

async function downFigure(fleet: Fleet, quick: boolean): Promise<FleetResult["down"]> {
  const durationMs = quick ? 6_000 : 12_000;
  const load = () =>
    Promise.all(
      fleet.nodes.map((n) =>
        n.client.call<LoadRun>("load", {
          targets: ["hit", "worker", "vreq"].map((name) => ({ name, url: `${n.edgeUrl}/${name}/a`, host: n.host })),
          concurrency: 2,
          durationMs,
        }),
      ),
    );
  const up = await load();
  const t0 = now();
  const downRun = load();
  await sleep(durationMs * 0.2);
  const killAt = now() - t0;
  await fleet.killRegistry();
  await sleep(durationMs * 0.35);
  const restartAt = now() - t0;
  await fleet.startRegistry();
  const readyAt = now() - t0;
  const down = await downRun;
  // The followers must come back: one deploy after the restart reaches every node.
  const after = await deployFigure(fleet, 1, 1000);
  return { durationMs, up, down, killAtMs: killAt, restartAtMs: restartAt, readyAtMs: readyAt, deployAfter: after };
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.extra.from !== undefined) {
    report(JSON.parse(readFileSync(args.extra.from, "utf8")) as FleetResult);
    return;
  }
  const t0 = performance.now();
  const log = (m: string) => console.log(`  [${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}`);
  console.log(`fleet: registry + ${REGIONS.length} edge nodes${args.quick ? " (quick)" : ""}`);
  const fleet = await startFleet(REGIONS, { loopback: "loopback" in args.extra || process.argv.includes("--loopback"), log });
  try {
    log(fleet.topology.note);
    await configure(fleet);
    log("configured; latency (1)");
    const latency = await latencyFigure(fleet, args.quick);
    log("cold start (3)");
    const cold = await coldFigure(fleet, args.quick);
    log("deploy propagation (2)");
    const deploys = await deployFigure(fleet, args.quick ? 10 : 20, 1);
    log("registry down (6)");
    const down = await downFigure(fleet, args.quick);
    log("done");
    const result: FleetResult = {
      name: "fleet",
      config: { quick: args.quick, regions: REGIONS, topology: fleet.topology.mode, note: fleet.topology.note, latencyTargets: LATENCY_TARGETS },
      environment: await environment(),
      wallMs: performance.now() - t0,
      latency,
      cold,
      deploys,
      deployMisses: misses,
      down,
    };
    await fleet.close();
    report(result);
  } finally {
    await fleet.close();
  }
}

await main();
process.exit(0);
