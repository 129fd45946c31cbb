/**
 * cold-start: how long from "this function version is not loaded anywhere" to
 * its first response, for a ~50 KB Worker bundle.
 *
 * What is timed, per sample, in a process that is already warm (the edge-node
 * case: the node is up, a request arrives for a version it has not loaded):
 * - verge: `new Sandbox(...)` (new isolate + context + host bridge + guest prelude
 *   + compile/instantiate/evaluate the bundle + dialect init) then `invoke` of a
 *   GET and reading the whole response body. Every sample is a new version (a
 *   different salt, same size), so no code cache of the bundle applies. Split:
 *   `bundle` = the isolate CPU the Sandbox reports for evaluating the bundle
 *   (`startupCpuMs`), `isolate+prelude` = constructor time minus that, `first call`
 *   = invoke → body read.
 * - verge-cached: the same version again, with the bundle code cache produced by
 *   an earlier isolate of it in this process (what the pool does when it scales a
 *   version out).
 * - verge-hello: a hello-world bundle instead of 50 KB (the floor: isolate + prelude).
 * - verge-spare: what a request waits for on a running node: the pool's
 *   `acquire` of a new version (it adopts a spare isolate whose prelude already
 *   ran, made in the idle time before the sample, then compiles and evaluates
 *   the bundle) + the first call. Before each sample the bench waits until the
 *   pool has refilled its spare, as it does between cold starts on a node.
 * - node-vm: a new `node:vm` context, the same bundle, first call with Node's own
 *   Request/Response. No isolation, no budgets: the baseline "just run the JS" cost.
 * - miniflare: `new Miniflare({ modules: true, script })` → first `dispatchFetch` → body.
 * - workerd: spawn `workerd serve` with the Worker → first 200 over loopback.
 *
 * How: every variant runs in its own fresh process per round (rounds alternate
 * the variant order); inside it, a few warm-up cold starts are made and dropped
 * (the first is reported as "first in process"), then N cold starts are timed
 * one after another and the process reports their median and all samples.
 * Summary = median over rounds; ratios are taken within each round.
 *
 * Run: `npm run bench -- cold-start` or
 *      `node --no-node-snapshot bench/cold-start.ts [--rounds 5] [--quick]`
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { emitResult, environment, envLine, mdTable, medianRatio, parseArgs, previousRun, runRounds, series, writeResults, BENCH_DIR, type RoundsResult } from "./lib/rounds.ts";
import { median, round, fmt } from "./lib/stats.ts";
import { barChart } from "./lib/svg-chart.ts";
import { bodyText, freePort } from "./lib/proc.ts";
import { routerBundle, helloBundle, ROUTER_PROBE_PATH } from "./lib/worker-bundle.ts";
import { workerdBinary, workerdConfig } from "./lib/workerd.ts";

const SCRIPT = fileURLToPath(import.meta.url);
const BUNDLE_BYTES = 50 * 1024;
const TARGET_MS = 5;
const PRELUDE_DIR = join(BENCH_DIR, "..", "src", "runtime", "guest");

/**
 * The prelude's size: its eager part (`prelude.generated.js` and the modules it imports, what
 * every new isolate compiles and runs) and the whole build with the lazy parts.
 */
function preludeSize(): { raw: number; gzip: number; totalRaw: number } {
  const files = readdirSync(PRELUDE_DIR).filter((f) => /^prelude.*\.generated\.js$/.test(f));
  const eager = new Set<string>();
  const visit = (f: string) => {
    if (eager.has(f)) return;
    eager.add(f);
    for (const m of readFileSync(join(PRELUDE_DIR, f), "utf8").matchAll(/"\.\/(prelude[^"]*\.generated\.js)"/g)) visit(m[1]!);
  };
  visit("prelude.generated.js");
  const eagerCode = Buffer.concat([...eager].map((f) => readFileSync(join(PRELUDE_DIR, f))));
  const totalRaw = files.reduce((n, f) => n + readFileSync(join(PRELUDE_DIR, f)).byteLength, 0);
  return { raw: eagerCode.byteLength, gzip: gzipSync(eagerCode).byteLength, totalRaw };
}

