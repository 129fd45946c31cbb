/**
 * functions: figure 5 of issue 6 — one edge node with 1,000 distinct functions
 * live, under Zipf-distributed traffic: request latency (p50/p99/p999), cold
 * starts, isolates warm, the worker's RSS, and warm isolates per GiB; against the
 * same node and traffic sent to one function only (the baseline), same run.
 *
 * Setup (once per run, in this process): a registry (`verge origin`, child
 * process, temp LMDB) gets 1,000 functions — each a distinct hello-sized Workers
 * `fetch` handler answering its own name (a new version + alias `live` each) — and
 * 40 distributions `d<j>.fn.test`, each with 25 cache behaviors `/f<k>/*` whose
 * viewer-request runs function `f<25j+k>` through its alias. The registry's
 * validation allows 25 behaviors and 100 hostnames per distribution
 * (origin/validate/distribution.ts) and no limit on distributions or functions per
 * tenant, so 40 × 25 is the shape (1,000 behaviors in one distribution is refused).
 * The registry is stopped and its data directory kept as a template.
 *
 * Variants (fresh process each, per round, order alternating):
 * - one:  all traffic to one function (f0 on d0.fn.test) — the baseline.
 * - zipf: traffic over the 1,000 functions, P(rank k) ∝ 1/k^1.1 (rank k = f<k-1>).
 * Each variant process: a copy of the template registry (child process), an edge
 * node `startEdgeNode({ workers: 1 })` (this process = primary, one worker process =
 * the data plane, runtime defaults: idle isolates' heap capped at 512 MiB, LRU
 * beyond), started from the registry's snapshot; bundles are fetched from the
 * registry on each function's first request. Load: lib/load-client.ts (its own
 * process, raw sockets) at concurrency 8, closed loop: a warm-up run (the first
 * requests of every function: bundle fetch + cold start), then the measured run.
 * Before and after the measured run: the node's /_verge/metrics (cold starts
 * summed over functions, isolates warm), and the worker's RSS from /proc.
 *
 * Reported: p50/p99/p999 and requests/s of the measured run; cold starts in each
 * run; isolates warm and worker RSS at the end; warm isolates per GiB of worker
 * RSS, and the marginal density (zipf − one: extra isolates ÷ extra RSS) within a
 * round; p99 zipf ÷ one within a round. Target (borrowed from bench/density.ts,
 * issue 6 sets none here): ≥ 500 warm isolates per GiB (marginal, under traffic).
 *
 * Run: `npm run bench -- functions [--quick]` or
 * `node --no-node-snapshot bench/functions.ts [--rounds 2] [--quick] [--functions 1000]`;
 * `--from bench/results/<date>-functions.json` re-renders the report.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitResult, parseArgs, roundsOrPrevious, type RoundsResult } from "./lib/rounds.ts";
import { ADMIN, TENANT, call, must, setup, startRegistry } from "./lib/registry-server.ts";
import { freePort } from "./lib/proc.ts";
import { get } from "./lib/edge-servers.ts";
import { loadAt, type LoadReport } from "./lib/load.ts";
import { report, type FunctionsResult } from "./lib/functions-report.ts";

const SCRIPT = fileURLToPath(import.meta.url);
const PER_DISTRIBUTION = 25;
const CONCURRENCY = 8;
const ZIPF_S = 1.1;

export const VARIANTS: Record<string, string> = {
  one: "1 function gets all the traffic (baseline)",
  zipf: `1,000 functions, Zipf s=${ZIPF_S}`,
};

interface Template {
  dir: string;
  nodeToken: string;
  functions: number;
  seq: number;
  setupMs: number;
}

const host = (i: number) => `d${Math.floor(i / PER_DISTRIBUTION)}.fn.test`;
const path = (i: number) => `/f${i % PER_DISTRIBUTION}/x`;
const source = (i: number) => `// function f${i}\nexport default { fetch() { return new Response("f${i}"); } };\n`;

/** Runs `fn` over 0…n-1 with `width` at a time. */
async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** A registry data directory holding `count` functions and their distributions (see the header). */
async function prepare(count: number, log: (m: string) => void): Promise<Template> {
  const t0 = performance.now();
  const base = mkdtempSync(join(tmpdir(), "verge-bench-functions-"));
  const dir = join(base, "registry");
  const registry = await startRegistry({ dir, keepDir: true });
  try {
    const token = await setup(registry.url);
    const nodeToken = (await must(call(registry.url, "POST", "/v1/tokens", ADMIN, JSON.stringify({ tenant: null, scopes: ["node"], name: "bench-node" })), [201], "node token")).token as string;
    const api = `/v1/tenants/${TENANT}`;
    await pool(count, 8, async (i) => {
      const v = await must(call(registry.url, "POST", `${api}/functions/f${i}/versions`, token, source(i), "text/javascript"), [200, 201], `publish f${i}`);
      await must(call(registry.url, "PUT", `${api}/functions/f${i}/aliases/live`, token, JSON.stringify({ version: v.digest })), [200, 201], `alias f${i}`);
      if ((i + 1) % 250 === 0) log(`published ${i + 1} functions`);
    });
    const origin = { id: "web", url: "http://127.0.0.1:9" }; // never fetched: every behavior's Worker answers
    const dists = Math.ceil(count / PER_DISTRIBUTION);
    for (let j = 0; j < dists; j++) {
      const behaviors = [];
      for (let k = 0; k < PER_DISTRIBUTION && j * PER_DISTRIBUTION + k < count; k++) {
        behaviors.push({ pathPattern: `/f${k}/*`, originId: "web", functions: { "viewer-request": { function: `f${j * PER_DISTRIBUTION + k}`, alias: "live", includeBody: false } } });
      }
      await must(call(registry.url, "PUT", `${api}/distributions/d${j}`, token, JSON.stringify({ hostnames: [`d${j}.fn.test`], origins: [origin], behaviors, defaultBehavior: { originId: "web", functions: {} } })), [200, 201], `distribution d${j}`);
    }
    const seq = (await must(call(registry.url, "GET", "/v1/health", null), [200], "health")).seq as number;
    return { dir, nodeToken, functions: count, seq, setupMs: Math.round(performance.now() - t0) };
  } finally {
    await registry.stop();
  }
}

