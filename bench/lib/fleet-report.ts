/** The tables, JSON and chart of bench/fleet.ts. */
import { envLine, mdTable, writeResults } from "./rounds.ts";
import { fmt, median, quantile, round } from "./stats.ts";
import { barChart, type Bar } from "./svg-chart.ts";
import type { Region } from "./netns.ts";

export interface LatencyRun {
  node: number;
  /** Per round: target → µs samples. */
  rounds: Array<Record<string, number[]>>;
  /** Target → responses outside 200–399. */
  bad: Record<string, number>;
  /** Target → status and x-verge-cache of the last warm-up request. */
  check: Record<string, string>;
}

export interface LoadRun {
  startMs: number[];
  latUs: number[];
  errors: Array<{ atMs: number; target: string; what: string }>;
}

export interface FleetResult {
  name: "fleet";
  config: { quick: boolean; regions: Region[]; topology: string; note: string; latencyTargets: Record<string, string> };
  environment: Record<string, unknown>;
  wallMs: number;
  latency: LatencyRun[];
  cold: Array<{ trial: number; kind: "a" | "b"; node: number; stale?: number; fresh?: boolean; firstMs: number; secondMs?: number; warmMs: number; status: number; warmStatus: number }>;
  /** perNodeMs[i] is null when node i did not serve the deploy within the timeout (see deployMisses). */
  deploys: Array<{ deploy: number; ackMs: number; perNodeMs: Array<number | null> }>;
  deployMisses?: Array<{ deploy: number; node: number; error: string; health: string; registrySeq: number }>;
  down: {
    durationMs: number;
    up: LoadRun[];
    down: LoadRun[];
    killAtMs: number;
    restartAtMs: number;
    readyAtMs: number;
    deployAfter: Array<{ deploy: number; ackMs: number; perNodeMs: Array<number | null> }> | string;
  };
}

const TARGET_DEPLOY_P99_MS = 1000;

const ms = (us: number) => us / 1000;

function latencySummary(run: LatencyRun, target: string) {
  const perRound = run.rounds.map((r) => r[target] ?? []);
  const all = perRound.flat();
  const p50s = perRound.map((s) => quantile(s, 0.5));
  const ratio = (base: string) => median(run.rounds.map((r) => quantile(r[target] ?? [], 0.5) / quantile(r[base] ?? [], 0.5)));
  return { n: all.length, p50Us: median(p50s), p99Us: quantile(all, 0.99), p999Us: quantile(all, 0.999), xHit: ratio("hit"), xOrigin: ratio("origin"), roundsP50Us: p50s.map((x) => round(x)) };
}

function loadSummary(run: LoadRun, from = 0, to = Infinity) {
  const lat = run.latUs.filter((_, i) => run.startMs[i]! >= from && run.startMs[i]! < to);
  return { requests: lat.length, errors: run.errors.filter((e) => e.atMs >= from && e.atMs < to).length, p50Ms: ms(quantile(lat, 0.5)), p99Ms: ms(quantile(lat, 0.99)), maxMs: ms(Math.max(...lat)) };
}

