/**
 * The suite's summary (issue 6): one row per headline figure — what, the
 * result, its target and the verdict — built from the newest result file of each
 * benchmark in bench/results (each row names the run it comes from and that
 * run's load average), written as `results/<date>.json`, `<date>.md` and
 * `<date>.svg`: a chart of every figure that has a numeric target, as
 * result ÷ target oriented so that ≥ 1 meets it (log scale), green met, red missed.
 *
 * Run by bench/run.ts after the benchmarks; alone: `node bench/run.ts --summary`.
 * It only reads result files: a benchmark that was not run keeps its last result,
 * and one with no result at all shows "not run".
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { RESULTS_DIR, mdTable, today } from "./rounds.ts";
import { fmt } from "./stats.ts";
import { barChart } from "./svg-chart.ts";

export interface Headline {
  /** Issue 6's figure number, or the area ("runtime", "registry"). */
  figure: string;
  what: string;
  /** The numbers, as a sentence fragment. */
  result: string;
  target: string;
  verdict: "met" | "missed" | "no target" | "not run";
  /** Result ÷ target, oriented so that ≥ 1 is met; null without a numeric target. */
  score: number | null;
  /** Short label and note for the chart. */
  short: string;
  brief: string;
  bench: string;
  date: string | null;
}

type Json = Record<string, any>;

/** The newest `<date>-<name>.json` on or before `date`, with its date. */
export function latestResult(name: string, date = today()): { date: string; json: Json } | null {
  if (!existsSync(RESULTS_DIR)) return null;
  const re = new RegExp(`^(\\d{4}-\\d{2}-\\d{2})-${name.replace(/[-]/g, "\\-")}\\.json$`);
  const dates = readdirSync(RESULTS_DIR)
    .map((f) => re.exec(f)?.[1])
    .filter((d): d is string => d !== undefined && d <= date)
    .sort();
  const d = dates.at(-1);
  if (d === undefined) return null;
  return { date: d, json: JSON.parse(readFileSync(join(RESULTS_DIR, `${d}-${name}.json`), "utf8")) as Json };
}

const num = (x: unknown): number => (typeof x === "number" && Number.isFinite(x) ? x : NaN);
const us = (x: unknown) => `${fmt(num(x))} µs`;
const msText = (x: unknown) => `${fmt(num(x))} ms`;
const list = (xs: unknown[], f: (x: unknown) => string) => xs.map(f).join(" / ");

/** "≤ 5 ms" / "≥ 1.5×" in a target's text → the comparison and the number. */
function goalOf(target: string): { op: "≤" | "≥"; value: number } | null {
  const m = /(≤|≥)\s*([\d.,]+)/.exec(target);
  return m ? { op: m[1] as "≤" | "≥", value: Number(m[2]!.replace(/,/g, "")) } : null;
}

function score(value: number, goal: { op: "≤" | "≥"; value: number } | null): number | null {
  if (goal === null || !Number.isFinite(value)) return null;
  if (goal.op === "≥") return value / goal.value;
  return value <= 0 ? Infinity : goal.value / value;
}

/** Rows from a result's own `verdicts` array or `verdict` object (the runtime benchmarks' shape). */
function generic(bench: string, figure: string, date: string, json: Json, shorts: string[] = [], pick?: (v: Json) => number): Headline[] {
  const verdicts: Json[] = Array.isArray(json.verdicts) ? json.verdicts : json.verdict !== undefined ? [json.verdict] : [];
  return verdicts.map((v, i) => {
    const target = String(v.target ?? "");
    const value = pick?.(v) ?? num(v.value ?? Object.entries(v).find(([k, x]) => k !== "met" && typeof x === "number")?.[1]);
    const unit = typeof v.unit === "string" ? ` ${v.unit}` : /(?:≤|≥)\s*[\d.,]+\s*(ms|µs|×|per GiB)/.exec(target)?.[1] !== undefined ? ` ${/(?:≤|≥)\s*[\d.,]+\s*(ms|µs|×|per GiB)/.exec(target)![1]}` : "";
    return {
      figure,
      what: target.replace(/^(.*?)(≤|≥).*$/, "$1").trim() || target,
      result: `${fmt(value)}${unit}`,
      target,
      verdict: v.met === true ? "met" : v.met === false ? "missed" : "no target",
      score: score(value, goalOf(target)),
      short: shorts[i] ?? `${bench}: ${target.slice(0, 36)}`,
      brief: `${fmt(value)}${unit}${goalOf(target) ? ` (target ${goalOf(target)!.op} ${fmt(goalOf(target)!.value)})` : ""}`,
      bench,
      date,
    } satisfies Headline;
  });
}

