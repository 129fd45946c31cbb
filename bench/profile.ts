/**
 * profile: where the time (and the memory) of a cold start and of a warm call
 * goes, so a missed target comes with the list of what to fix. A diagnostic,
 * not a benchmark: it runs in one process and reports attributions, not ratios.
 *
 * What it does (public runtime API only; no isolated-vm import here):
 * 1. warm, host side: the in-process runtime serving a hello-world Worker in a
 *    loop, with the V8 sampling profiler of this process (node:inspector, 50 µs
 *    interval) on during a measured window only. Reports self time per function
 *    and per source line of src/ as µs per call. Native work (an `applySync`
 *    into the isolate, a heap-statistics read) is charged to the JS line that
 *    called it.
 * 2. warm, split: the same call path step by step with hrtime: pool/runtime layer,
 *    `Sandbox.invoke` until the answer, body read, and the end of the invocation.
 * 3. warm, guest side: the isolate's own CPU profiler (`sandbox.isolate`) over the
 *    same loop, with an unminified build of the prelude so names are readable.
 * 4. cold, host side: `new Sandbox` + first call of the 50 KB Worker, profiled
 *    like (1), per cold start.
 * 5. cold, prelude evaluation split by source module: the unminified prelude's eager part
 *    with a timestamp taken (through the host bridge's `now`) at each of
 *    esbuild's `// path` module markers; the Worker reads them back.
 * 6. what-if: cold start, isolate heap and RSS per idle warm isolate with the
 *    prelude as built (eager part only), with every lazy part loaded (≈ what an
 *    all-eager prelude cost), unminified, and with a stub prelude that installs
 *    no Web API (the isolate floor). RSS is measured in a fresh child process per
 *    prelude, as density.ts does.
 *
 * The prelude variants (lib/prelude-variants.ts) are built to temp dirs with the
 * project's build function (src/build/prelude.ts) without `minify`;
 * profiles are reduced by lib/cpu-profile.ts.
 *
 * Run: `node --no-node-snapshot bench/profile.ts [--quick]`
 * Writes bench/results/<date>-profile.{md,json}.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_DIR, RESULTS_DIR, today, mdTable, environment, parseArgs, runVariant, emitResult } from "./lib/rounds.ts";
import { median, round, fmt } from "./lib/stats.ts";
import { aggregate, topRows, withHostProfile, type CpuProfile } from "./lib/cpu-profile.ts";
import { buildReadablePrelude, cleanup, markedPrelude, mkdtempSync, preludeOf, STUB_PRELUDE, type Prelude, type PreludeSpec } from "./lib/prelude-variants.ts";
import { bodyText } from "./lib/proc.ts";
import { helloBundle, routerBundle, ROUTER_PROBE_PATH } from "./lib/worker-bundle.ts";
import { createRuntime, createHostServices, Sandbox } from "../src/runtime/index.ts";
import { defaultLimits } from "../src/index.ts";

const ROOT = join(BENCH_DIR, "..");
const SCRIPT = fileURLToPath(import.meta.url);
const args = parseArgs();
const QUICK = args.quick;
const services = createHostServices();
const limits = defaultLimits();
/**
 * For every sandbox here: the same code path, but room in the CPU budget. isolated-vm's
 * per-call timeout is wall time, so a host stall (profiler, GC, a loaded machine)
 * can otherwise end a hello-world call as ERR_CPU_LIMIT (seen twice; see README).
 */
const roomy = { ...limits, cpuMs: 10_000 };

// ------------------------------------------------------------------ sections

async function coldOnce(code: string, id: string, path: string, prelude?: Prelude): Promise<{ ctorMs: number; totalMs: number; heapMiB: number; text: string }> {
  const t0 = performance.now();
  const sb = new Sandbox({ source: { id, code, format: "esm" }, limits: roomy, env: {}, bindings: {}, services, ...(prelude ? { prelude } : {}) });
  const t1 = performance.now();
  const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: `http://localhost${path}`, headers: [], body: null } });
  if (out.kind !== "response") throw new Error(`cold: ${out.kind === "error" ? out.error.message : out.kind}`);
  const text = await bodyText(out.response.body);
  if (out.response.status !== 200) throw new Error(`cold: status ${out.response.status}: ${text.slice(0, 200)}`);
  const t2 = performance.now();
  await out.finished;
  const heapMiB = sb.heapBytes / 2 ** 20;
  sb.dispose();
  return { ctorMs: t1 - t0, totalMs: t2 - t0, heapMiB, text };
}