interface Sample {
  totalMs: number;
  ctorMs?: number;
  bundleMs?: number;
  firstCallMs?: number;
}

interface VariantResult {
  variant: string;
  /** The first cold start in the process (pays module loading, JIT warm-up, prelude code cache creation). */
  firstInProcessMs: number;
  samples: Sample[];
  p50: Sample;
  note?: string;
}

const VARIANTS: Record<string, { label: string; short: string; samples: number; warmup: number }> = {
  verge: { label: "verge: new Sandbox + 50 KB bundle + first call", short: "verge, new version", samples: 20, warmup: 3 },
  "verge-cached": { label: "verge: same version again, bundle code cache", short: "verge, version seen (code cache)", samples: 20, warmup: 3 },
  "verge-hello": { label: "verge: hello-world bundle (isolate + prelude floor)", short: "verge, hello world", samples: 20, warmup: 3 },
  "verge-spare": { label: "verge: through the pool, spare isolate ready (what a request waits for)", short: "verge, spare isolate", samples: 20, warmup: 3 },
  "node-vm": { label: "node:vm context, no isolation (baseline)", short: "node:vm context (no isolation)", samples: 20, warmup: 3 },
  miniflare: { label: "Miniflare 4: new Miniflare → first dispatchFetch", short: "Miniflare 4", samples: 3, warmup: 1 },
  workerd: { label: "workerd serve → first 200", short: "workerd serve (new process)", samples: 3, warmup: 1 },
};

function p50Of(samples: Sample[]): Sample {
  const pick = (k: keyof Sample) => {
    const v = samples.map((s) => s[k]).filter((x): x is number => typeof x === "number");
    return v.length ? round(median(v)) : undefined;
  };
  const out: Sample = { totalMs: pick("totalMs")! };
  for (const k of ["ctorMs", "bundleMs", "firstCallMs"] as const) {
    const v = pick(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------- variants (child side)

async function vergeVariant(kind: "verge" | "verge-cached" | "verge-hello" | "verge-spare", n: number, warmup: number): Promise<VariantResult> {
  const { Sandbox, IsolatePool, createHostServices } = await import("../src/runtime/index.ts");
  const { defaultLimits } = await import("../src/index.ts");
  const services = createHostServices();
  const limits = defaultLimits();
  const path = kind === "verge-hello" ? "/" : ROUTER_PROBE_PATH;
  const expect = kind === "verge-hello" ? "hello world" : '"id":"42"';
  type Cache = NonNullable<ConstructorParameters<typeof Sandbox>[0]["codeCache"]>;
  let cache: Cache | undefined;
  const cachedCode = routerBundle(BUNDLE_BYTES, `cached-${process.pid}`);
  const pool = kind === "verge-spare" ? new IsolatePool({ services, spares: 1 }) : null;

  const one = async (i: number): Promise<Sample> => {
    const id = `${kind}-${process.pid}-${i}`;
    const code = kind === "verge-hello" ? helloBundle(id) : kind === "verge-cached" ? cachedCode : routerBundle(BUNDLE_BYTES, id);
    if (pool !== null) {
      // The node is idle between cold starts: the pool has made its spare by now.
      const deadline = Date.now() + 5_000;
      while (pool.stats().spares < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    }
    const t0 = performance.now();
    const sb =
      pool !== null
        ? pool.acquire({ source: { id, code, format: "esm" }, limits, env: {}, bindings: {} }).sandbox
        : new Sandbox({ source: { id, code, format: "esm" }, limits, env: {}, bindings: {}, services, ...(kind === "verge-cached" && cache ? { codeCache: cache } : {}) });
    const t1 = performance.now();
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: `http://localhost${path}`, headers: [["user-agent", "verge-bench"]], body: null } });
    if (out.kind !== "response") throw new Error(`${kind}: expected a response, got ${out.kind}: ${out.kind === "error" ? out.error.message : ""}`);
    const text = await bodyText(out.response.body);
    const t2 = performance.now();
    if (out.response.status !== 200 || !text.includes(expect)) throw new Error(`${kind}: unexpected response ${out.response.status} ${text.slice(0, 200)}`);
    await out.finished;
    if (kind === "verge-cached") cache ??= sb.codeCache;
    const s: Sample = { totalMs: t2 - t0, ctorMs: t1 - t0, bundleMs: sb.startupCpuMs, firstCallMs: t2 - t1 };
    sb.dispose();
    return s;
  };
  const first = await one(0);
  for (let i = 1; i < warmup; i++) await one(i);
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) samples.push(await one(warmup + i));
  return { variant: kind, firstInProcessMs: first.totalMs, samples, p50: p50Of(samples) };
}

