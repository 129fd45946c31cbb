/**
 * The shape every benchmark follows (CONVENTIONS.md, Benchmarks):
 * - each variant runs in a fresh process (`node --no-node-snapshot <script> --variant <name>`),
 *   which prints one `BENCH_RESULT <json>` line;
 * - rounds alternate the order of variants (forward, then reversed), so a drift in
 *   the machine's state (thermal, noisy neighbours) does not favour one variant;
 * - every raw round is kept; summaries are medians over rounds; ratios are taken
 *   within a round against a baseline measured in that same round.
 * The parent never loads isolated-vm itself.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";
import { median } from "./stats.ts";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const RESULTS_DIR = join(BENCH_DIR, "results");
const MARK = "BENCH_RESULT ";

/** Command-line flags shared by all benchmark scripts. */
export interface CliArgs {
  variant: string | undefined;
  rounds: number | undefined;
  /** Wall-clock budget in seconds for the whole script (rounds stop early when it is spent). */
  budgetS: number | undefined;
  quick: boolean;
  /** Extra `--key value` pairs, passed through to variants. */
  extra: Record<string, string>;
}

export function parseArgs(argv = process.argv.slice(2)): CliArgs {
  const out: CliArgs = { variant: undefined, rounds: undefined, budgetS: undefined, quick: false, extra: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") out.quick = true;
    else if (a === "--variant") out.variant = argv[++i];
    else if (a === "--rounds") out.rounds = Number(argv[++i]);
    else if (a === "--budget-s") out.budgetS = Number(argv[++i]);
    else if (a.startsWith("--")) out.extra[a.slice(2)] = argv[++i] ?? "";
  }
  return out;
}

/** Called by a variant process: prints its result for the parent. */
export function emitResult(value: unknown): void {
  process.stdout.write(`\n${MARK}${JSON.stringify(value)}\n`);
}

export interface RunOptions {
  script: string;
  variants: string[];
  rounds: number;
  /** Stop starting new rounds once this much wall time has passed (at least one round runs). */
  budgetMs: number;
  /** Per-variant-process timeout. */
  timeoutMs: number;
  nodeFlags?: string[];
  extraArgs?: string[];
  onProgress?: (msg: string) => void;
}

export interface RoundsResult<T> {
  rounds: Array<{ round: number; order: string[]; results: Record<string, T> }>;
  /** Variants that failed in some round, with their error text. */
  failures: Array<{ round: number; variant: string; error: string }>;
  wallMs: number;
}

export function runVariant<T>(script: string, variant: string, opts: { timeoutMs: number; nodeFlags?: string[]; extraArgs?: string[] }): Promise<T> {
  const args = ["--no-node-snapshot", "--disable-warning=ExperimentalWarning", ...(opts.nodeFlags ?? []), script, "--variant", variant, ...(opts.extraArgs ?? [])];
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends what it started (workerd, the harness child).
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    trackGroup(child.pid);
    child.on("error", (err) => reject(new Error(`${variant}: could not start: ${err.message}`)));
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      live.delete(child.pid!);
      const line = stdout.split("\n").reverse().find((l) => l.startsWith(MARK));
      if (line !== undefined && code === 0) {
        resolve(JSON.parse(line.slice(MARK.length)) as T);
        return;
      }
      const why = timedOut ? `timed out after ${opts.timeoutMs} ms` : signal !== null ? `killed by ${signal}` : `exit code ${code}${line === undefined ? ", no result line" : ""}`;
      reject(new Error(`${variant}: ${why}\n${stderr.slice(-2000)}`));
    });
  });
}

const live = new Set<number>();
let handlersInstalled = false;

/**
 * Remembers a detached process group we started, so Ctrl-C (which reaches only
 * our own group) still ends it.
 */
export function trackGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  live.add(pid);
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      for (const p of live) killGroup(p);
      process.exit(130);
    });
  }
}