async function warmHost(): Promise<{ perCallUs: number; rows: string[][]; lineRows: string[][]; calls: number }> {
  const rt = createRuntime({ services });
  const spec = { source: { id: "hello", code: helloBundle("p"), format: "esm" as const }, limits: roomy, env: {}, bindings: {} };
  const call = async () => {
    const r = await rt.fetch(spec, { method: "GET", url: "http://localhost/", headers: [], body: null });
    if (r.type !== "response") throw new Error("expected a response");
    await bodyText(r.response.body);
    await r.finished;
  };
  for (let i = 0; i < 2000; i++) await call();
  const windowMs = QUICK ? 1000 : 2500;
  const { result: calls, profile } = await withHostProfile(() => callsWithin(call, windowMs));
  rt.dispose();
  const agg = aggregate(profile);
  return { perCallUs: (agg.totalMs * 1000) / calls, rows: topRows(agg.byFunction, calls, 18), lineRows: topRows(agg.byLine, calls, 14, true), calls };
}

async function warmSplit(): Promise<Record<string, number>> {
  const rt = createRuntime({ services });
  const spec = { source: { id: "hello-split", code: helloBundle("s"), format: "esm" as const }, limits: roomy, env: {}, bindings: {} };
  const sb = new Sandbox({ source: { id: "hello-split-sb", code: helloBundle("s"), format: "esm" }, limits: roomy, env: {}, bindings: {}, services });
  const n = QUICK ? 3000 : 8000;
  const t = { runtimeTotal: [] as number[], invoke: [] as number[], body: [] as number[], finished: [] as number[], sandboxTotal: [] as number[], plain: [] as number[] };
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const r = await rt.fetch(spec, { method: "GET", url: "http://localhost/", headers: [], body: null });
    if (r.type !== "response") throw new Error("expected a response");
    await bodyText(r.response.body);
    await r.finished;
    t.runtimeTotal.push(performance.now() - a);

    const b0 = performance.now();
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: "http://localhost/", headers: [], body: null } });
    const b1 = performance.now();
    if (out.kind !== "response") throw new Error("expected a response");
    await bodyText(out.response.body);
    const b2 = performance.now();
    await out.finished;
    const b3 = performance.now();
    t.invoke.push(b1 - b0);
    t.body.push(b2 - b1);
    t.finished.push(b3 - b2);
    t.sandboxTotal.push(b3 - b0);

    const c0 = performance.now();
    const res = await Promise.resolve(new Response("hello world"));
    await res.text();
    t.plain.push(performance.now() - c0);
  }
  rt.dispose();
  sb.dispose();
  const us = (xs: number[]) => round(median(xs.slice(xs.length / 4)) * 1000);
  return {
    "runtime.fetch total": us(t.runtimeTotal),
    "Sandbox.invoke → answer (dispatch: applySync into the guest, handler, emit)": us(t.invoke),
    "read the body (bytes already on the host)": us(t.body),
    "answer → finished (ActiveInvocation#end: abort(), clearTimeout, release → enter('finish'))": us(t.finished),
    "Sandbox path total": us(t.sandboxTotal),
    "runtime layer (runtime.fetch − Sandbox path: dialectOf, pool acquire/release, specKey)": round(us(t.runtimeTotal) - us(t.sandboxTotal)),
    "plain Node Response, same work": us(t.plain),
  };
}

/**
 * Guest side of a warm call. isolated-vm starts a new V8 profiler at every entry
 * into the isolate (and a profile per entry), so a ~50 µs call cannot be sampled;
 * instead one entry runs the guest's per-request work in a loop (build a Request
 * with headers, a Response with a string body, read the body) and is profiled.
 * Also reported: the isolate CPU time of one real warm call (`isolate.cpuTime`).
 */
