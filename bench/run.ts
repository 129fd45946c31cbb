/**
 * Runs the benchmarks (all, or the ones named) one after another, each as its
 * own child process with its own time budget, so the whole suite stays under
 * 15 minutes on 2 cores; then prints each result table and writes the summary
 * (lib/summary.ts): results/<date>.json, <date>.md (every headline figure with
 * its target and verdict) and <date>.svg (the chart).
 *
 *   npm run bench                      # all: cold-start, warm-dispatch, density, registry, fleet, functions, edge
 *   npm run bench -- cold-start        # one
 *   npm run bench -- registry          # the origin registry: publish latency, SSE fan-out
 *   npm run bench -- fleet             # registry + 3 edge nodes in network namespaces (2/40/120 ms RTT): figures 1, 2, 3, 6
 *   npm run bench -- functions         # one edge node, 1,000 functions live, Zipf traffic: figure 5
 *   npm run bench -- edge              # one edge node vs node:http, Hono and workerd; deploy propagation: figure 4
 *   npm run bench -- --quick           # fewer rounds and samples (~5 minutes)
 *   npm run bench -- density --n 300   # extra flags go to every script
 *   npm run bench -- profile           # the diagnostic: where the time and memory go
 *   npm run bench -- guest-apis        # ALS, HTMLRewriter, SHA-256 per operation, verge vs workerd
 *   npm run bench -- --summary         # only rewrite the summary from the newest results
 *
 * Everything stays on 127.0.0.1 or inside the network namespaces fleet creates.
 * Results: bench/results/<date>-<name>.{json,md,svg}. Rebuild the guest prelude
 * first (`npm run build:prelude`): its size is paid at every cold start.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, RESULTS_DIR, killGroup, today, trackGroup } from "./lib/rounds.ts";
import { latestResult, writeSummary } from "./lib/summary.ts";

/**
 * Name → time budget for starting new rounds, and the hard limit after which it is
 * killed (s). Edge runs last: its budget is what is left, so it takes fewer rounds
 * rather than pushing the suite past its limit.
 */
const BENCHMARKS: Record<string, { budgetS: number; quickBudgetS: number; hardLimitS: number; onlyByName?: true }> = {
  "cold-start": { budgetS: 60, quickBudgetS: 25, hardLimitS: 95 },
  "warm-dispatch": { budgetS: 75, quickBudgetS: 25, hardLimitS: 100 },
  density: { budgetS: 65, quickBudgetS: 25, hardLimitS: 100 },
  // The origin registry (a registry process of its own per variant and round).
  registry: { budgetS: 45, quickBudgetS: 20, hardLimitS: 90 },
  // Registry + 3 edge nodes in 3 "regions" (issue 6, figures 1, 2, 3, 6): latency per
  // node, deploy propagation, cold start, registry down. Bounded by counts (~3 min, ~70 s quick).
  fleet: { budgetS: 240, quickBudgetS: 90, hardLimitS: 300 },
  // One edge node with 1,000 functions live under Zipf traffic (figure 5): ~2.5 min, ~45 s quick.
  functions: { budgetS: 150, quickBudgetS: 60, hardLimitS: 240 },
  // One edge node vs node:http, Hono and workerd, and deploy propagation (issue 4; figure 4).
  edge: { budgetS: 300, quickBudgetS: 90, hardLimitS: 500 },
  // The diagnostic (where the time goes); runs only when named.
  profile: { budgetS: 120, quickBudgetS: 60, hardLimitS: 180, onlyByName: true },
  // Guest APIs verge has in JS/wasm and workerd native (ALS, HTMLRewriter, SHA-256), vs workerd;
  // no target, so only when named (~2 min): the suite keeps its 15 minutes.
  "guest-apis": { budgetS: 100, quickBudgetS: 40, hardLimitS: 180, onlyByName: true },
};
/** The whole suite stops within this (the issue allows up to 15 minutes). */
const SUITE_LIMIT_S = 900;
/** A round can take this long after a script's budget is spent. */
const ROUND_SLACK_S = 30;

