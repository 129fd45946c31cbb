/**
 * bench/guest-apis.ts's request plan and its report: the per-operation figures
 * from each round's per-request medians, their medians over rounds, the
 * verge ÷ workerd ratios within rounds, and the Markdown table and SVG chart.
 */
import { envLine, mdTable, type RoundsResult } from "./rounds.ts";
import { fmt, median, round } from "./stats.ts";
import { barChart } from "./svg-chart.ts";
import { CALLS_PER_PAGE, HASH_BYTES, PAGE_LINKS, PAGE_SCRIPTS } from "./guest-api-workers.ts";

/** Operations per request: each request is tens of ms of work in verge, so dispatch is a small part. */
export const N_AWAITS = 100_000;
export const N_PAGES = 4;
export const N_HASHES = 4;

export interface Req {
  key: string;
  worker: "als" | "plain" | "html" | "hash";
  n: number;
  mode: string;
}

/** Every request one repetition makes, in order (reversed every other repetition). */
export const REQUESTS: Req[] = [
  { key: "als-0", worker: "als", n: 0, mode: "-" },
  { key: "als", worker: "als", n: N_AWAITS, mode: "-" },
  { key: "plain-0", worker: "plain", n: 0, mode: "-" },
  { key: "plain", worker: "plain", n: N_AWAITS, mode: "-" },
  { key: "html-0", worker: "html", n: 0, mode: "plain" },
  { key: "html-plain", worker: "html", n: N_PAGES, mode: "plain" },
  { key: "html-parse", worker: "html", n: N_PAGES, mode: "parse" },
  { key: "html-rewrite", worker: "html", n: N_PAGES, mode: "rewrite" },
  { key: "hash-0", worker: "hash", n: 0, mode: "node" },
  { key: "hash-node", worker: "hash", n: N_HASHES, mode: "node" },
  { key: "hash-subtle", worker: "hash", n: N_HASHES, mode: "subtle" },
];

interface PerRequest {
  wallUs: number;
  cpuUs: number;
  chargedUs: number | null;
}

export interface VariantResult {
  variant: string;
  reps: number;
  windowMs: number;
  loadavgStart: number[];
  loadavgEnd: number[];
  /** The last answer to each request (the request id stripped), compared across variants. */
  answers: Record<string, string>;
  /** Medians over the repetitions, per request. */
  med: Record<string, PerRequest>;
  /** Every sample, per request. */
  samples: Record<string, { wallUs: number[]; cpuUs: number[]; chargedUs: number[] | null }>;
}

type Measure = "cpuUs" | "wallUs" | "chargedUs";

interface Figure {
  key: string;
  label: string;
  /** For the chart. */
  short: string;
  unit: "µs" | "ms";
  /** No verge ÷ workerd ratio: workerd's value is a difference of two near-equal readings, noise around 0. */
  noRatio?: true;
  /** The figure in µs from a per-request reading. */
  of: (p: (key: string) => number) => number;
}

const perOp = (n: number, at: string, zero: string) => (p: (key: string) => number) => (p(at) - p(zero)) / n;
const pageKiB = "50 KiB";

export const FIGURES: Figure[] = [
  { key: "await-als", label: "AsyncLocalStorage: one `await` inside `als.run()` (node:async_hooks imported)", short: "await inside als.run()", unit: "µs", of: perOp(N_AWAITS, "als", "als-0") },
  { key: "await-plain", label: "one `await`, the same loop without node:async_hooks (baseline)", short: "await, no async_hooks", unit: "µs", of: perOp(N_AWAITS, "plain", "plain-0") },
  {
    key: "await-added",
    label: "added per `await` by AsyncLocalStorage (the two above)",
    short: "added per await by ALS",
    unit: "µs",
    noRatio: true,
    of: (p) => perOp(N_AWAITS, "als", "als-0")(p) - perOp(N_AWAITS, "plain", "plain-0")(p),
  },
  { key: "page-plain", label: `a ${pageKiB} page read without HTMLRewriter (baseline), per page`, short: "page, no rewriter", unit: "ms", of: perOp(N_PAGES, "html-plain", "html-0") },
  { key: "page-parse", label: "HTMLRewriter with one selector that matches nothing (parse + serialize), per page", short: "HTMLRewriter, no match", unit: "ms", of: perOp(N_PAGES, "html-parse", "html-0") },
  {
    key: "page-rewrite",
    label: `HTMLRewriter, 3 handlers (${CALLS_PER_PAGE} calls: ${PAGE_LINKS} \`a[href]\` rewritten, ${PAGE_SCRIPTS} \`script\` removed, \`head\` appended to), per page`,
    short: "HTMLRewriter, 3 handlers",
    unit: "ms",
    of: perOp(N_PAGES, "html-rewrite", "html-0"),
  },
  { key: "handler-call", label: `per handler call: (3 handlers − no match) ÷ ${CALLS_PER_PAGE}`, short: "per handler call", unit: "µs", of: (p) => (p("html-rewrite") - p("html-parse")) / (N_PAGES * CALLS_PER_PAGE) },
  { key: "hash-node", label: `node:crypto \`createHash("sha256")\` of ${HASH_BYTES / 2 ** 20} MiB`, short: "createHash sha256, 1 MiB", unit: "ms", of: perOp(N_HASHES, "hash-node", "hash-0") },
  { key: "hash-subtle", label: `\`crypto.subtle.digest("SHA-256")\` of ${HASH_BYTES / 2 ** 20} MiB`, short: "subtle.digest SHA-256, 1 MiB", unit: "ms", of: perOp(N_HASHES, "hash-subtle", "hash-0") },
];