async function warmGuest(readable: string): Promise<{ rows: string[][]; loopUsPerIteration: number; guestCpuUsPerCall: number; wallUsPerCall: number; sampledMs: number }> {
  const code = `export default { async fetch(request) {
  const n = Number(new URL(request.url).searchParams.get("loop") ?? 0);
  for (let i = 0; i < n; i++) {
    const req = new Request("http://localhost/", { headers: [["user-agent", "verge-bench"], ["accept", "*/*"]] });
    const res = new Response("hello world");
    await res.text();
    if (req.method !== "GET") throw new Error("unreachable");
  }
  return new Response("hello world");
} };`;
  // The profiler adds CPU inside the isolate: give it room, or the CPU budget kills it.
  const sb = new Sandbox({ source: { id: "hello-guest", code, format: "esm" }, limits: { ...limits, cpuMs: 60_000, wallMs: 120_000 }, env: {}, bindings: {}, services, prelude: preludeOf({ kind: "dir", path: readable }) });
  const call = async (loop: number) => {
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: `http://localhost/?loop=${loop}`, headers: [["user-agent", "verge-bench"]], body: null } });
    if (out.kind !== "response") throw new Error(`guest: ${out.kind === "error" ? out.error.message : out.kind}`);
    await bodyText(out.response.body);
    await out.finished;
  };
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const c0 = sb.isolate.cpuTime;
    const t0 = performance.now();
    await call(0);
    if (i >= 1000) {
      wall.push(performance.now() - t0);
      cpu.push(Number(sb.isolate.cpuTime - c0) / 1e6);
    }
  }
  const loops = QUICK ? 5_000 : 20_000;
  await call(2_000);
  const t0 = performance.now();
  sb.isolate.startCpuProfiler("loop");
  await call(loops);
  const profiles = (await sb.isolate.stopCpuProfiler("loop")) as unknown as Array<{ profile: CpuProfile }>;
  const loopMs = performance.now() - t0;
  sb.dispose();
  const byFunction = new Map<string, number>();
  let sampledMs = 0;
  for (const { profile } of profiles) {
    const a = aggregate(profile);
    sampledMs += a.totalMs;
    for (const [k, v] of a.byFunction) byFunction.set(k, (byFunction.get(k) ?? 0) + v);
  }
  return { rows: topRows(byFunction, loops, 18), loopUsPerIteration: (loopMs * 1000) / loops, guestCpuUsPerCall: median(cpu) * 1000, wallUsPerCall: median(wall) * 1000, sampledMs };
}

/**
 * The harness (Verge → child process → runtime). The parent is profiled with
 * node:inspector during the window; the child with `--cpu-prof` (passed through
 * NODE_OPTIONS, which the fork inherits) over its whole life, so its table
 * includes the child's start-up (module compilation) as separate rows.
 */
async function harness(): Promise<{ calls: number; usPerCall: number; parentRows: string[][]; childRows: string[][]; childCalls: number }> {
  const { Verge } = await import("../src/index.ts");
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-harness-prof-"));
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${saved ?? ""} --cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=100`.trim();
  const verge = new Verge({ modules: true, script: helloBundle("harness") });
  await verge.ready;
  if (saved === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved;
  const call = async () => {
    const res = await verge.dispatchFetch("http://localhost/");
    await res.text();
  };
  let childCalls = 0;
  for (let i = 0; i < 1500; i++, childCalls++) await call();
  const windowMs = QUICK ? 1000 : 2500;
  const { result: calls, profile } = await withHostProfile(() => callsWithin(call, windowMs));
  childCalls += calls;
  await verge.dispose();
  // The child writes its profile as it exits.
  let file: string | undefined;
  for (let i = 0; i < 100 && file === undefined; i++) {
    file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (file === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  const parent = aggregate(profile);
  parent.byFunction.delete("(idle)");
  let childRows: string[][] = [];
  if (file !== undefined) {
    const child = aggregate(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile);
    child.byFunction.delete("(idle)");
    childRows = topRows(child.byFunction, childCalls, 16);
  }
  return { calls, usPerCall: (windowMs * 1000) / calls, parentRows: topRows(parent.byFunction, calls, 12), childRows, childCalls };
}

async function coldHost(): Promise<{ perColdMs: number; rows: string[][]; lineRows: string[][]; n: number }> {
  for (let i = 0; i < 3; i++) await coldOnce(routerBundle(50 * 1024, `pw-${i}`), `pw-${i}`, ROUTER_PROBE_PATH);
  const n = QUICK ? 15 : 40;
  const { profile } = await withHostProfile(async () => {
    for (let i = 0; i < n; i++) await coldOnce(routerBundle(50 * 1024, `pc-${i}`), `pc-${i}`, ROUTER_PROBE_PATH);
  });
  const agg = aggregate(profile);
  // Report per cold start, in ms (topRows prints value*1000/per: pass per = n*1000 to get ms).
  return { perColdMs: agg.totalMs / n, rows: topRows(agg.byFunction, n * 1000, 16), lineRows: topRows(agg.byLine, n * 1000, 14, true), n };
}

async function preludeSplit(readable: string): Promise<{ rows: string[][]; totalMs: number }> {
  const prelude = preludeOf({ kind: "dir", path: markedPrelude(readable) });
  const reader = `export default { fetch() { return new Response(JSON.stringify(globalThis.__verge_marks)); } };`;
  const acc = new Map<string, number[]>();
  const n = QUICK ? 8 : 20;
  for (let i = -2; i < n; i++) {
    const r = await coldOnce(`// ${i}\n${reader}`, `marks-${i}`, "/", prelude);
    if (i < 0) continue;
    const marks = JSON.parse(r.text) as Array<[string, number]>;
    for (let k = 0; k < marks.length - 1; k++) {
      const list = acc.get(marks[k]![0]) ?? [];
      list.push(marks[k + 1]![1] - marks[k]![1]);
      acc.set(marks[k]![0], list);
    }
  }
  const rows = [...acc].map(([k, v]) => [k, median(v)] as const).sort((a, b) => b[1] - a[1]);
  const totalMs = rows.reduce((a, r) => a + r[1], 0);
  return { totalMs, rows: rows.slice(0, 14).map(([k, v]) => [fmt(v, 2), `${fmt((100 * v) / totalMs, 1)}%`, `\`${k}\``]) };
}

