/** The table, verdict, JSON and chart of bench/functions.ts (figure 5 of issue 6). */
import { envLine, mdTable, medianRatio, series, writeResults, type RoundsResult } from "./rounds.ts";
import { fmt, median, round } from "./stats.ts";
import { barChart } from "./svg-chart.ts";
import type { LoadReport } from "./load.ts";

export interface FunctionsResult {
  variant: string;
  /** Functions the traffic went to. */
  functions: number;
  /** Node start → the last function served (snapshot applied, worker reloaded). */
  readyMs: number;
  warmup: LoadReport;
  measured: LoadReport;
  coldStartsWarmup: number;
  coldStartsMeasured: number;
  isolatesWarm: number;
  isolatesAfterWarmup: number;
  workerRssMiB: number;
  workerRssPeakMiB: number;
  workerRssReadyMiB: number;
  workerRssAfterWarmupMiB: number;
  /** verge_errors_total by code over the measured run. */
  errorCodes: Record<string, number>;
}

/** Borrowed from bench/density.ts (idle isolates); issue 6 sets no number for figure 5. */
const TARGET_PER_GIB = 500;

export function report(
  res: RoundsResult<FunctionsResult>,
  env: Record<string, unknown>,
  o: { labels: Record<string, string>; functions: number; concurrency: number; zipfS: number; quick: boolean; setupMs: number; perDistribution: number },
): void {
  const date = new Date().toISOString().slice(0, 10);
  const variants = Object.keys(o.labels);
  const med = (v: string, pick: (x: FunctionsResult) => number) => round(median(series(res, v, pick)));
  const perGiB = (x: FunctionsResult) => x.isolatesWarm / (x.workerRssMiB / 1024);
  const summary = Object.fromEntries(
    variants.map((v) => [
      v,
      {
        label: o.labels[v],
        rps: Math.round(median(series(res, v, (x) => x.measured.rps))),
        p50Us: med(v, (x) => x.measured.p50Us),
        p99Us: med(v, (x) => x.measured.p99Us),
        p999Us: med(v, (x) => x.measured.p999Us),
        maxUs: med(v, (x) => x.measured.maxUs),
        distinct: med(v, (x) => x.measured.distinct),
        coldStartsWarmup: med(v, (x) => x.coldStartsWarmup),
        coldStartsMeasured: med(v, (x) => x.coldStartsMeasured),
        coldPerKReq: med(v, (x) => (x.coldStartsMeasured / Math.max(1, x.measured.n)) * 1000),
        isolatesWarm: med(v, (x) => x.isolatesWarm),
        workerRssMiB: med(v, (x) => x.workerRssMiB),
        workerRssPeakMiB: med(v, (x) => x.workerRssPeakMiB),
        perGiB: med(v, perGiB),
        errors: series(res, v, (x) => x.measured.errors).reduce((a, b) => a + b, 0),
        p99xOne: round(medianRatio(res, v, "one", (x) => x.measured.p99Us)),
        p50xOne: round(medianRatio(res, v, "one", (x) => x.measured.p50Us)),
        rpsxOne: round(medianRatio(res, v, "one", (x) => x.measured.rps)),
        p99Rounds: series(res, v, (x) => x.measured.p99Us),
      },
    ]),
  );
  // Marginal density within a round: what the 1,000 functions' extra isolates cost in RSS over the baseline's.
  const marginalRounds = res.rounds.flatMap((r) => {
    const z = r.results.zipf;
    const one = r.results.one;
    if (z === undefined || one === undefined) return [];
    const dIso = z.isolatesWarm - one.isolatesWarm;
    const dRss = z.workerRssMiB - one.workerRssMiB;
    return dRss > 0 ? [dIso / (dRss / 1024)] : [];
  });
  const marginal = round(median(marginalRounds));
  const verdicts = [
    { target: `≥ ${TARGET_PER_GIB} warm isolates per GiB of worker RSS with ${o.functions.toLocaleString("en-US")} functions live under traffic (marginal over the 1-function baseline; the idle-density target of bench/density.ts)`, value: marginal, unit: "per GiB", met: marginal >= TARGET_PER_GIB },
  ];
  const json = {
    benchmark: "functions",
    environment: env,
    config: { rounds: res.rounds.length, variants, functions: o.functions, shape: `${Math.ceil(o.functions / o.perDistribution)} distributions × ${o.perDistribution} behaviors, viewer-request Workers fetch through alias live`, concurrency: o.concurrency, zipfS: o.zipfS, quick: o.quick, setupMs: o.setupMs, edgeNode: "startEdgeNode({ workers: 1 }), runtime defaults (idle isolates' heap ≤ 512 MiB per worker)" },
    verdicts,
    summary,
    marginalPerGiB: marginal,
    marginalRounds: marginalRounds.map((x) => round(x)),
    raw: res.rounds,
    failures: res.failures,
    wallMs: Math.round(res.wallMs),
  };

  const cols = res.rounds.map((r) => `r${r.round}`);
  const z = summary.zipf;
  const one = summary.one;
  let md = `## functions — ${date}\n\n${envLine(env)}\n\n`;
  md += `Figure 5 of issue 6. One edge node (\`verge edge --workers 1\`: the primary + one worker process, runtime defaults) with **${o.functions.toLocaleString("en-US")} distinct functions live** (${Math.ceil(o.functions / o.perDistribution)} distributions × ${o.perDistribution} behaviors, each a hello-sized Workers \`fetch\` at viewer-request, through its alias; the registry allows at most 25 behaviors per distribution). Traffic: our closed-loop client (its own process, raw sockets, concurrency ${o.concurrency}) over the functions with Zipf s=${o.zipfS} (rank k gets ∝ 1/k^${o.zipfS}), vs the same node with all traffic to one function (baseline, same round). Per variant, a fresh node: a ${o.quick ? 4 : 8} s warm-up run (first requests: bundle fetched from the registry + cold start), then the measured ${o.quick ? 6 : 15} s run. Cold starts from the node's \`verge_cold_starts_total\`, isolates from \`verge_isolates_warm\`, RSS of the worker process from /proc at the end. Median over ${res.rounds.length} round${res.rounds.length === 1 ? "" : "s"} (fresh processes, order alternating); ×1 fn are within-round ratios. Registry setup (publish ${o.functions.toLocaleString("en-US")} versions + aliases + distributions, once per run): ${fmt(o.setupMs / 1000)} s.${o.quick ? " **Quick run (--quick): 1 round, shorter windows.**" : ""}\n\n`;
  for (const v of verdicts) md += `- **Target** ${v.target}: **${v.met ? "MET" : "MISSED"}** (${fmt(v.value)} ${v.unit})\n`;
  md += `\n`;
  md += mdTable(
    ["traffic", "req/s", "p50 µs", "p99 µs", "p999 µs", "p50 ×1 fn", "p99 ×1 fn", "functions hit", "cold starts (warm-up / measured)", "cold per 1k req", "isolates warm", "worker RSS MiB (peak)", "isolates per GiB RSS", "errors", ...cols.map((c) => `${c} p99 µs`)],
    variants.map((v) => {
      const s = summary[v]!;
      return [s.label!, fmt(s.rps, 0), fmt(s.p50Us), fmt(s.p99Us), fmt(s.p999Us), fmt(s.p50xOne), fmt(s.p99xOne), fmt(s.distinct, 0), `${fmt(s.coldStartsWarmup, 0)} / ${fmt(s.coldStartsMeasured, 0)}`, fmt(s.coldPerKReq), fmt(s.isolatesWarm, 0), `${fmt(s.workerRssMiB)} (${fmt(s.workerRssPeakMiB)})`, fmt(s.perGiB), fmt(s.errors, 0), ...res.rounds.map((r) => fmt(r.results[v]?.measured.p99Us))];
    }),
  );
  md += `\nMarginal density (zipf − baseline, within a round): **${fmt(marginal)} warm isolates per GiB** of extra worker RSS (rounds: ${marginalRounds.map((x) => fmt(x)).join(", ")}).`;
  if (z !== undefined && one !== undefined) md += ` With ${o.functions.toLocaleString("en-US")} functions, p99 is **${fmt(z.p99xOne)}×** and p50 ${fmt(z.p50xOne)}× the 1-function baseline's; ${fmt(z.coldPerKReq)} requests in 1,000 still start an isolate after the warm-up (the pool keeps idle isolates within 512 MiB of heap per worker, LRU beyond).`;
  md += `\n`;
  const codes = res.rounds.flatMap((r) => Object.entries(r.results.zipf?.errorCodes ?? {}).map(([c, n]) => `${c} ${n} (r${r.round})`));
  if (codes.length > 0) md += `\nError responses during the measured zipf runs, by code: ${codes.join(", ")}.\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;

  const svg = barChart({
    title: `Figure 5 — one edge node, ${o.functions.toLocaleString("en-US")} functions live (Zipf s=${o.zipfS}) vs 1 function: latency at concurrency ${o.concurrency}`,
    subtitle: `1 worker process · 127.0.0.1 · ${res.rounds.length} round(s) · ${env.cpu as string} · load ${(env.loadavg as number[]).join(" / ")} · ${date}`,
    unit: "µs (lower is better)",
    log: true,
    bars: variants.flatMap((v) => {
      const s = summary[v]!;
      const extra = `${fmt(s.isolatesWarm, 0)} isolates · ${fmt(s.workerRssMiB, 0)} MiB · ${fmt(s.coldPerKReq)} cold/1k req`;
      return [
        { label: `${v === "one" ? "1 fn" : `${o.functions} fns`}: p50`, value: s.p50Us, highlight: v !== "one", note: `${fmt(s.p50Us)} µs` },
        { label: `${v === "one" ? "1 fn" : `${o.functions} fns`}: p99`, value: s.p99Us, highlight: v !== "one", note: `${fmt(s.p99Us)} µs · ${extra}` },
        { label: `${v === "one" ? "1 fn" : `${o.functions} fns`}: p999`, value: s.p999Us, highlight: v !== "one", note: `${fmt(s.p999Us)} µs` },
      ];
    }),
  });
  const paths = writeResults("functions", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}
