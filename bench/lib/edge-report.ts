/** The table, verdicts, JSON and chart of bench/edge.ts. */
import { envLine, mdTable, medianRatio, series, writeResults, type RoundsResult } from "./rounds.ts";
import { fmt, median, quantile, round } from "./stats.ts";
import { barChart } from "./svg-chart.ts";
import type { LatencyResult, LoadReport } from "./load.ts";

export interface EdgeResult {
  variant: string;
  rps?: number;
  p50Us?: number;
  p99Us?: number;
  requests?: number;
  errors?: number;
  serverCpuUsPerReq?: number | null;
  c1?: LatencyResult;
  /** lambda variant: /hit/a and /lambda/a in turn at c=1, same process and window. */
  addedC1?: LatencyResult;
  /** Our own client at the same fixed concurrency as wrk (lib/load-client.ts). */
  load?: LoadReport;
  /** Status and x-verge-cache of one request before the measured run. */
  cache?: string;
  /** Per deploy: ms until all 3 nodes served the new version. */
  deployAllMs?: number[];
  deployPerNodeMs?: number[][];
  /** paired variant: wrk requests/s of each server per 1 s window, in cycle order. */
  paired?: Record<string, number[]>;
}

const TARGET_WORKER_X = 1.5;
const TARGET_HIT_X = 0.7;
const TARGET_ADDED_US = 100;
const TARGET_DEPLOY_MS = 1000;