/** A host GC even without --expose-gc (for RSS readings). */
function hostGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

async function rssSlopeMiB(make: (i: number) => Promise<unknown>, n: number): Promise<number> {
  const gc = hostGc();
  const read = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    return process.memoryUsage().rss / 2 ** 20;
  };
  const pts: Array<[number, number]> = [[0, await read()]];
  for (let i = 1; i <= n; i++) {
    await make(i);
    if (i % Math.ceil(n / 4) === 0 || i === n) pts.push([i, await read()]);
  }
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

/** A hello Worker whose top level reads every global of a lazy part: the isolate as if the prelude were all eager. */
const ALL_PARTS_HELLO = (i: number) => `// ${i}
void [ReadableStream, AbortController, Blob, crypto.subtle, URLPattern, CompressionStream];
structuredClone(1);
export default { fetch() { return new Response("hello world"); } };`;

type WhatIf = { name: string; spec: PreludeSpec; bundle: "hello" | "all-parts" | "stub" };

async function whatIf(readable: string): Promise<string[][]> {
  const built = join(ROOT, "src", "runtime", "guest");
  const candidates: WhatIf[] = [
    { name: "prelude as built (eager part only; lazy parts load on first use)", spec: { kind: "dir", path: built }, bundle: "hello" },
    { name: "as built, every lazy part loaded by the bundle's top level (≈ the all-eager prelude)", spec: { kind: "dir", path: built }, bundle: "all-parts" },
    { name: "unminified, as built", spec: { kind: "dir", path: readable }, bundle: "hello" },
    { name: "stub prelude: the bridge only, no Web APIs (the isolate floor)", spec: { kind: "script", code: STUB_PRELUDE }, bundle: "stub" },
  ];
  const rows: string[][] = [];
  const n = QUICK ? 8 : 20;
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-whatif-"));
  for (const [k, c] of candidates.entries()) {
    const prelude = preludeOf(c.spec);
    const ctor: number[] = [];
    const total: number[] = [];
    const heap: number[] = [];
    for (let i = -2; i < n; i++) {
      const r = await coldOnce(whatIfCode(c.bundle, i), `w-${i}`, "/", prelude);
      if (i < 0) continue;
      ctor.push(r.ctorMs);
      total.push(r.totalMs);
      heap.push(r.heapMiB);
    }
    // RSS per idle isolate needs a fresh process (memory freed by earlier isolates is reused).
    const file = join(dir, `what-if-${k}.json`);
    writeFileSync(file, JSON.stringify(c));
    const rss = await runVariant<{ mibPerIsolate: number }>(SCRIPT, "rss", { timeoutMs: 120_000, nodeFlags: ["--expose-gc"], extraArgs: ["--what-if", file, "--n", String(QUICK ? 40 : 80)] });
    rows.push([c.name, fmt(Buffer.byteLength(prelude.code) / 1024, 1), fmt(median(ctor), 2), fmt(median(total), 2), fmt(median(heap), 2), fmt(rss.mibPerIsolate, 2), fmt(1024 / rss.mibPerIsolate, 0)]);
  }
  return rows;
}

function whatIfCode(bundle: WhatIf["bundle"], i: number): string {
  if (bundle === "stub") return `// ${i}\nexport default { fetch() {} };`;
  return bundle === "all-parts" ? ALL_PARTS_HELLO(i) : helloBundle(`w-${i}`);
}

/** Child mode: RSS per idle warm isolate with the what-if in `file`, in this fresh process. */
async function rssChild(file: string, n: number): Promise<void> {
  const c = JSON.parse(readFileSync(file, "utf8")) as WhatIf;
  const prelude = preludeOf(c.spec);
  const kept: Array<InstanceType<typeof Sandbox>> = [];
  const make = async (i: number) => {
    const sb = new Sandbox({ source: { id: `idle-${i}`, code: whatIfCode(c.bundle, i), format: "esm" }, limits: roomy, env: {}, bindings: {}, services, prelude });
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: "http://localhost/", headers: [], body: null } });
    if (out.kind === "response") await bodyText(out.response.body);
    await out.finished;
    kept.push(sb);
  };
  await make(-1);
  kept.pop()!.dispose();
  emitResult({ mibPerIsolate: await rssSlopeMiB(make, n) });
  process.exit(0);
}