function fleetRows(date: string, j: Json): Headline[] {
  const s = j.summary;
  const nodes: Json[] = j.config.regions;
  const lat: Json[] = s.latency;
  const rtt = nodes.map((r) => `${r.oneWayMs * 2}`).join(" / ");
  const per = (key: string, f: (x: Json) => unknown) => list(lat.map((l) => f(l[key] ?? {})), (x) => fmt(num(x)));
  const deploy = s.deploy;
  const deployV = (j.verdicts as Json[] | undefined)?.[0];
  const missed = num(deploy.all.missed);
  const p99 = num(deploy.all.p99Ms);
  const down: Json[] = s.down;
  const errors = num(s.totalErrors);
  const cold: Json[] = s.cold;
  return [
    {
      figure: "1",
      what: `latency per node at concurrency 1 (RTT to the registry ${rtt} ms), p50: cache hit / viewer-request Lambda@Edge + hit / Workers hello (µs)`,
      result: `hit ${per("hit", (x) => x.p50Us)}; viewer-request ${per("vreq", (x) => x.p50Us)}; Workers ${per("worker", (x) => x.p50Us)}; hit p99 ${per("hit", (x) => x.p99Us)} µs; miss p50 ${per("miss", (x) => x.p50Us)} µs`,
      target: "none set (issue 6)",
      verdict: "no target",
      score: null,
      short: "",
      brief: "",
      bench: "fleet",
      date,
    },
    {
      figure: "2",
      what: `deploy propagation: publish + alias → every node serves it (${j.deploys?.length ?? "?"} deploys, nodes at ${rtt} ms RTT)`,
      result: `all nodes p50 ${msText(deploy.all.p50Ms)}, p99 ${Number.isFinite(p99) ? msText(p99) : "–"}${missed > 0 ? ` (${missed} deploys not served by every node within 10 s)` : ""}; per node p99 ${list(deploy.perNode.map((x: Json) => x.p99Ms), (x) => fmt(num(x)))} ms`,
      target: "p99 ≤ 1,000 ms to every node",
      verdict: (deployV?.met ?? (p99 <= 1000 && missed === 0)) ? "met" : "missed",
      score: missed > 0 ? 0 : score(p99, { op: "≤", value: 1000 }),
      short: "Fig 2: deploy → all 3 nodes, p99",
      brief: missed > 0 ? `${missed} deploys missed` : `${fmt(p99)} ms (target ≤ 1,000)`,
      bench: "fleet",
      date,
    },
    {
      figure: "3",
      what: "cold start at a node, first request for a new version: (a) bundle in the node's LMDB / (b) only at the registry (ms, per node)",
      result: `(a) ${list(cold.map((c) => c.aMs), (x) => fmt(num(x)))} ms; (b) ${list(cold.map((c) => c.bMs), (x) => fmt(num(x)))} ms; warm ${list(cold.map((c) => c.warmMs), (x) => fmt(num(x)))} ms`,
      target: "none set (issue 6)",
      verdict: "no target",
      score: null,
      short: "",
      brief: "",
      bench: "fleet",
      date,
    },
    {
      figure: "6",
      what: "registry killed and restarted while every node is under load: errors, and p99 during the outage vs with the registry up",
      result: `${fmt(errors, 0)} errors; outage p99 ${list(down.map((d) => d.outage.p99Ms), (x) => fmt(num(x)))} ms (up ${list(down.map((d) => d.up.p99Ms), (x) => fmt(num(x)))} ms)`,
      target: "0 errors",
      verdict: errors === 0 ? "met" : "missed",
      score: errors === 0 ? 1 : 1 / (1 + errors),
      short: "Fig 6: errors with the registry down",
      brief: `${fmt(errors, 0)} errors (target 0)`,
      bench: "fleet",
      date,
    },
  ];
}