export function report(r: FleetResult): void {
  const regions = r.config.regions;
  const label = (i: number) => `n${i} ${regions[i]!.name}`;
  const targets = Object.keys(r.config.latencyTargets);
  const latency = r.latency.map((run) => Object.fromEntries(targets.map((t) => [t, latencySummary(run, t)])));
  const nodes = regions.map((_, i) => i);
  const deploy = {
    perNode: nodes.map((i) => {
      const v = r.deploys.flatMap((d) => (d.perNodeMs[i] == null ? [] : [d.perNodeMs[i]!]));
      return { p50Ms: quantile(v, 0.5), p99Ms: quantile(v, 0.99), maxMs: Math.max(...v), missed: r.deploys.length - v.length };
    }),
    all: (() => {
      // A deploy some node missed counts as infinitely slow for "all nodes".
      const v = r.deploys.map((d) => (d.perNodeMs.some((x) => x == null) ? Infinity : Math.max(...(d.perNodeMs as number[]))));
      return { p50Ms: quantile(v, 0.5), p99Ms: quantile(v, 0.99), maxMs: Math.max(...v), missed: v.filter((x) => x === Infinity).length };
    })(),
    ackP50Ms: quantile(r.deploys.map((d) => d.ackMs), 0.5),
  };
  const cold = nodes.map((i) => {
    const pick = (kind: "a" | "b") => r.cold.filter((c) => c.node === i && c.kind === kind);
    const a = pick("a");
    const b = pick("b");
    const warm = r.cold.filter((c) => c.node === i).map((c) => c.warmMs);
    return {
      aMs: median(a.map((c) => c.firstMs)),
      bMs: median(b.map((c) => c.firstMs)),
      warmMs: median(warm),
      secondMs: median(r.cold.filter((c) => c.node === i).map((c) => c.secondMs ?? NaN)),
      aRaw: a.map((c) => round(c.firstMs)),
      bRaw: b.map((c) => round(c.firstMs)),
      stale: r.cold.filter((c) => c.node === i).reduce((x, c) => x + (c.stale ?? 0), 0),
      statuses: [...new Set(r.cold.filter((c) => c.node === i).map((c) => `${c.status}/${c.warmStatus}`))].join(", "),
    };
  });
  const d = r.down;
  const down = nodes.map((i) => ({
    up: loadSummary(d.up[i]!),
    whole: loadSummary(d.down[i]!),
    outage: loadSummary(d.down[i]!, d.killAtMs, d.readyAtMs),
  }));
  const totalErrors = d.down.reduce((s, x) => s + x.errors.length, 0) + d.up.reduce((s, x) => s + x.errors.length, 0);
  const summary = { latency, deploy, cold, down, totalErrors };

  const rounds = Math.max(...r.latency.map((x) => x.rounds.length));
  const lines: string[] = [];
  const date = String(r.environment.date ?? new Date().toISOString()).slice(0, 10);
  lines.push(`## fleet — ${date}\n`);
  lines.push(`${envLine(r.environment)}\n`);
  lines.push(`Topology: **${r.config.topology}** — ${r.config.note}. One registry (\`verge origin\`) and ${regions.length} edge nodes (\`verge edge --workers 1\`), each with its customer origin and its client in its own namespace; one-way delays to the registry ${regions.map((x) => `${x.oneWayMs} ms`).join(" / ")}. Whole run ${fmt(r.wallMs / 1000)} s${r.config.quick ? " (--quick)" : ""}.\n`);
  const deployMet = deploy.all.p99Ms <= TARGET_DEPLOY_P99_MS;
  lines.push(`- **Target** deploy propagation p99 ≤ ${TARGET_DEPLOY_P99_MS} ms to every node, farthest at 120 ms RTT: **${deployMet ? "MET" : "MISSED"}** (${Number.isFinite(deploy.all.p99Ms) ? `${fmt(deploy.all.p99Ms)} ms` : `${deploy.all.missed} of ${r.deploys.length} deploys not served by every node within 10 s`})`);
  lines.push(`- **Target** 0 errors while the registry is killed and restarted under load: **${totalErrors === 0 ? "MET" : "MISSED"}** (${totalErrors} errors)\n`);

  lines.push(`### (1) Latency per node, concurrency 1 (client in the node's namespace)\n`);
  lines.push(`Back to back on one keep-alive connection; ${rounds} rounds with the order of targets alternating; p50 = median of the rounds' p50s (r1…rN, µs); p99 / p999 over all samples; ×hit and ×origin = within-round ratios of p50, then the median.\n`);
  const latRows: Array<Array<string | number>> = [];
  r.latency.forEach((run, i) => {
    for (const t of targets) {
      const s = latency[i]![t]!;
      latRows.push([label(run.node), r.config.latencyTargets[t]!, s.n, fmt(s.p50Us), fmt(s.p99Us), fmt(s.p999Us), fmt(s.xHit, 2), fmt(s.xOrigin, 2), run.check[t] ?? "", ...s.roundsP50Us.map((x) => fmt(x))]);
    }
  });
  lines.push(mdTable(["node", "path", "n", "p50 µs", "p99 µs", "p999 µs", "×hit", "×origin", "check", ...Array.from({ length: rounds }, (_, k) => `r${k + 1}`)], latRows));
  const bad = r.latency.flatMap((run) => Object.entries(run.bad).map(([t, c]) => `${label(run.node)} ${t}: ${c}`));
  lines.push(`Responses outside 200–399: ${bad.length === 0 ? "none" : bad.join("; ")}. "check" is the status and x-verge-cache of the last warm-up request.\n`);

  lines.push(`### (2) Deploy propagation: publish + alias move → the node serves the new version\n`);
  lines.push(`${r.deploys.length} deploys, one at a time, of a viewer-request Worker; from just before the publish (from next to the registry) until the node's client, polling every 2 ms, gets the new body. Includes the feed event over the node's link, the bundle fetch by digest over the same link, and the new isolate. Publish + alias acknowledged: p50 ${fmt(deploy.ackP50Ms)} ms.\n`);
  const depRows = nodes.map((i) => [label(i), `${regions[i]!.oneWayMs * 2}`, fmt(deploy.perNode[i]!.p50Ms), fmt(deploy.perNode[i]!.p99Ms), fmt(deploy.perNode[i]!.maxMs), fmt(deploy.perNode[i]!.p50Ms / (regions[i]!.oneWayMs * 2), 1), deploy.perNode[i]!.missed]);
  depRows.push(["all nodes (slowest per deploy)", "–", fmt(deploy.all.p50Ms), fmt(deploy.all.p99Ms), fmt(deploy.all.maxMs), "–", deploy.all.missed]);
  lines.push(mdTable(["node", "RTT ms", "p50 ms", "p99 ms", "max ms", "p50 ÷ RTT", "missed (not served in 10 s)"], depRows));
  lines.push(`Per deploy, ms (n0 / n1 / n2; "–" = missed): ${r.deploys.map((x) => x.perNodeMs.map((v) => fmt(v, 0)).join("/")).join(", ")}.\n`);
  for (const m of r.deployMisses ?? []) lines.push(`- missed: deploy v${m.deploy} at ${label(m.node)} (registry seq ${m.registrySeq}): ${m.error}; the node's /_verge/health then: \`${m.health.replace(/`/g, "'")}\``);
  if ((r.deployMisses ?? []).length > 0) lines.push("");

  lines.push(`### (3) Cold start at a node: first request for a new version (50 KiB Worker)\n`);
  lines.push(`Timed at the node's client once the node has applied the alias change (so the feed's delay is not in it). (a) the bundle is already in the node's LMDB (the same bytes were just loaded for another function; a new function means a new isolate); (b) the bundle is only at the registry, fetched by digest over the node's link. The first request is repeated (every 5 ms) while it still gets the previous version's body ("old version first": the node had reported the change applied, but its worker still served the old alias); the first response of the new version is the cold start. Second = the request right after; warm = the median of the five after that. Medians over trials (raw in the last columns).\n`);
  lines.push(mdTable(["node", "RTT ms", "(a) in LMDB ms", "(b) from registry ms", "(b) − (a) ms", "second ms", "warm ms", "(a) ÷ warm", "status first/warm", "old version first", "(a) trials", "(b) trials"], nodes.map((i) => { const c = cold[i]!; return [label(i), `${regions[i]!.oneWayMs * 2}`, fmt(c.aMs), fmt(c.bMs), fmt(c.bMs - c.aMs), fmt(c.secondMs), fmt(c.warmMs), fmt(c.aMs / c.warmMs, 1), c.statuses, c.stale, c.aRaw.map((x) => fmt(x)).join(" "), c.bRaw.map((x) => fmt(x)).join(" ")]; })));

  lines.push(`\n### (6) Registry down under load\n`);
  lines.push(`Each node's client: closed loop, concurrency 2, over a cache hit, a Workers hello and a viewer-request Lambda@Edge, ${d.durationMs / 1000} s with the registry up (baseline), then ${d.durationMs / 1000} s during which the registry process is SIGKILLed at ${fmt(d.killAtMs / 1000, 1)} s and restarted at ${fmt(d.restartAtMs / 1000, 1)} s (answering again at ${fmt(d.readyAtMs / 1000, 1)} s). "outage" = requests started between the kill and the registry answering again.\n`);
  lines.push(mdTable(
    ["node", "up: requests", "up: errors", "up: p99 ms", "outage: requests", "outage: errors", "outage: p99 ms", "outage p99 ÷ up p99", "whole run: errors", "whole run: p99 ms"],
    nodes.map((i) => { const x = down[i]!; return [label(i), x.up.requests, x.up.errors, fmt(x.up.p99Ms), x.outage.requests, x.outage.errors, fmt(x.outage.p99Ms), fmt(x.outage.p99Ms / x.up.p99Ms, 2), x.whole.errors, fmt(x.whole.p99Ms)]; }),
  ));
  const after = d.deployAfter;
  lines.push(typeof after === "string" ? `A deploy after the restart did **not** reach every node: ${after}\n` : `A deploy right after the registry answered again reached the nodes in ${after[0]!.perNodeMs.map((v) => (v == null ? "never (10 s)" : `${fmt(v)} ms`)).join(" / ")}.\n`);
  const errs = [...d.up, ...d.down].flatMap((x) => x.errors).slice(0, 5);
  if (errs.length > 0) lines.push(`First errors: ${errs.map((e) => `${e.target} at ${e.atMs} ms: ${e.what}`).join("; ")}\n`);
  lines.push(`Throughput against workerd / Hono / node:http (figure 4) is bench/edge.ts (one node, one core); 1,000 functions under Zipf traffic (figure 5) is bench/functions.ts; idle density is bench/density.ts.\n`);
  const md = lines.join("\n");

  const bars: Bar[] = [];
  nodes.forEach((i) => {
    const tag = `n${i} ${regions[i]!.oneWayMs * 2} ms RTT`;
    bars.push({ label: `${tag}: deploy p50`, value: round(deploy.perNode[i]!.p50Ms), highlight: true, note: `${fmt(deploy.perNode[i]!.p50Ms)} ms (p99 ${fmt(deploy.perNode[i]!.p99Ms)})` });
    bars.push({ label: `${tag}: cold (b) from registry`, value: round(cold[i]!.bMs), note: `${fmt(cold[i]!.bMs)} ms` });
    bars.push({ label: `${tag}: cold (a) in LMDB`, value: round(cold[i]!.aMs), note: `${fmt(cold[i]!.aMs)} ms` });
    bars.push({ label: `${tag}: hit p99`, value: round(ms(latency[i]!.hit!.p99Us)), note: `${fmt(ms(latency[i]!.hit!.p99Us))} ms (p50 ${fmt(ms(latency[i]!.hit!.p50Us))})` });
    bars.push({ label: `${tag}: outage p99`, value: round(down[i]!.outage.p99Ms), note: `${fmt(down[i]!.outage.p99Ms)} ms, ${down[i]!.outage.errors} errors` });
  });
  const svg = barChart({
    title: "verge fleet: registry + 3 edge nodes in 3 regions",
    subtitle: `${r.config.topology}; deploy propagation, cold start, cache-hit p99, p99 while the registry is down (${date})`,
    unit: "ms",
    bars,
    targets: [{ value: TARGET_DEPLOY_P99_MS, label: "deploy p99 target 1 s" }],
    log: true,
  });
  const verdicts = [
    { target: `deploy propagation p99 ≤ ${TARGET_DEPLOY_P99_MS} ms to every node (farthest at 120 ms RTT)`, value: Number.isFinite(deploy.all.p99Ms) ? round(deploy.all.p99Ms) : null, unit: "ms", met: deployMet, missedDeploys: deploy.all.missed },
    { target: "0 errors while the registry is killed and restarted under load", value: totalErrors, unit: "errors", met: totalErrors === 0 },
  ];
  const json = { ...r, verdicts, summary };
  const files = writeResults("fleet", { json, md, svg });
  console.log(`\n${md}`);
  console.log(`wrote ${files.join(", ")}`);
}