// ------------------------------------------------------------------ main

if (args.variant === "rss") await rssChild(args.extra["what-if"]!, Number(args.extra.n ?? 80));
const readable = await buildReadablePrelude();
console.log("profile: warm host…");
const wh = await warmHost();
console.log("profile: warm split…");
const ws = await warmSplit();
console.log("profile: warm guest…");
const wg = await warmGuest(readable);
console.log("profile: harness…");
const hp = await harness();
console.log("profile: cold host…");
const ch = await coldHost();
console.log("profile: prelude split…");
const ps = await preludeSplit(readable);
console.log("profile: what-if…");
const wi = await whatIf(readable);
await services.close();

const env = await environment();
let md = `## profile — ${today()}\n\n`;
md += `Diagnostic run in one process (${env.cpu as string}, load ${(env.loadavg as number[]).join(" ")}). Self time: time in the function itself; native calls (isolated-vm) are charged to the JS that called them.\n\n`;
md += `### Warm call, host side (runtime.fetch of a hello Worker, ${wh.calls} calls, ${fmt(wh.perCallUs, 1)} µs sampled per call)\n\n`;
md += mdTable(["µs/call", "share", "function"], wh.rows);
md += `\nBy source line (src/ only):\n\n` + mdTable(["µs/call", "share", "line", "code"], wh.lineRows);
md += `\n### Warm call, step by step (median µs)\n\n` + mdTable(["step", "µs"], Object.entries(ws).map(([k, v]) => [k, fmt(v, 1)]));
md += `\n### Warm call, guest side\n\n`;
md += `A real warm call (Sandbox.invoke of a hello Worker, unminified prelude): **${fmt(wg.guestCpuUsPerCall, 1)} µs** of isolate CPU of **${fmt(wg.wallUsPerCall, 1)} µs** wall. `;
md += `The guest's per-request work in a loop inside one entry (new Request with 2 headers + new Response(string) + text()): **${fmt(wg.loopUsPerIteration, 1)} µs** per iteration; its profile (isolate CPU profiler, 1 ms sampling, ${fmt(wg.sampledMs, 0)} ms sampled):\n\n`;
md += mdTable(["µs/iteration", "share", "function (prelude.js = unminified prelude)"], wg.rows);
md += `\n### Warm call through the harness (${fmt(hp.usPerCall, 0)} µs per call, ${hp.calls} calls in the window)\n\n`;
md += `Parent process (test side), busy time only:\n\n` + mdTable(["µs/call", "share", "function"], hp.parentRows);
md += `\nChild process (runtime host), busy time over its whole life divided by the ${hp.childCalls} calls it served:\n\n` + mdTable(["µs/call", "share", "function"], hp.childRows);
md += `\n### Cold start, host side (new Sandbox + first call, 50 KB Worker, ${ch.n} cold starts, ${fmt(ch.perColdMs, 1)} ms sampled each)\n\n`;
md += mdTable(["ms/cold start", "share", "function"], ch.rows);
md += `\n### Prelude evaluation by module (median ms per new isolate, total ${fmt(ps.totalMs, 2)} ms)\n\n` + mdTable(["ms", "share", "module (time until the next module starts)"], ps.rows);
md += `\n### What if (hello Worker, median of cold starts in this process; RSS = slope over idle warm isolates kept alive)\n\n` + mdTable(["prelude", "KiB", "new Sandbox ms", "to first response ms", "isolate heap MiB", "RSS MiB per idle isolate", "per GiB"], wi);
writeFileSync(join(RESULTS_DIR, `${today()}-profile.md`), md);
writeFileSync(join(RESULTS_DIR, `${today()}-profile.json`), JSON.stringify({ benchmark: "profile", environment: env, warmHost: wh, warmSplit: ws, warmGuest: wg, harness: hp, coldHost: ch, preludeSplit: ps, whatIf: wi }, null, 2) + "\n");
console.log("\n" + md);
cleanup();
process.exit(0);

/** Calls `call` back to back for `windowMs` and returns how many calls completed. */
async function callsWithin(call: () => Promise<void>, windowMs: number): Promise<number> {
  let n = 0;
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    await call();
    n++;
  }
  return n;
}
