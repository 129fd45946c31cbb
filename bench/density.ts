/**
 * density: how many idle, warm isolates of a small function fit in a GiB of RSS.
 *
 * What is measured, per fresh process: one warm-up sandbox is created and
 * disposed (loads isolated-vm, builds the prelude code cache), then the host
 * heap is collected and RSS is read (the baseline). Then N sandboxes are created
 * with `new Sandbox(...)`, each for a distinct function id (a new version: no
 * shared code cache), each serves one request (so it is warm: the handler and
 * the prelude's request path are compiled), and all are kept alive, idle.
 * RSS is read at four checkpoints (N/4, N/2, 3N/4, N, after a host GC); the
 * per-isolate cost is the least-squares slope of RSS over the count, which
 * ignores one-off costs. Isolates per GiB = 1024 / (MiB per isolate).
 *
 * Variants: verge (hello-world Worker), verge-50k (the ~50 KB router Worker of
 * cold-start), and node-vm (a `node:vm` context per function in the host isolate:
 * the no-isolation baseline; its ratio shows what a whole isolate per function costs).
 *
 * Run: `npm run bench -- density` or
 *      `node --no-node-snapshot bench/density.ts [--rounds 3] [--quick] [--n 200]`
 */
import { fileURLToPath } from "node:url";
import { emitResult, envLine, mdTable, medianRatio, parseArgs, roundsOrPrevious, series, writeResults } from "./lib/rounds.ts";
import { median, round, fmt } from "./lib/stats.ts";
import { barChart } from "./lib/svg-chart.ts";
import { bodyText } from "./lib/proc.ts";
import { helloBundle, routerBundle, ROUTER_PROBE_PATH } from "./lib/worker-bundle.ts";

const SCRIPT = fileURLToPath(import.meta.url);
const TARGET_PER_GIB = 500;
const MiB = 1024 * 1024;

interface VariantResult {
  variant: string;
  n: number;
  baselineRssMiB: number;
  points: Array<{ n: number; rssMiB: number }>;
  /** Least-squares slope of RSS over the isolate count. */
  mibPerIsolate: number;
  perGiB: number;
  /** V8 heap used per isolate as the runtime reports it (used + external), MiB. */
  heapMiBPerIsolate: number | null;
  createMsPerIsolate: number;
}

const VARIANTS: Record<string, string> = {
  verge: "verge isolate, hello-world Worker",
  "verge-50k": "verge isolate, 50 KB router Worker",
  "node-vm": "node:vm context, hello-world (baseline, no isolation)",
};

function slope(points: Array<{ n: number; rssMiB: number }>): number {
  const xs = points.map((p) => p.n);
  const ys = points.map((p) => p.rssMiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

async function settle(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().rss / MiB;
}

async function runVariantMain(name: string, n: number): Promise<void> {
  const keep: unknown[] = [];
  let make: (i: number) => Promise<{ heapBytes: number | null }>;
  let dispose: (x: unknown) => void = () => {};
  if (name === "node-vm") {
    const vm = await import("node:vm");
    make = async (i) => {
      const ctx = vm.createContext({ Request, Response, URL, Headers });
      new vm.Script(helloBundle(`vm-${i}`).replace("export default {", "globalThis.__worker = {")).runInContext(ctx);
      const res: Response = await (ctx as { __worker: { fetch(r: Request): Promise<Response> } }).__worker.fetch(new Request("http://localhost/"));
      if ((await res.text()) !== "hello world") throw new Error("node-vm: unexpected body");
      keep.push(ctx);
      return { heapBytes: null };
    };
  } else {
    const { Sandbox, createHostServices } = await import("../src/runtime/index.ts");
    const { defaultLimits } = await import("../src/index.ts");
    const services = createHostServices();
    const limits = defaultLimits();
    const big = name === "verge-50k";
    make = async (i) => {
      const id = `${name}-${process.pid}-${i}`;
      const sb = new Sandbox({ source: { id, code: big ? routerBundle(50 * 1024, id) : helloBundle(id), format: "esm" }, limits, env: {}, bindings: {}, services });
      const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: `http://localhost${big ? ROUTER_PROBE_PATH : "/"}`, headers: [], body: null } });
      if (out.kind !== "response") throw new Error(`${name}: expected a response, got ${out.kind === "error" ? out.error.message : out.kind}`);
      await bodyText(out.response.body);
      await out.finished;
      keep.push(sb);
      return { heapBytes: sb.heapBytes };
    };
    dispose = (x) => (x as { dispose(): void }).dispose();
  }
  // Warm-up: one throwaway, so the baseline includes every one-off cost.
  await make(-1);
  dispose(keep.pop());
  const baseline = await settle();
  const points: VariantResult["points"] = [{ n: 0, rssMiB: round(baseline) }];
  const checkpoints = new Set([Math.round(n / 4), Math.round(n / 2), Math.round((3 * n) / 4), n]);
  let heap = 0;
  let heapKnown = true;
  const t0 = performance.now();
  let createMs = 0;
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const r = await make(i);
    createMs += performance.now() - a;
    if (r.heapBytes === null) heapKnown = false;
    else heap += r.heapBytes;
    if (checkpoints.has(i + 1)) points.push({ n: i + 1, rssMiB: round(await settle()) });
  }
  void t0;
  const mib = slope(points);
  emitResult({
    variant: name,
    n,
    baselineRssMiB: round(baseline),
    points,
    mibPerIsolate: round(mib),
    perGiB: Math.round(1024 / mib),
    heapMiBPerIsolate: heapKnown ? round(heap / n / MiB) : null,
    createMsPerIsolate: round(createMs / n),
  } satisfies VariantResult);
  for (const x of keep) dispose(x);
  process.exit(0);
}