/** Kills a process group this module started (never anything else). */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export async function runRounds<T>(o: RunOptions): Promise<RoundsResult<T>> {
  const t0 = performance.now();
  const rounds: RoundsResult<T>["rounds"] = [];
  const failures: RoundsResult<T>["failures"] = [];
  for (let r = 0; r < o.rounds; r++) {
    if (r > 0 && performance.now() - t0 > o.budgetMs) {
      o.onProgress?.(`time budget spent after ${r} rounds`);
      break;
    }
    const order = r % 2 === 0 ? [...o.variants] : [...o.variants].reverse();
    const results: Record<string, T> = {};
    for (const v of order) {
      try {
        results[v] = await runVariant<T>(o.script, v, o);
      } catch (err) {
        failures.push({ round: r, variant: v, error: (err as Error).message });
        o.onProgress?.(`round ${r + 1}: ${v} failed: ${(err as Error).message.split("\n")[0]}`);
      }
    }
    rounds.push({ round: r + 1, order, results });
    o.onProgress?.(`round ${r + 1}/${o.rounds} done (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return { rounds, failures, wallMs: performance.now() - t0 };
}

/** Per-round values of `pick(result)` for one variant (rounds where it failed are skipped). */
export function series<T>(r: RoundsResult<T>, variant: string, pick: (x: T) => number): number[] {
  return r.rounds.flatMap((round) => (round.results[variant] !== undefined ? [pick(round.results[variant]!)] : []));
}

/** Median over rounds of a within-round ratio `pick(a) / pick(b)`. */
export function medianRatio<T>(r: RoundsResult<T>, a: string, b: string, pick: (x: T) => number): number {
  const ratios = r.rounds.flatMap((round) => {
    const x = round.results[a];
    const y = round.results[b];
    return x !== undefined && y !== undefined ? [pick(x) / pick(y)] : [];
  });
  return median(ratios);
}

export function today(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Writes `<date>-<name>.json`, `.md` and `.svg` into bench/results and returns their paths. */
export function writeResults(name: string, files: { json: unknown; md: string; svg: string }): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = join(RESULTS_DIR, `${today()}-${name}`);
  writeFileSync(`${base}.json`, JSON.stringify(files.json, null, 2) + "\n");
  writeFileSync(`${base}.md`, files.md);
  writeFileSync(`${base}.svg`, files.svg);
  return [`${base}.json`, `${base}.md`, `${base}.svg`].map((p) => relative(process.cwd(), p));
}

/** Facts about the machine and software, stored with every result. */
export async function environment(): Promise<Record<string, unknown>> {
  const os = await import("node:os");
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} × ${cpus[0]?.model ?? "unknown"}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * `--from <results json>`: re-render the table and chart of an earlier run
 * (after a change to the report or the chart) without measuring again.
 */
export function previousRun<T>(path: string): { res: RoundsResult<T>; env: Record<string, unknown>; config: Record<string, unknown> } {
  const prev = JSON.parse(readFileSync(path, "utf8")) as { raw: RoundsResult<T>["rounds"]; failures: RoundsResult<T>["failures"]; wallMs: number; environment: Record<string, unknown>; config: Record<string, unknown> };
  return { res: { rounds: prev.raw, failures: prev.failures, wallMs: prev.wallMs }, env: prev.environment, config: prev.config };
}

/** One line naming the machine, for the Markdown reports. */
export function envLine(env: Record<string, unknown>): string {
  return `Machine: ${String(env.cpu)}, ${String(env.memoryGiB)} GiB, Node ${String(env.node)}; load average at the end ${(env.loadavg as number[]).join(" / ")}.`;
}

/** A Markdown table from a header row and rows of cells. */
export function mdTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n") + "\n";
}

export interface RoundsPlan extends Omit<RunOptions, "rounds" | "budgetMs" | "onProgress"> {
  /** Defaults; `--rounds` and `--budget-s` override them. */
  rounds: number;
  budgetS: number;
  /** Printed after the rounds and variants in the opening line. */
  detail?: string;
}

/**
 * A benchmark's rounds: with `--from <results.json>`, those of an earlier run (to
 * rewrite its report); otherwise run now, printing progress, and read the
 * machine's state at the end. `config` is the earlier run's, when re-read.
 */
export async function roundsOrPrevious<T>(
  name: string,
  args: CliArgs,
  plan: RoundsPlan,
): Promise<{ res: RoundsResult<T>; env: Record<string, unknown>; config: Record<string, unknown> | undefined }> {
  if (args.extra.from !== undefined) return previousRun<T>(args.extra.from);
  const { detail, rounds: defaultRounds, budgetS: defaultBudget, ...run } = plan;
  const rounds = args.rounds ?? defaultRounds;
  const budgetS = args.budgetS ?? defaultBudget;
  console.log(`${name}: ${rounds} rounds × ${plan.variants.length} variants${detail ? `, ${detail}` : ""}, budget ${budgetS} s`);
  const res = await runRounds<T>({ ...run, rounds, budgetMs: budgetS * 1000, onProgress: (m) => console.log(`  ${m}`) });
  return { res, env: await environment(), config: undefined };
}
