/**
 * warm-dispatch: the cost of one request to a hello-world fetch handler that is
 * already loaded, called back to back (concurrency 1).
 *
 * Variants (each in a fresh process per round, order alternating by round):
 * - plain: the same handler as a plain Node function, `await fetch(new Request(url))`
 *   then `await res.text()`. The baseline: what the JS itself costs in Node.
 * - runtime: the in-process runtime, `createRuntime(...).fetch(spec, request)`, read
 *   the body, and wait for `finished` (the isolate goes back to the pool only then,
 *   so a back-to-back caller must wait for it).
 * - harness: `new Verge({ modules: true, script })` → `dispatchFetch(url)` +
 *   `res.text()`; the runtime runs in a child process behind IPC.
 * - miniflare: `new Miniflare({ modules: true, script })` → `dispatchFetch(url)` +
 *   `res.text()`; workerd runs in a child process behind loopback HTTP.
 *
 * How: warm up for a fixed time, then call in a loop for a fixed window; report
 * µs per call (window ÷ calls), calls/s, per-call latency p50/p99, and CPU per
 * call of the whole process tree (this process plus its children, from /proc)
 * so work moved to a child process is still counted. Summary = median over
 * rounds; ratios (runtime − plain, harness ÷ miniflare) are taken within a round.
 *
 * Run: `npm run bench -- warm-dispatch` or
 *      `node --no-node-snapshot bench/warm-dispatch.ts [--rounds 5] [--quick]`
 */
import { fileURLToPath } from "node:url";
import { emitResult, envLine, mdTable, medianRatio, parseArgs, roundsOrPrevious, series, writeResults } from "./lib/rounds.ts";
import { median, quantile, round, fmt } from "./lib/stats.ts";
import { barChart } from "./lib/svg-chart.ts";
import { bodyText, treeCpuMs } from "./lib/proc.ts";
import { helloBundle, helloNative } from "./lib/worker-bundle.ts";

const SCRIPT = fileURLToPath(import.meta.url);
const URL_ = "http://localhost/";
const TARGET_OVERHEAD_US = 30;
const TARGET_HARNESS_X = 10;

interface VariantResult {
  variant: string;
  calls: number;
  windowMs: number;
  usPerCall: number;
  callsPerSec: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number };
  /** CPU of this process per call. */
  selfCpuUsPerCall: number;
  /** CPU of this process and all its children per call (null where /proc is missing). */
  treeCpuUsPerCall: number | null;
}

const VARIANTS: Record<string, string> = {
  plain: "plain Node function call (baseline)",
  runtime: "verge runtime, in process",
  harness: "verge harness (Verge, child process)",
  miniflare: "Miniflare 4 dispatchFetch",
};

type Call = () => Promise<void>;

async function setup(name: string): Promise<{ call: Call; close: () => Promise<void> }> {
  const script = helloBundle("warm");
  const check = (text: string) => {
    if (text !== "hello world") throw new Error(`${name}: unexpected body ${JSON.stringify(text.slice(0, 200))}`);
  };
  switch (name) {
    case "plain":
      return {
        call: async () => {
          const res = await helloNative.fetch(new Request(URL_));
          check(await res.text());
        },
        close: async () => {},
      };
    case "runtime": {
      const { createRuntime, createHostServices } = await import("../src/runtime/index.ts");
      const { defaultLimits } = await import("../src/index.ts");
      const services = createHostServices();
      const rt = createRuntime({ services });
      const spec = { source: { id: "hello", code: script, format: "esm" as const }, limits: defaultLimits(), env: {}, bindings: {} };
      return {
        call: async () => {
          const r = await rt.fetch(spec, { method: "GET", url: URL_, headers: [], body: null });
          if (r.type !== "response") throw new Error("runtime: expected a response");
          check(await bodyText(r.response.body));
          await r.finished;
        },
        close: async () => {
          rt.dispose();
          await services.close();
        },
      };
    }
    case "harness": {
      const { Verge } = await import("../src/index.ts");
      const verge = new Verge({ modules: true, script });
      await verge.ready;
      return {
        call: async () => {
          const res = await verge.dispatchFetch(URL_);
          check(await res.text());
        },
        close: () => verge.dispose(),
      };
    }
    case "miniflare": {
      const { Miniflare } = await import("miniflare");
      const mf = new Miniflare({ modules: true, script, compatibilityDate: "2024-09-23" });
      await mf.ready;
      return {
        call: async () => {
          const res = await mf.dispatchFetch(URL_);
          check(await res.text());
        },
        close: () => mf.dispose(),
      };
    }
  }
  throw new Error(`unknown variant ${name}`);
}