/** Ratios inside one runtime: the feature over its baseline. */
const WITHIN: Array<{ label: string; a: string; b: string }> = [
  { label: "await inside als.run() ÷ await without node:async_hooks", a: "await-als", b: "await-plain" },
  { label: "page through HTMLRewriter with 3 handlers ÷ page read without it", a: "page-rewrite", b: "page-plain" },
  { label: "page through HTMLRewriter, no match ÷ page read without it", a: "page-parse", b: "page-plain" },
  { label: "createHash ÷ subtle.digest, 1 MiB", a: "hash-node", b: "hash-subtle" },
];

type Rounds = RoundsResult<VariantResult>["rounds"];

/** A figure's value (µs) in one round's result for one measure; NaN where missing. */
function value(r: VariantResult | undefined, f: Figure, m: Measure): number {
  if (r === undefined) return NaN;
  return f.of((key) => {
    const x = r.med[key]?.[m];
    return typeof x === "number" ? x : NaN;
  });
}

/** Median of the finite values; NaN when there are none. */
function medianOf(xs: number[]): number {
  const ok = xs.filter(Number.isFinite);
  return ok.length === 0 ? NaN : median(ok);
}

/** Median over rounds of a / b within a round, rounds with b ≤ 0 skipped (NaN unless most rounds have it). */
function ratioOf(rounds: Rounds, a: (r: Rounds[number]) => number, b: (r: Rounds[number]) => number): { median: number; rounds: number[] } {
  const per = rounds.map((r) => {
    const x = a(r);
    const y = b(r);
    return Number.isFinite(x) && Number.isFinite(y) && y > 0 ? x / y : NaN;
  });
  const ok = per.filter(Number.isFinite);
  return { median: ok.length * 2 > rounds.length ? median(ok) : NaN, rounds: per.map((x) => round(x)) };
}

/**
 * The share of a request's samples (all rounds) whose CPU is over twice its round's median:
 * a second mode (a GC, a slow path) that the median leaves out.
 */
function slowShare(rounds: Rounds, variant: string, key: string): number {
  let slow = 0;
  let all = 0;
  for (const r of rounds) {
    const xs = r.results[variant]?.samples[key]?.cpuUs;
    if (xs === undefined || xs.length === 0) continue;
    const m = median(xs);
    slow += xs.filter((x) => x > 2 * m).length;
    all += xs.length;
  }
  return all === 0 ? NaN : round(slow / all);
}

const show = (us: number, unit: "µs" | "ms") => (unit === "ms" ? fmt(us / 1000) : fmt(us));