async function nodeVmVariant(n: number, warmup: number): Promise<VariantResult> {
  const vm = await import("node:vm");
  const one = async (i: number): Promise<Sample> => {
    const code = routerBundle(BUNDLE_BYTES, `vm-${process.pid}-${i}`).replace("export default {", "globalThis.__worker = {");
    const t0 = performance.now();
    const ctx = vm.createContext({ Request, Response, Headers, URL, console });
    new vm.Script(code, { filename: "worker.js" }).runInContext(ctx);
    const t1 = performance.now();
    const worker = (ctx as { __worker: { fetch(r: Request, env: unknown, c: unknown): Promise<Response> } }).__worker;
    const res = await worker.fetch(new Request(`http://localhost${ROUTER_PROBE_PATH}`, { headers: { "user-agent": "verge-bench" } }), {}, {});
    const text = await res.text();
    const t2 = performance.now();
    if (res.status !== 200 || !text.includes('"id":"42"')) throw new Error(`node-vm: unexpected response ${res.status} ${text}`);
    return { totalMs: t2 - t0, ctorMs: t1 - t0, firstCallMs: t2 - t1 };
  };
  const first = await one(0);
  for (let i = 1; i < warmup; i++) await one(i);
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) samples.push(await one(warmup + i));
  return { variant: "node-vm", firstInProcessMs: first.totalMs, samples, p50: p50Of(samples) };
}

async function miniflareVariant(n: number, warmup: number): Promise<VariantResult> {
  const { Miniflare } = await import("miniflare");
  const script = routerBundle(BUNDLE_BYTES, "miniflare");
  const one = async (): Promise<Sample> => {
    const t0 = performance.now();
    const mf = new Miniflare({ modules: true, script, compatibilityDate: "2024-09-23" });
    const res = await mf.dispatchFetch(`http://localhost${ROUTER_PROBE_PATH}`, { headers: { "user-agent": "verge-bench" } });
    const text = await res.text();
    const t1 = performance.now();
    await mf.dispose();
    if (res.status !== 200 || !text.includes('"id":"42"')) throw new Error(`miniflare: unexpected response ${res.status} ${text}`);
    return { totalMs: t1 - t0 };
  };
  const first = await one();
  for (let i = 1; i < warmup; i++) await one();
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) samples.push(await one());
  return { variant: "miniflare", firstInProcessMs: first.totalMs, samples, p50: p50Of(samples) };
}