const argv = process.argv.slice(2);
const names = argv.filter((a, i) => !a.startsWith("--") && !(i > 0 && argv[i - 1]!.startsWith("--") && argv[i - 1] !== "--quick" && argv[i - 1] !== "--summary"));
const flags = argv.filter((a) => !names.includes(a));
const quick = flags.includes("--quick");
const summaryOnly = flags.includes("--summary");
for (const n of names) {
  if (!(n in BENCHMARKS)) {
    console.error(`unknown benchmark "${n}"; expected one of ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
}
const selected = summaryOnly ? [] : names.length > 0 ? names : Object.keys(BENCHMARKS).filter((n) => !BENCHMARKS[n]!.onlyByName);
if (!existsSync(join(BENCH_DIR, "..", "src", "runtime", "guest", "prelude.generated.js"))) {
  console.error("the guest prelude is not built: run `npm run build:prelude` first");
  process.exit(1);
}

function runOne(name: string, remainingS: number): Promise<number> {
  const b = BENCHMARKS[name]!;
  if (remainingS < 20) {
    console.error(`${name}: skipped, the suite's ${SUITE_LIMIT_S} s are spent`);
    return Promise.resolve(1);
  }
  const budget = String(Math.max(1, Math.min(quick ? b.quickBudgetS : b.budgetS, remainingS - ROUND_SLACK_S)));
  const hardLimitS = Math.min(b.hardLimitS, remainingS);
  const args = ["--no-node-snapshot", "--disable-warning=ExperimentalWarning", join(BENCH_DIR, `${name}.ts`), "--budget-s", budget, ...flags.filter((f) => f !== "--summary")];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], detached: true });
    trackGroup(child.pid);
    child.on("error", (err) => {
      console.error(`${name}: could not start: ${err.message}`);
      resolve(1);
    });
    // Stream progress lines; the table is printed at the end from the .md file.
    let printing = true;
    child.stdout.on("data", (d: Buffer) => {
      const s = d.toString();
      if (s.includes("\n## ")) printing = false;
      if (printing) process.stdout.write(s);
    });
    // SIGTERM first, so a script that built something outside its process group
    // (fleet's network namespaces and their processes) can take it down; then SIGKILL.
    let killTimer: NodeJS.Timeout | undefined;
    const kill = setTimeout(() => {
      console.error(`${name}: over its hard limit of ${hardLimitS} s, killed`);
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
      killTimer = setTimeout(() => killGroup(child.pid), 5_000);
    }, hardLimitS * 1000);
    child.on("exit", (code) => {
      clearTimeout(kill);
      clearTimeout(killTimer);
      resolve(code ?? 1);
    });
  });
}

const t0 = performance.now();
const failed: string[] = [];
for (const name of selected) {
  console.log(`\n=== ${name}`);
  const code = await runOne(name, SUITE_LIMIT_S - (performance.now() - t0) / 1000);
  if (code !== 0) failed.push(name);
}
console.log(`\n=== results (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
for (const name of selected) {
  const md = join(RESULTS_DIR, `${today()}-${name}.md`);
  if (existsSync(md) && !failed.includes(name)) console.log(readFileSync(md, "utf8"));
  else console.log(`## ${name}: failed, see the output above\n`);
}
// The "Latest results" section of bench/README.md: the newest result of each
// benchmark (a benchmark not run now keeps its last one), after the summary.
const defaults = Object.keys(BENCHMARKS).filter((n) => !BENCHMARKS[n]!.onlyByName);
const summary = writeSummary();
console.log(`\nsummary: ${summary.join(", ")}`);
if (!quick) {
  const readme = join(BENCH_DIR, "README.md");
  const START = "<!-- results:start -->";
  const END = "<!-- results:end -->";
  const text = existsSync(readme) ? readFileSync(readme, "utf8") : "";
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) {
    const date = today();
    const head = `### Summary — ${date}\n\n${readFileSync(join(RESULTS_DIR, `${date}.md`), "utf8").replace(/^# .*\n\n/, "").replace(/\]\((\d{4}-\d{2}-\d{2}[^)]*)\)/g, "](results/$1)")}\n`;
    const tables = defaults
      .flatMap((n) => {
        const found = latestResult(n);
        if (found === null) return [];
        return [readFileSync(join(RESULTS_DIR, `${found.date}-${n}.md`), "utf8").replace(/^## /, "### ") + `\n![${n}](results/${found.date}-${n}.svg)\n`];
      })
      .join("\n");
    writeFileSync(readme, `${text.slice(0, a + START.length)}\n\n${head}\n${tables}\n${text.slice(b)}`);
    console.log("updated the results in bench/README.md");
  }
}
process.exit(failed.length > 0 ? 1 : 0);