async function main(): Promise<void> {
  const args = parseArgs();
  const nArg = Number(args.extra.n ?? (args.quick ? 100 : 150));
  if (args.variant !== undefined) return runVariantMain(args.variant, nArg);
  const { res, env, config } = await roundsOrPrevious<VariantResult>("density", args, {
    script: SCRIPT,
    variants: Object.keys(VARIANTS),
    rounds: 3,
    budgetS: args.quick ? 40 : 90,
    detail: `${nArg} isolates each`,
    timeoutMs: 180_000,
    nodeFlags: ["--expose-gc"],
    extraArgs: ["--n", String(nArg)],
  });
  const { variants, n } = (config as { variants: string[]; n: number } | undefined) ?? { variants: Object.keys(VARIANTS), n: nArg };
  const rounds = res.rounds.length;
  const med = (v: string, pick: (x: VariantResult) => number) => round(median(series(res, v, pick)));
  const summary = Object.fromEntries(
    variants.map((v) => [
      v,
      {
        label: VARIANTS[v],
        mibPerIsolate: med(v, (x) => x.mibPerIsolate),
        perGiB: Math.round(median(series(res, v, (x) => x.perGiB))),
        heapMiBPerIsolate: med(v, (x) => x.heapMiBPerIsolate ?? NaN),
        createMsPerIsolate: med(v, (x) => x.createMsPerIsolate),
        rounds: series(res, v, (x) => x.perGiB),
      },
    ]),
  );
  const verdict = { target: `≥ ${TARGET_PER_GIB} idle warm isolates (hello) per GiB of RSS`, value: summary.verge!.perGiB, met: summary.verge!.perGiB >= TARGET_PER_GIB };
  const ratios = {
    "verge MiB ÷ node-vm MiB": round(medianRatio(res, "verge", "node-vm", (x) => x.mibPerIsolate)),
    "verge-50k MiB ÷ verge MiB": round(medianRatio(res, "verge-50k", "verge", (x) => x.mibPerIsolate)),
  };
  const json = { benchmark: "density", environment: env, config: { rounds, variants, n }, verdict, summary, ratios, raw: res.rounds, failures: res.failures, wallMs: Math.round(res.wallMs) };

  const roundCols = res.rounds.map((r) => `r${r.round}`);
  let md = `## density — ${new Date().toISOString().slice(0, 10)}\n\n`;
  md += `${envLine(env)}\n\n`;
  md += `${n} idle warm isolates per process (each served one request), distinct function ids; MiB per isolate = slope of RSS over the count (host GC before each reading). Median over ${res.rounds.length} rounds; r1…rN are each round's isolates per GiB.\n\n`;
  md += `**Target** ${verdict.target}: **${verdict.met ? "met" : "MISSED"}** (${fmt(verdict.value, 0)} per GiB).\n\n`;
  md += mdTable(
    ["variant", "per GiB RSS", "MiB RSS each", "MiB V8 heap each", "create ms each", ...roundCols],
    variants.map((v) => {
      const s = summary[v]!;
      return [s.label!, fmt(s.perGiB, 0), fmt(s.mibPerIsolate, 2), fmt(s.heapMiBPerIsolate, 2), fmt(s.createMsPerIsolate), ...res.rounds.map((r) => fmt(r.results[v]?.perGiB, 0))];
    }),
  );
  md += `\nverge isolate ÷ node:vm context memory: **${fmt(ratios["verge MiB ÷ node-vm MiB"], 1)}×**; 50 KB Worker ÷ hello: ${fmt(ratios["verge-50k MiB ÷ verge MiB"], 2)}×.\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;
  const svg = barChart({
    title: "Idle warm functions per GiB of RSS (higher is better)",
    subtitle: `${n} per process · ${res.rounds.length} rounds, fresh process per variant per round · ${env.cpu as string} · ${new Date().toISOString().slice(0, 10)}`,
    unit: "functions per GiB of RSS",
    log: true,
    targets: [{ value: TARGET_PER_GIB, label: `target ${TARGET_PER_GIB}` }],
    bars: variants.map((v) => ({ label: VARIANTS[v]!, value: summary[v]!.perGiB, highlight: v.startsWith("verge"), note: `${fmt(summary[v]!.perGiB, 0)} / GiB · ${fmt(summary[v]!.mibPerIsolate, 2)} MiB each` })),
  });
  const paths = writeResults("density", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}

await main();