async function workerdVariant(n: number, warmup: number): Promise<VariantResult> {
  const bin = await workerdBinary();
  if (bin === null) throw new Error("workerd binary not found (the `workerd` package comes with miniflare)");
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-workerd-"));
  writeFileSync(join(dir, "worker.js"), routerBundle(BUNDLE_BYTES, "workerd"));
  const one = async (): Promise<Sample> => {
    const port = await freePort();
    writeFileSync(
      join(dir, "config.capnp"),
      workerdConfig(port),
    );
    const t0 = performance.now();
    const child = spawn(bin, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    let text = "";
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`workerd exited: ${stderr.slice(-500)}`);
        if (performance.now() - t0 > 10_000) throw new Error(`workerd did not answer within 10 s: ${stderr.slice(-500)}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}${ROUTER_PROBE_PATH}`, { headers: { "user-agent": "verge-bench" } });
          text = await res.text();
          if (res.status === 200) break;
        } catch {
          await new Promise((r) => setTimeout(r, 0.5));
        }
      }
      const t1 = performance.now();
      if (!text.includes('"id":"42"')) throw new Error(`workerd: unexpected body ${text}`);
      return { totalMs: t1 - t0 };
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    const first = await one();
    for (let i = 1; i < warmup; i++) await one();
    const samples: Sample[] = [];
    for (let i = 0; i < n; i++) samples.push(await one());
    return { variant: "workerd", firstInProcessMs: first.totalMs, samples, p50: p50Of(samples) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runVariantMain(name: string, quick: boolean): Promise<void> {
  const def = VARIANTS[name];
  if (def === undefined) throw new Error(`unknown variant ${name}`);
  const n = quick ? Math.max(2, Math.ceil(def.samples / 2)) : def.samples;
  let r: VariantResult;
  if (name === "verge" || name === "verge-cached" || name === "verge-hello" || name === "verge-spare") r = await vergeVariant(name, n, def.warmup);
  else if (name === "node-vm") r = await nodeVmVariant(n, def.warmup);
  else if (name === "miniflare") r = await miniflareVariant(n, def.warmup);
  else r = await workerdVariant(n, def.warmup);
  r.samples = r.samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v as number)])) as unknown as Sample);
  r.firstInProcessMs = round(r.firstInProcessMs);
  emitResult(r);
  // Miniflare and undici keep handles open; the result is out, leave now.
  process.exit(0);
}