/** Sum of every sample of a Prometheus metric (all label sets, or those containing `label`). */
function metricSum(text: string, name: string, label?: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    if (label !== undefined && !rest.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Error responses by code during the measured run (verge_errors_total deltas). */
function errorCodes(before: string, after: string): Record<string, number> {
  const codes = (t: string) => new Set([...t.matchAll(/^verge_errors_total\{[^}]*code="([A-Z_]+)"/gm)].map((m) => m[1]!));
  const out: Record<string, number> = {};
  for (const code of codes(after)) {
    const d = metricSum(after, "verge_errors_total", `code="${code}"`) - metricSum(before, "verge_errors_total", `code="${code}"`);
    if (d > 0) out[code] = d;
  }
  return out;
}

function rssMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 102.4) / 10, hwm: Math.round(kb("VmHWM") / 102.4) / 10 };
}

async function variant(name: string, template: Template, quick: boolean): Promise<FunctionsResult> {
  const { startEdgeNode } = await import("../edge-nodes/server.ts");
  // Inside the run's directory, so the parent removes it even if this process is killed.
  const work = mkdtempSync(join(template.dir, "..", `run-${name}-`));
  const regDir = join(work, "registry");
  cpSync(template.dir, regDir, { recursive: true });
  const registry = await startRegistry({ dir: regDir });
  let node: { url: string; close(): Promise<void> } | undefined;
  try {
    const t0 = performance.now();
    node = await startEdgeNode({
      registry: { url: registry.url, token: template.nodeToken },
      nodeId: "bench-functions",
      region: "local",
      dataDir: join(work, "edge"),
      port: await freePort(),
      host: "127.0.0.1",
      workers: 1,
      allowPrivateSubrequests: true,
      log: () => {},
    });
    const url = node.url;
    const scrape = async (p: string) => (await get(url + p, "bench")).body;
    // The worker has the whole state once the last distribution answers through it.
    const deadline = performance.now() + 60_000;
    const last = template.functions - 1;
    for (;;) {
      const res = await get(`${url}${path(last)}`, host(last)).catch(() => null);
      if (res?.status === 200 && res.body === `f${last}`) break;
      if (performance.now() > deadline) throw new Error(`the node did not serve f${last} within 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const readyMs = Math.round(performance.now() - t0);
    const health = JSON.parse(await scrape("/_verge/health")) as { workers: Array<{ pid: number }>; appliedSeq: number };
    const pid = health.workers[0]!.pid;
    const port = Number(new URL(url).port);
    const count = name === "one" ? 1 : template.functions;
    const targets = Array.from({ length: count }, (_, i) => ({ host: host(i), path: path(i) }));
    const plan = { port, targets, ...(count > 1 ? { zipfS: ZIPF_S } : {}), concurrency: CONCURRENCY, warmupMs: 0 };
    const rssReady = rssMiB(pid);
    const m0 = await scrape("/_verge/metrics");
    const warm: LoadReport = await loadAt({ ...plan, durationMs: quick ? 4_000 : 8_000, seed: 1 });
    const m1 = await scrape("/_verge/metrics");
    const rssWarm = rssMiB(pid);
    const measured: LoadReport = await loadAt({ ...plan, durationMs: quick ? 6_000 : 15_000, seed: 2 });
    const m2 = await scrape("/_verge/metrics");
    const rssEnd = rssMiB(pid);
    const cold = (t: string) => metricSum(t, "verge_cold_starts_total");
    return {
      variant: name,
      functions: count,
      readyMs,
      warmup: warm,
      measured,
      coldStartsWarmup: cold(m1) - cold(m0),
      coldStartsMeasured: cold(m2) - cold(m1),
      isolatesWarm: metricSum(m2, "verge_isolates_warm"),
      isolatesAfterWarmup: metricSum(m1, "verge_isolates_warm"),
      workerRssMiB: rssEnd.rss,
      workerRssPeakMiB: rssEnd.hwm,
      workerRssReadyMiB: rssReady.rss,
      workerRssAfterWarmupMiB: rssWarm.rss,
      errorCodes: errorCodes(m1, m2),
    };
  } finally {
    await node?.close().catch(() => {});
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.variant !== undefined) {
    const template = JSON.parse(readFileSync(args.extra.template!, "utf8")) as Template;
    emitResult(await variant(args.variant, template, args.quick));
    process.exit(0);
  }
  const count = Number(args.extra.functions ?? 1000);
  let template: Template | undefined;
  let metaFile: string | undefined;
  try {
    if (args.extra.from === undefined) {
      console.log(`functions: preparing a registry with ${count} functions`);
      const t0 = performance.now();
      template = await prepare(count, (m) => console.log(`  [${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}`));
      console.log(`  registry ready in ${(template.setupMs / 1000).toFixed(1)} s (seq ${template.seq})`);
      metaFile = join(template.dir, "..", "template.json");
      writeFileSync(metaFile, JSON.stringify(template));
      // A signal ends this process with process.exit (lib/rounds.ts): remove the run's files then too.
      const base = join(template.dir, "..");
      if (args.extra["keep-template"] === undefined) process.on("exit", () => rmSync(base, { recursive: true, force: true }));
    }
    const { res, env, config } = await roundsOrPrevious<FunctionsResult>("functions", args, {
      script: SCRIPT,
      variants: Object.keys(VARIANTS),
      rounds: args.quick ? 1 : 2,
      budgetS: args.quick ? 60 : 150,
      timeoutMs: 180_000,
      extraArgs: [...(args.quick ? ["--quick"] : []), ...(metaFile ? ["--template", metaFile] : [])],
      detail: `concurrency ${CONCURRENCY}, ${args.quick ? "4 + 6" : "8 + 15"} s (warm-up + measured)`,
    });
    const prepared = (config as { setupMs?: number } | undefined)?.setupMs ?? template?.setupMs ?? NaN;
    const labels = { ...VARIANTS, zipf: `${count.toLocaleString("en-US")} functions, Zipf s=${ZIPF_S}` };
    report(res as RoundsResult<FunctionsResult>, env, { labels, functions: count, concurrency: CONCURRENCY, zipfS: ZIPF_S, quick: args.quick, setupMs: prepared, perDistribution: PER_DISTRIBUTION });
  } finally {
    if (template !== undefined && args.extra["keep-template"] === undefined) rmSync(join(template.dir, ".."), { recursive: true, force: true });
    else if (template !== undefined) console.log(`kept the template: ${metaFile}`);
  }
}

await main();