async function runVariantMain(name: string, quick: boolean): Promise<void> {
  const { call, close } = await setup(name);
  const warmupMs = quick ? 300 : 700;
  const windowMs = quick ? 800 : 2000;
  let t = performance.now();
  let n = 0;
  while (performance.now() - t < warmupMs || n < 200) {
    await call();
    n++;
  }
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const tree0 = treeCpuMs();
  t = performance.now();
  const end = t + windowMs;
  let now = t;
  while (now < end) {
    const a = now;
    await call();
    now = performance.now();
    lat.push(now - a);
  }
  const elapsed = now - t;
  const cpu = process.cpuUsage(cpu0);
  const tree1 = treeCpuMs();
  await close();
  const calls = lat.length;
  const us = (ms: number) => round(ms * 1000);
  emitResult({
    variant: name,
    calls,
    windowMs: round(elapsed),
    usPerCall: round((elapsed * 1000) / calls),
    callsPerSec: Math.round((calls * 1000) / elapsed),
    latencyUs: { p50: us(quantile(lat, 0.5)), p90: us(quantile(lat, 0.9)), p99: us(quantile(lat, 0.99)), max: us(lat.reduce((a, b) => (b > a ? b : a), 0)) },
    selfCpuUsPerCall: round((cpu.user + cpu.system) / calls),
    treeCpuUsPerCall: tree0 === null || tree1 === null ? null : round(((tree1 - tree0) * 1000) / calls),
  } satisfies VariantResult);
  process.exit(0);
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.variant !== undefined) return runVariantMain(args.variant, args.quick);
  const { res, env, config } = await roundsOrPrevious<VariantResult>("warm-dispatch", args, {
    script: SCRIPT,
    variants: Object.keys(VARIANTS),
    rounds: args.quick ? 3 : 5,
    budgetS: args.quick ? 40 : 90,
    timeoutMs: 60_000,
    extraArgs: args.quick ? ["--quick"] : [],
  });
  const variants = (config as { variants: string[] } | undefined)?.variants ?? Object.keys(VARIANTS);
  const rounds = res.rounds.length;

  const med = (v: string, pick: (x: VariantResult) => number) => round(median(series(res, v, pick)));
  const summary = Object.fromEntries(
    variants.map((v) => [
      v,
      {
        label: VARIANTS[v],
        usPerCall: med(v, (x) => x.usPerCall),
        callsPerSec: Math.round(median(series(res, v, (x) => x.callsPerSec))),
        p50Us: med(v, (x) => x.latencyUs.p50),
        p99Us: med(v, (x) => x.latencyUs.p99),
        selfCpuUsPerCall: med(v, (x) => x.selfCpuUsPerCall),
        treeCpuUsPerCall: med(v, (x) => x.treeCpuUsPerCall ?? NaN),
        rounds: series(res, v, (x) => x.usPerCall),
      },
    ]),
  );
  const overheads = res.rounds.flatMap((r) => (r.results.runtime && r.results.plain ? [r.results.runtime.usPerCall - r.results.plain.usPerCall] : []));
  const overheadUs = round(median(overheads));
  const harnessX = round(medianRatio(res, "harness", "miniflare", (x) => x.callsPerSec));
  const verdicts = [
    { target: `in-process overhead ≤ ${TARGET_OVERHEAD_US} µs/call over the plain call`, value: overheadUs, unit: "µs", met: overheadUs <= TARGET_OVERHEAD_US },
    { target: `harness ≥ ${TARGET_HARNESS_X}× Miniflare's calls/s`, value: harnessX, unit: "×", met: harnessX >= TARGET_HARNESS_X },
  ];
  const ratios = {
    "runtime/plain": round(medianRatio(res, "runtime", "plain", (x) => x.usPerCall)),
    "harness/plain": round(medianRatio(res, "harness", "plain", (x) => x.usPerCall)),
    "miniflare/plain": round(medianRatio(res, "miniflare", "plain", (x) => x.usPerCall)),
    "harness calls/s ÷ miniflare calls/s": harnessX,
    "runtime calls/s ÷ miniflare calls/s": round(medianRatio(res, "runtime", "miniflare", (x) => x.callsPerSec)),
  };
  const json = { benchmark: "warm-dispatch", environment: env, config: { rounds, variants, url: URL_ }, verdicts, overheadUs, overheadRounds: overheads.map((x) => round(x)), summary, ratios, raw: res.rounds, failures: res.failures, wallMs: Math.round(res.wallMs) };

  const roundCols = res.rounds.map((r) => `r${r.round}`);
  let md = `## warm-dispatch — ${new Date().toISOString().slice(0, 10)}\n\n`;
  md += `${envLine(env)}\n\n`;
  md += `Hello-world fetch handler, warm, called back to back (concurrency 1). Median over ${res.rounds.length} rounds (fresh process per variant per round); r1…rN are each round's µs/call. CPU counts this process and its children.\n\n`;
  for (const v of verdicts) md += `- **Target** ${v.target}: **${v.met ? "met" : "MISSED"}** (${fmt(v.value)} ${v.unit})\n`;
  md += `\n`;
  md += mdTable(
    ["variant", "µs/call", "calls/s", "p50 µs", "p99 µs", "CPU µs/call", "×plain", ...roundCols],
    variants.map((v) => {
      const s = summary[v]!;
      const ratio = v === "plain" ? 1 : ratios[`${v}/plain` as keyof typeof ratios];
      return [s.label!, fmt(s.usPerCall), fmt(s.callsPerSec, 0), fmt(s.p50Us), fmt(s.p99Us), fmt(s.treeCpuUsPerCall), fmt(ratio, 1), ...res.rounds.map((r) => fmt(r.results[v]?.usPerCall))];
    }),
  );
  md += `\nIn-process overhead over the plain call: **${fmt(overheadUs)} µs** per call (rounds: ${overheads.map((x) => fmt(x)).join(", ")}). Harness calls/s ÷ Miniflare calls/s: **${fmt(harnessX, 1)}×**.\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;

  const svg = barChart({
    title: "Warm dispatch, hello-world handler (µs per call, lower is better)",
    subtitle: `concurrency 1 · ${res.rounds.length} rounds, fresh process per variant per round · ${env.cpu as string} · ${new Date().toISOString().slice(0, 10)}`,
    unit: "µs per call",
    log: true,
    targets: [
      { value: summary.plain!.usPerCall + TARGET_OVERHEAD_US, label: `target: plain + ${TARGET_OVERHEAD_US} µs` },
      { value: summary.miniflare!.usPerCall / TARGET_HARNESS_X, label: `target: Miniflare ÷ ${TARGET_HARNESS_X}` },
    ],
    bars: variants.map((v) => ({
      label: VARIANTS[v]!,
      value: summary[v]!.usPerCall,
      highlight: v === "runtime" || v === "harness",
      note: `${fmt(summary[v]!.usPerCall)} µs · ${fmt(summary[v]!.callsPerSec, 0)} calls/s`,
    })),
  });
  const paths = writeResults("warm-dispatch", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}

await main();