export function report(res: RoundsResult<VariantResult>, env: Record<string, unknown>, variants: string[]): { json: unknown; md: string; svg: string } {
  const rounds = res.rounds;
  const hasWorkerd = variants.includes("workerd");
  const fig = (v: string, f: Figure, m: Measure) => round(medianOf(rounds.map((r) => value(r.results[v], f, m))));
  const summary = Object.fromEntries(
    FIGURES.map((f) => {
      const x = (m: Measure) => (f.noRatio ? { median: NaN, rounds: rounds.map(() => NaN) } : ratioOf(rounds, (r) => value(r.results.verge, f, m), (r) => value(r.results.workerd, f, m)));
      const cpuX = x("cpuUs");
      const wallX = x("wallUs");
      return [
        f.key,
        {
          label: f.label,
          unitOfUs: f.unit,
          verge: { cpuUs: fig("verge", f, "cpuUs"), wallUs: fig("verge", f, "wallUs"), chargedUs: fig("verge", f, "chargedUs") },
          workerd: hasWorkerd ? { cpuUs: fig("workerd", f, "cpuUs"), wallUs: fig("workerd", f, "wallUs") } : null,
          vergeOverWorkerdCpu: round(cpuX.median),
          vergeOverWorkerdWall: round(wallX.median),
          cpuRatioRounds: cpuX.rounds,
          vergeCpuRounds: rounds.map((r) => round(value(r.results.verge, f, "cpuUs"))),
          workerdCpuRounds: rounds.map((r) => round(value(r.results.workerd, f, "cpuUs"))),
        },
      ];
    }),
  );
  const byKey = (k: string) => FIGURES.find((f) => f.key === k)!;
  const within = WITHIN.map((w) => {
    const of = (v: string) => ratioOf(rounds, (r) => value(r.results[v], byKey(w.a), "cpuUs"), (r) => value(r.results[v], byKey(w.b), "cpuUs"));
    return { label: w.label, verge: of("verge"), workerd: hasWorkerd ? of("workerd") : null };
  });
  // The same Worker must answer the same in both runtimes (request ids stripped).
  const mismatches = rounds.flatMap((r) => {
    const a = r.results.verge?.answers;
    const b = r.results.workerd?.answers;
    if (a === undefined || b === undefined) return [];
    return Object.keys(a).filter((k) => a[k] !== b[k]).map((k) => `round ${r.round} ${k}: verge ${JSON.stringify(a[k])}, workerd ${JSON.stringify(b[k])}`);
  });
  const pageAnswer = rounds.map((r) => r.results.verge?.answers["html-0"] ?? r.results.workerd?.answers["html-0"]).find((a) => a !== undefined);
  const pageChars = pageAnswer === undefined ? null : Number(pageAnswer.split(" ")[2]);
  const loads = rounds.flatMap((r) => Object.values(r.results).map((x) => x.loadavgStart[0]!));
  const reps = Object.fromEntries(variants.map((v) => [v, rounds.map((r) => r.results[v]?.reps ?? null)]));
  const perRequest = REQUESTS.map((q) => ({
    key: q.key,
    worker: q.worker,
    n: q.n,
    mode: q.mode,
    ...Object.fromEntries(
      variants.flatMap((v) => [
        [`${v}CpuUs`, round(medianOf(rounds.map((r) => r.results[v]?.med[q.key]?.cpuUs ?? NaN)))],
        [`${v}WallUs`, round(medianOf(rounds.map((r) => r.results[v]?.med[q.key]?.wallUs ?? NaN)))],
      ]),
    ),
    vergeChargedUs: round(medianOf(rounds.map((r) => r.results.verge?.med[q.key]?.chargedUs ?? NaN))),
    ...Object.fromEntries(variants.map((v) => [`${v}SlowShare`, slowShare(rounds, v, q.key)])),
  }));
  const json = {
    benchmark: "guest-apis",
    environment: env,
    config: { rounds: rounds.length, variants, requests: REQUESTS, nAwaits: N_AWAITS, nPages: N_PAGES, nHashes: N_HASHES, callsPerPage: CALLS_PER_PAGE, hashBytes: HASH_BYTES },
    verdicts: [],
    summary,
    within: within.map((w) => ({ label: w.label, verge: round(w.verge.median), workerd: w.workerd === null ? null : round(w.workerd.median), vergeRounds: w.verge.rounds, workerdRounds: w.workerd?.rounds ?? null })),
    perRequest,
    answerMismatches: mismatches,
    reps,
    raw: rounds,
    failures: res.failures,
    wallMs: Math.round(res.wallMs),
  };

  const date = new Date().toISOString().slice(0, 10);
  const roundCols = rounds.map((r) => `r${r.round}`);
  let md = `## guest-apis — ${date}\n\n`;
  md += `${envLine(env)} One-minute load average at the start of each variant process: ${loads.map((x) => fmt(x, 2)).join(", ")}.\n\n`;
  md += `The cost per operation inside a function of three guest APIs verge implements in JavaScript or WebAssembly where workerd has them native, verge (in-process runtime, the Workers bundled with nodejs_compat) vs \`workerd serve\` running the same Worker source (compatibility date 2024-09-23, nodejs_compat; requests over loopback, one at a time). Each process makes every request type in turn, ${N_AWAITS.toLocaleString("en-US")} awaits, ${N_PAGES} pages or ${N_HASHES} digests per request and the same Worker at n = 0, the order reversed every repetition (${Object.entries(reps).map(([v, r]) => `${v} ${r.join("/")}`).join(", ")} repetitions per round); a figure is (median at n − median at n = 0) ÷ n, so dispatch and HTTP are taken out. **CPU** is the serving process's, all threads (verge: this process, the runtime in it, by getrusage; workerd: its process, from /proc/<pid>/task/*/schedstat); **wall** is per request, in a tight loop of sequential requests; **charged** is the CPU verge's invocation report counts against the function's limit (its isolate's thread during guest entries). Median over ${rounds.length} rounds (fresh processes, order alternating); ×workerd is verge ÷ workerd within each round, then the median; r1…rN are those per-round CPU ratios.\n\n`;
  md += mdTable(
    ["figure", "unit", "verge CPU", "workerd CPU", "×workerd CPU", "verge wall", "workerd wall", "×workerd wall", "verge charged", ...roundCols],
    FIGURES.map((f) => {
      const s = summary[f.key]!;
      return [
        f.label,
        f.unit,
        show(s.verge.cpuUs, f.unit),
        s.workerd ? show(s.workerd.cpuUs, f.unit) : "–",
        fmt(s.vergeOverWorkerdCpu),
        show(s.verge.wallUs, f.unit),
        s.workerd ? show(s.workerd.wallUs, f.unit) : "–",
        fmt(s.vergeOverWorkerdWall),
        show(s.verge.chargedUs, f.unit),
        ...s.cpuRatioRounds.map((x) => fmt(x)),
      ];
    }),
  );
  md += `\nThe page is ${pageChars === null ? "≈ 50 KiB" : `${pageChars.toLocaleString("en-US")} characters`}. No ratio for the added cost per await: workerd's is the difference of two near-equal figures (its AsyncLocalStorage costs next to nothing per await), noise around zero, so verge ÷ workerd would be noise too.\n`;
  md += `\nWithin one runtime (CPU, median of per-round ratios):\n\n`;
  md += mdTable(
    ["ratio", "verge", "workerd", ...roundCols.map((c) => `verge ${c}`)],
    within.map((w) => [w.label, fmt(w.verge.median), w.workerd ? fmt(w.workerd.median) : "–", ...w.verge.rounds.map((x) => fmt(x))]),
  );
  md += `\nPer request (medians over rounds of each round's median, µs; n = 0 is the same Worker doing none; "> 2× median" is the share of all its samples whose CPU was over twice their round's median, a second mode the medians leave out):\n\n`;
  const cell = (p: Record<string, unknown>, k: string) => p[k] as number;
  const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : "–");
  md += mdTable(
    ["request", "n", ...variants.flatMap((v) => [`${v} CPU`, `${v} wall`]), "verge charged", ...variants.map((v) => `${v} > 2× median`)],
    perRequest.map((p) => [
      `${p.worker} ${p.mode === "-" ? "" : p.mode}`.trim(),
      p.n,
      ...variants.flatMap((v) => [fmt(cell(p, `${v}CpuUs`)), fmt(cell(p, `${v}WallUs`))]),
      fmt(p.vergeChargedUs),
      ...variants.map((v) => pct(cell(p, `${v}SlowShare`))),
    ]),
  );
  md += `\nAnswers: ${mismatches.length === 0 ? "every request's answer (sum, store id, bytes and handler calls, digest) was checked in its process, and verge's matched workerd's in every round" : `**verge and workerd differ**: ${mismatches.join("; ")}`}.\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;

  const charted = FIGURES.filter((f) => Number.isFinite(summary[f.key]!.vergeOverWorkerdCpu));
  const svg = barChart({
    title: "Guest APIs: verge ÷ workerd, CPU per operation (lower is better; 1 = parity)",
    subtitle: `same Worker source · ${rounds.length} rounds, fresh process per variant per round · ${String(env.cpu)} · ${date}`,
    unit: "verge CPU ÷ workerd CPU per operation",
    log: true,
    targets: [{ value: 1, label: "workerd" }],
    bars: charted.map((f) => {
      const s = summary[f.key]!;
      return {
        label: f.short,
        value: s.vergeOverWorkerdCpu,
        highlight: true,
        note: `${fmt(s.vergeOverWorkerdCpu)}× · ${show(s.verge.cpuUs, f.unit)} vs ${s.workerd ? show(s.workerd.cpuUs, f.unit) : "–"} ${f.unit}`,
      };
    }),
  });
  return { json, md, svg };
}