function edgeRows(date: string, j: Json): Headline[] {
  const s = j.summary;
  const v: Json[] = j.verdicts ?? [];
  const byStart = (prefix: string) => v.find((x) => String(x.target).startsWith(prefix));
  const w = s.worker ?? {};
  const hit = s.hit ?? {};
  const lam = s.lambda ?? {};
  const p99 = (x: Json) => (x.loadP99Us !== undefined ? `p99 ${us(x.loadP99Us)} at c=${j.config.connections}` : `wrk p99 ${us(x.p99Us)}`);
  const base = ["node", "hono", "workerd"].filter((b) => s[b] !== undefined).map((b) => `${b === "node" ? "node:http" : b} ${fmt(num(s[b].rps), 0)} req/s, ${p99(s[b])}, ${fmt(num(s[b].serverCpuUsPerReq))} µs CPU/req`);
  const wv = byStart("(d)");
  const hv = byStart("(a)");
  const av = byStart("added");
  const dv = byStart("deploy");
  // The verdicts' figures (interleaved runs, when the result has them), with the separate-process ratio beside.
  const wx = num(wv?.value ?? w.xWorkerd);
  const hx = num(hv?.value ?? hit.xHono);
  const also = (x: number, separate: unknown) => (x === num(separate) ? "" : ` (${fmt(num(separate))}× in separate processes)`);
  return [
    {
      figure: "4",
      what: "Workers hello-world through one edge node (1 worker) vs workerd, bare Hono, bare node:http: requests/s (wrk -c32), p99 at the same concurrency (our client), server CPU",
      result: `verge ${fmt(num(w.rps), 0)} req/s = ${fmt(wx)}× workerd${also(wx, w.xWorkerd)}, ${fmt(num(w.xHono))}× Hono${w.xNode !== undefined ? `, ${fmt(num(w.xNode))}× node:http` : ""}; ${p99(w)}; ${fmt(num(w.serverCpuUsPerReq))} µs CPU/req. Baselines: ${base.join("; ")}`,
      target: "≥ 1.5× workerd's req/s (issue 4)",
      verdict: wv === undefined ? "no target" : wv.met ? "met" : "missed",
      score: score(wx, { op: "≥", value: 1.5 }),
      short: "Fig 4: Workers hello, ×workerd req/s",
      brief: `${fmt(wx)}× (target ≥ 1.5×)`,
      bench: "edge",
      date,
    },
    {
      figure: "4",
      what: "Lambda@Edge-style header rewrite at viewer-request (+ cache hit) through verge: added p50 over a plain hit at concurrency 1",
      result: `${fmt(num(lam.rps), 0)} req/s = ${fmt(num(lam.xHono))}× Hono, ${p99(lam)}; adds ${us(j.addedLatencyUs)} p50 over a hit`,
      target: "adds ≤ 100 µs p50 (issue 4)",
      verdict: av === undefined ? "no target" : av.met ? "met" : "missed",
      score: score(num(j.addedLatencyUs), { op: "≤", value: 100 }),
      short: "Fig 4: viewer-request fn, added p50",
      brief: `${fmt(num(j.addedLatencyUs))} µs (target ≤ 100)`,
      bench: "edge",
      date,
    },
    {
      figure: "4",
      what: "cache hit through verge vs bare Hono, requests/s",
      result: `${fmt(num(hit.rps), 0)} req/s = ${fmt(hx)}× Hono${also(hx, hit.xHono)}; ${p99(hit)}`,
      target: "≥ 0.7× Hono's req/s (issue 4)",
      verdict: hv === undefined ? "no target" : hv.met ? "met" : "missed",
      score: score(hx, { op: "≥", value: 0.7 }),
      short: "Fig 4: cache hit, ×Hono req/s",
      brief: `${fmt(hx)}× (target ≥ 0.7×)`,
      bench: "edge",
      date,
    },
    {
      figure: "2",
      what: "deploy propagation on loopback, 3 nodes in one process (no delay)",
      result: `p50 ${msText(j.deploy?.p50Ms)}, p99 ${msText(j.deploy?.p99Ms)} over ${fmt(num(j.deploy?.n), 0)} deploys`,
      target: "p99 ≤ 1,000 ms (issue 4)",
      verdict: dv === undefined ? "no target" : dv.met ? "met" : "missed",
      score: score(num(j.deploy?.p99Ms), { op: "≤", value: 1000 }),
      short: "Fig 2: deploy, loopback, p99",
      brief: `${fmt(num(j.deploy?.p99Ms))} ms (target ≤ 1,000)`,
      bench: "edge",
      date,
    },
  ];
}