export function report(res: RoundsResult<EdgeResult>, env: Record<string, unknown>, o: { variants: string[]; labels: Record<string, string>; connections: number; quick: boolean }): void {
  const date = new Date().toISOString().slice(0, 10);
  const load = o.variants.filter((v) => v !== "deploy" && v !== "paired");
  const med = (v: string, pick: (x: EdgeResult) => number) => round(median(series(res, v, pick)));
  const summary = Object.fromEntries(
    load.map((v) => [
      v,
      {
        label: o.labels[v],
        rps: Math.round(median(series(res, v, (x) => x.rps ?? NaN))),
        p50Us: med(v, (x) => x.p50Us ?? NaN),
        p99Us: med(v, (x) => x.p99Us ?? NaN),
        serverCpuUsPerReq: med(v, (x) => x.serverCpuUsPerReq ?? NaN),
        c1P50Us: med(v, (x) => x.c1?.p50Us ?? NaN),
        c1P99Us: med(v, (x) => x.c1?.p99Us ?? NaN),
        loadRps: Math.round(median(series(res, v, (x) => x.load?.rps ?? NaN))),
        loadP50Us: med(v, (x) => x.load?.p50Us ?? NaN),
        loadP99Us: med(v, (x) => x.load?.p99Us ?? NaN),
        loadP999Us: med(v, (x) => x.load?.p999Us ?? NaN),
        loadErrors: series(res, v, (x) => x.load?.errors ?? 0).reduce((a, b) => a + b, 0),
        xNode: round(medianRatio(res, v, "node", (x) => x.rps ?? NaN)),
        xHono: round(medianRatio(res, v, "hono", (x) => x.rps ?? NaN)),
        xWorkerd: round(medianRatio(res, v, "workerd", (x) => x.rps ?? NaN)),
        p99xHono: round(medianRatio(res, v, "hono", (x) => x.load?.p99Us ?? NaN)),
        cpuxHono: round(medianRatio(res, v, "hono", (x) => x.serverCpuUsPerReq ?? NaN)),
        errors: series(res, v, (x) => x.errors ?? 0).reduce((a, b) => a + b, 0),
        cache: res.rounds.map((r) => r.results[v]?.cache ?? "").find((c) => c !== "") ?? "",
        rounds: series(res, v, (x) => x.rps ?? NaN),
      },
    ]),
  );
  // Per round: p50(c) − p50(a) of the interleaved run in the lambda variant's process (edge.ts (4));
  // a result from before that run existed falls back to the two variants' own c=1 p50s.
  const addedOf = (r: (typeof res.rounds)[number]): number[] => {
    const paired = r.results.lambda?.addedC1?.paths;
    if (paired !== undefined) {
      const [a, c] = Object.values(paired);
      return a !== undefined && c !== undefined ? [c.p50Us - a.p50Us] : [];
    }
    return r.results.lambda?.c1 && r.results.hit?.c1 ? [r.results.lambda.c1.p50Us - r.results.hit.c1.p50Us] : [];
  };
  const addedRounds = res.rounds.flatMap(addedOf);
  const addedUs = round(median(addedRounds));
  const pairedRounds = res.rounds.flatMap((r) => (r.results.lambda?.addedC1?.pairedDiffP50Us !== undefined ? [r.results.lambda.addedC1.pairedDiffP50Us] : []));
  const separateRounds = res.rounds.flatMap((r) => (r.results.lambda?.c1 && r.results.hit?.c1 ? [r.results.lambda.c1.p50Us - r.results.hit.c1.p50Us] : []));
  const interleaved = res.rounds.flatMap((r) => (r.results.lambda?.addedC1?.paths !== undefined ? [Object.values(r.results.lambda.addedC1.paths)] : []));
  // (5) The interleaved ratios, one per cycle of each round; the targets' figures when present.
  const pairedRatios = (num: string, den: string): number[] =>
    res.rounds.flatMap((r) => {
      const p = r.results.paired?.paired;
      return p?.[num] === undefined || p[den] === undefined ? [] : p[num]!.map((x, i) => x / p[den]![i]!);
    });
  const hitPaired = pairedRatios("hit", "hono");
  const workerPaired = pairedRatios("worker", "workerd");
  const workerSeparate = summary.worker?.xWorkerd ?? NaN;
  const hitSeparate = summary.hit?.xHono ?? NaN;
  const workerX = workerPaired.length > 0 ? round(median(workerPaired)) : workerSeparate;
  const hitX = hitPaired.length > 0 ? round(median(hitPaired)) : hitSeparate;
  const how = (paired: number[], separate: number) => (paired.length > 0 ? `interleaved, median of ${paired.length} pairs; separate processes: ${fmt(separate)} ×` : "separate processes");
  const deployAll = res.rounds.flatMap((r) => r.results.deploy?.deployAllMs ?? []);
  const deployRoundP99 = res.rounds.flatMap((r) => (r.results.deploy?.deployAllMs ? [quantile(r.results.deploy.deployAllMs, 0.99)] : []));
  const deploy = { n: deployAll.length, p50Ms: round(quantile(deployAll, 0.5)), p99Ms: round(quantile(deployAll, 0.99)), maxMs: round(Math.max(...deployAll)), roundP99Ms: deployRoundP99.map((x) => round(x)) };
  const verdicts = [
    { target: `(d) Workers hello at viewer-request ≥ ${TARGET_WORKER_X}× workerd's requests/s (one server core each)`, value: workerX, unit: "×", met: workerX >= TARGET_WORKER_X, how: how(workerPaired, workerSeparate) },
    { target: `(a) cache hit ≥ ${TARGET_HIT_X}× bare Hono's requests/s`, value: hitX, unit: "×", met: hitX >= TARGET_HIT_X, how: how(hitPaired, hitSeparate) },
    { target: `added p50 of a trivial viewer-request function ≤ ${TARGET_ADDED_US} µs ((c) − (a), concurrency 1)`, value: addedUs, unit: "µs", met: addedUs <= TARGET_ADDED_US },
    { target: `deploy propagation p99 ≤ ${TARGET_DEPLOY_MS} ms to all 3 nodes (publish + alias move → new body everywhere)`, value: deploy.p99Ms, unit: "ms", met: deploy.p99Ms <= TARGET_DEPLOY_MS },
  ];
  const json = {
    benchmark: "edge",
    environment: env,
    config: { rounds: res.rounds.length, variants: o.variants, connections: o.connections, quick: o.quick, load: "wrk -t1 (req/s, CPU); lib/load-client.ts at the same concurrency (percentiles); lib/latency-client.ts (c=1)", edgeNode: "startEdgeNode({ workers: 1 }) — one worker process" },
    verdicts,
    summary,
    addedLatencyUs: addedUs,
    addedLatencyRounds: addedRounds,
    addedLatencyPairedMedianRounds: pairedRounds,
    addedLatencySeparateRounds: separateRounds,
    pairedRatios: { hitOverHono: hitPaired.map((x) => round(x)), workerOverWorkerd: workerPaired.map((x) => round(x)) },
    deploy,
    raw: res.rounds,
    failures: res.failures,
    wallMs: Math.round(res.wallMs),
  };

  const cols = res.rounds.map((r) => `r${r.round}`);
  const window = o.quick ? 2 : 3;
  let md = `## edge — ${date}\n\n${envLine(env)}\n\n`;
  md += `Figure 4 of issue 6 and the edge-node targets of issue 4. One edge node supervised with 1 worker process (one server core) vs bare node:http, a bare Hono hello world and \`workerd serve\` with the same hello Worker, all on 127.0.0.1. Per variant: \`wrk -t1 -c${o.connections}\` for ${window} s after a 1 s warm-up (requests/s, server CPU of the server's process tree from /proc over that run: it includes the idle registry and edge primary, and the origin in (b)); then our own closed-loop client at the same ${o.connections} connections (raw sockets, its own process: p50/p99/p999); then concurrency 1 (one keep-alive connection, back to back). Median over ${res.rounds.length} round${res.rounds.length === 1 ? "" : "s"} (fresh processes per variant per round, order alternating); r1…rN are each round's wrk requests/s; ×node, ×Hono, ×workerd and p99 ×Hono are within-round ratios, then the median.${o.quick ? " **Quick run (--quick): 1 round, shorter windows.**" : ""}\n\n`;
  for (const v of verdicts) md += `- **Target** ${v.target}: **${v.met ? "MET" : "MISSED"}** (${fmt(v.value)} ${v.unit}${"how" in v ? `; ${v.how}` : ""})\n`;
  md += `\n`;
  md += mdTable(
    ["variant", "req/s (wrk)", "×node", "×Hono", "×workerd", "server CPU µs/req", `c=${o.connections} p50 µs`, `c=${o.connections} p99 µs`, `c=${o.connections} p999 µs`, "p99 ×Hono", `c=${o.connections} req/s (ours)`, "c=1 p50 µs", "c=1 p99 µs", "check", ...cols],
    load.map((v) => {
      const s = summary[v]!;
      return [s.label!, fmt(s.rps, 0), fmt(s.xNode), fmt(s.xHono), fmt(s.xWorkerd), fmt(s.serverCpuUsPerReq), fmt(s.loadP50Us), fmt(s.loadP99Us), fmt(s.loadP999Us), fmt(s.p99xHono), fmt(s.loadRps, 0), fmt(s.c1P50Us), fmt(s.c1P99Us), s.cache || "200", ...res.rounds.map((r) => fmt(r.results[v]?.rps, 0))];
    }),
  );
  md += `\nAdded p50 of the viewer-request function at c=1, (c) − (a): **${fmt(addedUs)} µs** (rounds: ${addedRounds.map((x) => fmt(x)).join(", ")})`;
  if (interleaved.length > 0) {
    md += `, from /hit/a and /lambda/a taken in turn on one connection in the lambda variant's process (p50 a / c per round: ${interleaved.map(([a, c]) => `${fmt(a?.p50Us)} / ${fmt(c?.p50Us)}`).join(", ")}; ${fmt(interleaved[0]?.[0]?.n, 0)}+ samples each); median of the adjacent pairs' differences ${pairedRounds.map((x) => fmt(x)).join(", ")} µs; the two variants' own c=1 p50s, measured in separate processes, differ by ${separateRounds.map((x) => fmt(x)).join(", ")} µs.`;
  } else md += `.`;
  md += ` Errors (non-2xx/socket) under wrk: ${load.map((v) => `${v} ${summary[v]!.errors}`).join(", ")}; under our client: ${load.map((v) => `${v} ${summary[v]!.loadErrors}`).join(", ")}. "check" is the status and x-verge-cache of one request before the measured run.\n\n`;
  if (hitPaired.length > 0) {
    md += `Interleaved (variant \`paired\`: the edge node, Hono and workerd alive at once, \`wrk -c${o.connections}\` 1 s on each in turn, the order reversed every other cycle): hit ÷ Hono per pair ${hitPaired.map((x) => fmt(x)).join(", ")}; Workers hello ÷ workerd per pair ${workerPaired.map((x) => fmt(x)).join(", ")}. The (a) and (d) verdicts above use their medians.\n\n`;
  }
  md += `Our client's own requests/s is lower than wrk's where the client, not the server, is the limit (the fast baselines): its percentiles then include its own queueing; for the verge variants the server is the limit. wrk's p50/p99 are in the JSON only.\n\n`;
  md += `Deploy propagation (3 nodes \`workers: 0\` in one process, ${deploy.n} deploys over ${deployRoundP99.length} round(s), each: publish a new version + move the alias, then poll each node until it serves the new body): p50 **${fmt(deploy.p50Ms)} ms**, p99 **${fmt(deploy.p99Ms)} ms**, max ${fmt(deploy.maxMs)} ms (per-round p99: ${deploy.roundP99Ms.map((x) => fmt(x)).join(", ")} ms).\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;

  const svg = barChart({
    title: `Figure 4 — one edge node (1 worker) vs node:http, Hono and workerd: requests/s, wrk -c${o.connections}`,
    subtitle: `127.0.0.1 · ${res.rounds.length} round(s), fresh processes · ${env.cpu as string} · load ${(env.loadavg as number[]).join(" / ")} · ${date}`,
    unit: "requests/s (higher is better)",
    targets: [
      ...(summary.workerd ? [{ value: summary.workerd.rps * TARGET_WORKER_X, label: `(d) target: ${TARGET_WORKER_X}× workerd` }] : []),
      ...(summary.hono ? [{ value: summary.hono.rps * TARGET_HIT_X, label: `(a) target: ${TARGET_HIT_X}× Hono` }] : []),
    ],
    bars: load.map((v) => ({
      label: o.labels[v]!,
      value: summary[v]!.rps,
      highlight: !["node", "hono", "workerd"].includes(v),
      note: `${fmt(summary[v]!.rps, 0)} req/s · ${fmt(summary[v]!.xHono)}× Hono · p99 ${fmt(summary[v]!.loadP99Us)} µs · ${fmt(summary[v]!.serverCpuUsPerReq)} µs CPU`,
    })),
  });
  const paths = writeResults("edge", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}