// ---------------------------------------------------------------- orchestration (parent side)

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.variant !== undefined) return runVariantMain(args.variant, args.quick);

  let variants: string[];
  let preludeBytes: { raw: number; gzip: number; totalRaw?: number };
  let bundleBytes: number;
  let res: RoundsResult<VariantResult>;
  let env: Record<string, unknown>;
  if (args.extra.from !== undefined) {
    const prev = previousRun<VariantResult>(args.extra.from);
    ({ res, env } = prev);
    ({ variants, preludeBytes, bundleBytes } = prev.config as { variants: string[]; preludeBytes: { raw: number; gzip: number; totalRaw?: number }; bundleBytes: number });
  } else {
    variants = Object.keys(VARIANTS).filter((v) => v !== "workerd");
    if ((await workerdBinary()) !== null) variants.push("workerd");
    const rounds = args.rounds ?? (args.quick ? 3 : 5);
    const budgetS = args.budgetS ?? (args.quick ? 40 : 75);
    preludeBytes = preludeSize();
    bundleBytes = routerBundle(BUNDLE_BYTES, "x").length;
    console.log(`cold-start: ${rounds} rounds × ${variants.length} variants, budget ${budgetS} s; prelude ${fmt(preludeBytes.raw / 1024, 1)} KiB eager (${fmt(preludeBytes.gzip / 1024, 1)} KiB gzip), bundle ${fmt(bundleBytes / 1024, 1)} KiB`);
    res = await runRounds<VariantResult>({
      script: SCRIPT,
      variants,
      rounds,
      budgetMs: budgetS * 1000,
      timeoutMs: 120_000,
      extraArgs: args.quick ? ["--quick"] : [],
      onProgress: (m) => console.log(`  ${m}`),
    });
    env = await environment();
  }
  const rounds = res.rounds.length;

  const total = (v: string) => series(res, v, (x) => x.p50.totalMs);
  const summary = Object.fromEntries(
    variants.map((v) => {
      const t = total(v);
      return [v, { label: VARIANTS[v]!.label, p50Ms: round(median(t)), minRoundMs: round(Math.min(...t)), maxRoundMs: round(Math.max(...t)), firstInProcessMs: round(median(series(res, v, (x) => x.firstInProcessMs))), rounds: t }];
    }),
  );
  const split = {
    isolatePreludeMs: round(median(series(res, "verge", (x) => x.p50.ctorMs! - x.p50.bundleMs!))),
    bundleMs: round(median(series(res, "verge", (x) => x.p50.bundleMs!))),
    firstCallMs: round(median(series(res, "verge", (x) => x.p50.firstCallMs!))),
    helloCtorMs: round(median(series(res, "verge-hello", (x) => x.p50.ctorMs!))),
  };
  const ratios: Record<string, number> = {};
  for (const v of variants) if (v !== "verge") ratios[`${v}/verge`] = round(medianRatio(res, v, "verge", (x) => x.p50.totalMs));
  const vergeP50 = summary.verge?.p50Ms ?? NaN;
  const spareP50 = summary["verge-spare"]?.p50Ms ?? NaN;
  const verdict = {
    target: `verge p50 ≤ ${TARGET_MS} ms`,
    met: vergeP50 <= TARGET_MS,
    vergeP50Ms: vergeP50,
    spareMet: spareP50 <= TARGET_MS,
    spareP50Ms: spareP50,
  };

  const json = { benchmark: "cold-start", environment: env, config: { rounds, variants, bundleBytes, preludeBytes }, verdict, summary, split, ratios, raw: res.rounds, failures: res.failures, wallMs: Math.round(res.wallMs) };

  const roundCols = res.rounds.map((r) => `r${r.round}`);
  let md = `## cold-start — ${new Date().toISOString().slice(0, 10)}\n\n`;
  md += `${envLine(env)}\n\n`;
  md += `New isolate + guest prelude + a ${fmt(bundleBytes / 1024, 0)} KiB Worker bundle + first response. Prelude: ${fmt(preludeBytes.raw / 1024, 1)} KiB (${fmt(preludeBytes.gzip / 1024, 1)} KiB gzip) evaluated by every new isolate${preludeBytes.totalRaw !== undefined ? `, ${fmt(preludeBytes.totalRaw / 1024, 1)} KiB with the lazy parts an isolate loads on first use` : ""}. `;
  md += `Median over ${res.rounds.length} rounds of each fresh process's median; r1…rN are those per-round medians (ms). ×verge = this ÷ verge within the round (median).\n\n`;
  md += `**Target** ${verdict.target}: from nothing (new isolate + prelude made inside the timed window) **${verdict.met ? "met" : "MISSED"}** (${fmt(vergeP50)} ms); `;
  md += `as a request on a running node waits for it (the pool's spare isolate, prelude already run, made before the request) **${verdict.spareMet ? "met" : "MISSED"}** (${fmt(spareP50)} ms).\n\n`;
  md += mdTable(
    ["variant", "p50 ms", "first in process ms", "×verge", ...roundCols],
    variants.map((v) => [VARIANTS[v]!.label, fmt(summary[v]!.p50Ms), fmt(summary[v]!.firstInProcessMs), v === "verge" ? "1" : fmt(ratios[`${v}/verge`], 2), ...res.rounds.map((r) => fmt(r.results[v]?.p50.totalMs))]),
  );
  md += `\nverge split (p50): isolate + prelude + init **${fmt(split.isolatePreludeMs)} ms**, bundle compile + evaluate **${fmt(split.bundleMs)} ms**, first call **${fmt(split.firstCallMs)} ms** (hello-world Sandbox constructor: ${fmt(split.helloCtorMs)} ms).\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;

  const svg = barChart({
    title: `Cold start to first response, ${fmt(bundleBytes / 1024, 0)} KiB Worker (p50, lower is better)`,
    subtitle: `${res.rounds.length} rounds, fresh process per variant per round · ${env.cpu as string} · ${new Date().toISOString().slice(0, 10)}`,
    unit: "ms",
    log: true,
    targets: [{ value: TARGET_MS, label: `target ${TARGET_MS} ms` }],
    bars: variants.map((v) => ({
      label: VARIANTS[v]!.short,
      value: summary[v]!.p50Ms,
      highlight: v.startsWith("verge"),
      note: `${fmt(summary[v]!.p50Ms)} ms${v === "verge" ? "" : ` · ${fmt(ratios[`${v}/verge`], ratios[`${v}/verge`]! >= 10 ? 0 : 2)}× verge`}`,
    })),
  });
  const paths = writeResults("cold-start", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}

await main();