function functionsRows(date: string, j: Json): Headline[] {
  const z = j.summary.zipf ?? {};
  const one = j.summary.one ?? {};
  const n = num(j.config.functions);
  return [
    {
      figure: "5",
      what: `request latency with ${fmt(n, 0)} distinct functions live on one node (1 worker), Zipf s=${j.config.zipfS} traffic at concurrency ${j.config.concurrency}, vs all traffic to 1 function`,
      result: `p50 ${us(z.p50Us)}, p99 ${us(z.p99Us)}, p999 ${us(z.p999Us)} (= ${fmt(num(z.p99xOne))}× the 1-function p99 of ${us(one.p99Us)}); ${fmt(num(z.rps), 0)} req/s vs ${fmt(num(one.rps), 0)}; ${fmt(num(z.coldPerKReq))} cold starts per 1,000 requests after warm-up`,
      target: "none set (issue 6)",
      verdict: "no target",
      score: null,
      short: "",
      brief: "",
      bench: "functions",
      date,
    },
    {
      figure: "5",
      what: `warm isolates per GiB of worker RSS with ${fmt(n, 0)} functions under traffic (marginal over the 1-function baseline)`,
      result: `${fmt(num(j.marginalPerGiB))} per GiB marginal; ${fmt(num(z.isolatesWarm), 0)} isolates warm in ${fmt(num(z.workerRssMiB), 0)} MiB (${fmt(num(z.perGiB))} per GiB of the whole worker)`,
      target: "≥ 500 per GiB (bench/density.ts's target)",
      verdict: j.verdicts?.[0]?.met === true ? "met" : "missed",
      score: score(num(j.marginalPerGiB), { op: "≥", value: 500 }),
      short: "Fig 5: warm isolates per GiB (traffic)",
      brief: `${fmt(num(j.marginalPerGiB))} (target ≥ 500)`,
      bench: "functions",
      date,
    },
  ];
}

/** Benchmark → its headline rows (the order of the summary). */
const SOURCES: Array<{ bench: string; figure: string; rows: (date: string, json: Json) => Headline[] }> = [
  { bench: "fleet", figure: "1–3, 6", rows: fleetRows },
  { bench: "edge", figure: "4", rows: edgeRows },
  { bench: "functions", figure: "5", rows: functionsRows },
  { bench: "cold-start", figure: "runtime", rows: (d, j) => generic("cold-start", "runtime", d, j, ["Runtime: cold start p50"]) },
  { bench: "warm-dispatch", figure: "runtime", rows: (d, j) => generic("warm-dispatch", "runtime", d, j, ["Runtime: warm call overhead", "Runtime: harness ×Miniflare"]) },
  { bench: "density", figure: "runtime", rows: (d, j) => generic("density", "runtime", d, j, ["Runtime: idle isolates per GiB"]) },
  { bench: "registry", figure: "registry", rows: (d, j) => generic("registry", "registry", d, j, ["Registry: feed fan-out p99"]) },
];

export function buildSummary(date = today()): { rows: Headline[]; sources: Record<string, { date: string; loadavg: number[] | null } | null> } {
  const rows: Headline[] = [];
  const sources: Record<string, { date: string; loadavg: number[] | null } | null> = {};
  for (const src of SOURCES) {
    const found = latestResult(src.bench, date);
    sources[src.bench] = found === null ? null : { date: found.date, loadavg: (found.json.environment?.loadavg as number[] | undefined) ?? null };
    if (found === null) {
      rows.push({ figure: src.figure, what: `${src.bench}: no result yet`, result: "–", target: "–", verdict: "not run", score: null, short: "", brief: "", bench: src.bench, date: null });
      continue;
    }
    try {
      rows.push(...src.rows(found.date, found.json));
    } catch (err) {
      rows.push({ figure: src.figure, what: `${src.bench}: result file not understood (${(err as Error).message})`, result: "–", target: "–", verdict: "not run", score: null, short: "", brief: "", bench: src.bench, date: found.date });
    }
  }
  const order = (f: string) => (/^\d/.test(f) ? Number(f[0]) : 10);
  rows.sort((a, b) => order(a.figure) - order(b.figure));
  return { rows, sources };
}

/** Writes results/<date>.{json,md,svg}; returns their paths (relative to the working directory). */
export function writeSummary(date = today()): string[] {
  const { rows, sources } = buildSummary(date);
  const verdictText = { met: "**met**", missed: "**missed**", "no target": "–", "not run": "not run" } as const;
  const from = (r: Headline) => {
    if (r.date === null) return "–";
    const load = sources[r.bench]?.loadavg;
    return `[${r.bench} ${r.date}](${r.date}-${r.bench}.md)${load ? ` (load ${load.map((x) => fmt(x, 1)).join("/")})` : ""}`;
  };
  const met = rows.filter((r) => r.verdict === "met").length;
  const judged = rows.filter((r) => r.verdict === "met" || r.verdict === "missed").length;
  let md = `# verge benchmarks — summary, ${date}\n\n`;
  md += `Every headline figure of issue 6 (figures 1–6) and the runtime's and registry's targets, from the newest result of each benchmark (the "from" column names the run and its load average: 2 shared vCPUs, other work on the machine moves absolute numbers by ±30 %; ratios within a run move less). ${met} of ${judged} targets met. Reproduce: \`npm run bench\` (all, ≤ 15 min) or \`npm run bench -- <name>\`.\n\n`;
  md += mdTable(
    ["figure", "what", "result", "target", "verdict", "from"],
    rows.map((r) => [r.figure, r.what, r.result, r.target, verdictText[r.verdict], from(r)]),
  );
  md += `\n![summary: each figure with a target, as result ÷ target](${date}.svg)\n`;
  const charted = rows.filter((r) => r.score !== null);
  const svg = barChart({
    title: `verge benchmarks, ${date}: each target, result ÷ target (≥ 1 meets it)`,
    subtitle: `green met, red missed · log scale · ${met} of ${judged} met · figures without a target are in the table only`,
    unit: "result ÷ target, oriented so that more is better",
    log: true,
    targets: [{ value: 1, label: "target" }],
    bars: charted.map((r) => ({
      label: r.short || r.what.slice(0, 48),
      value: Math.min(100, Math.max(0.01, r.score!)),
      colour: r.verdict === "met" ? "#2da44e" : "#cf222e",
      note: r.brief ? `${r.brief} · ${r.bench} ${r.date}` : `${r.bench} ${r.date}`,
    })),
  });
  const base = join(RESULTS_DIR, date);
  writeFileSync(`${base}.json`, JSON.stringify({ date, generated: new Date().toISOString(), sources, rows }, null, 2) + "\n");
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, svg);
  return [`${base}.json`, `${base}.md`, `${base}.svg`].map((p) => relative(process.cwd(), p));
}
