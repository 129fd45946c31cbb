/**
 * guest-apis: the cost per operation, inside a function, of three guest APIs
 * that verge implements in JavaScript or WebAssembly where workerd has them
 * native; verge vs `workerd serve` running the same Worker source
 * (lib/guest-api-workers.ts), with a verge baseline without the feature in the
 * same process:
 *
 * 1. AsyncLocalStorage (node:async_hooks, nodejs_compat): N awaits inside
 *    `als.run()` vs the same loop in a Worker that does not import
 *    node:async_hooks. verge compiles a bundle that imports it with `await`
 *    lowered to generators stepped by a wrapped `Promise.prototype.then`
 *    (src/build/node-polyfills/async_hooks.js); workerd keeps the context natively.
 * 2. HTMLRewriter (verge: lol-html compiled to WebAssembly, in the isolate):
 *    a ~50 KiB page read without a rewriter (baseline), through a rewriter whose
 *    one selector matches nothing (parse and serialize), and with three handlers
 *    (every `a[href]` rewritten, every `script` removed, `head` appended to).
 * 3. SHA-256 of 1 MiB: node:crypto `createHash` (verge: pure JS over
 *    @noble/hashes, in the isolate) and `crypto.subtle.digest` (verge: the
 *    bytes go to the host, which hashes them with Node's WebCrypto).
 *
 * Variants (a fresh process per round, order alternating by round):
 * - verge: the in-process runtime (`createRuntime().fetch`), each Worker bundled
 *   by src/build with nodejs_compat; its requests are made in this process.
 * - workerd: `workerd serve` (Miniflare's binary), the same sources unbundled,
 *   compatibility date 2024-09-23, flag nodejs_compat, one socket per Worker;
 *   requests by `fetch` over loopback keep-alive, one at a time.
 *
 * How: every request type (each Worker at n = 0 and at its n) is made in turn
 * in one process, the order reversed every repetition, for a fixed window after
 * a warm-up. Per request: wall time, and the CPU time of the serving process,
 * all threads (verge: this process, by getrusage; workerd: its process, from
 * /proc/<pid>/task/<tid>/schedstat, exact to the ns); for verge also the CPU the
 * invocation report charges to the function (its isolate's thread during guest
 * entries: the host's hashing for subtle.digest runs in Node's thread pool,
 * outside it). The per-operation cost is (median at n − median at n = 0) ÷ n,
 * which takes dispatch, HTTP and the response out; each request does enough
 * operations (tens of ms) that their noise stays small. Summary = median over
 * rounds; verge ÷ workerd is taken within each round, then the median.
 *
 * Run: `npm run bench -- guest-apis` or
 *      `node --no-node-snapshot bench/guest-apis.ts [--rounds 5] [--quick]`
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitResult, parseArgs, roundsOrPrevious, writeResults } from "./lib/rounds.ts";
import { median, round } from "./lib/stats.ts";
import { bodyText, freePort, processCpuNs } from "./lib/proc.ts";
import { ALS_WORKER, CALLS_PER_PAGE, HASH_WORKER, HTML_WORKER, PLAIN_AWAIT_WORKER, awaitsAnswer, hashData } from "./lib/guest-api-workers.ts";
import { workerdBinary, workerdServicesConfig } from "./lib/workerd.ts";
import { REQUESTS, report, type Req, type VariantResult } from "./lib/guest-apis-report.ts";

const SCRIPT = fileURLToPath(import.meta.url);
const WORKERS = { als: ALS_WORKER, plain: PLAIN_AWAIT_WORKER, html: HTML_WORKER, hash: HASH_WORKER } as const;
const VARIANTS = ["verge", "workerd"];

interface Served {
  /** Makes one request; resolves with the body and, for verge, the charged CPU (µs). */
  call: (req: Req, id: string) => Promise<{ text: string; chargedUs: number | null }>;
  /** CPU time (ns) used so far by the serving process, all its threads. */
  cpuNs: () => number;
  close: () => Promise<void>;
}

const query = (req: Req, id: string) => `/?n=${req.n}&mode=${req.mode}&id=${id}`;

async function serveVerge(dir: string): Promise<Served> {
  const { bundle } = await import("../src/build/bundle.ts");
  const { createRuntime, createHostServices } = await import("../src/runtime/index.ts");
  const { defaultLimits } = await import("../src/index.ts");
  const services = createHostServices();
  const rt = createRuntime({ services });
  // CPU and wall limits well above a request's work: the figures, not the limits, are measured.
  const limits = { ...defaultLimits(), cpuMs: 10_000, wallMs: 60_000 };
  const specs: Record<string, Parameters<typeof rt.fetch>[0]> = {};
  for (const [name, src] of Object.entries(WORKERS)) {
    const entry = join(dir, `${name}.js`);
    writeFileSync(entry, src);
    const built = await bundle(entry, { nodeCompat: true });
    // The comparison rests on this: the ALS Worker's awaits are lowered, the plain one's are not.
    const awaits = (built.code.match(/\bawait\b/g) ?? []).length;
    if (name === "als" && awaits !== 0) throw new Error(`verge: the node:async_hooks bundle still has ${awaits} native await(s); expected them lowered`);
    if (name === "plain" && awaits === 0) throw new Error("verge: the plain bundle has no native await; expected the loop unlowered");
    specs[name] = { source: { id: `guest-apis-${name}`, code: built.code, format: built.format }, limits, env: {}, bindings: {} };
  }
  return {
    // getrusage(RUSAGE_SELF): all threads, brought up to date for the running one (schedstat
    // lags by up to a tick for the thread that reads it).
    cpuNs: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) * 1000;
    },
    call: async (req, id) => {
      const r = await rt.fetch(specs[req.worker]!, { method: "GET", url: `http://localhost${query(req, id)}`, headers: [], body: null });
      if (r.type !== "response") throw new Error(`verge ${req.key}: expected a response, got ${r.type}`);
      const text = await bodyText(r.response.body);
      const rep = await r.finished;
      if (r.response.status !== 200) throw new Error(`verge ${req.key}: status ${r.response.status}: ${text.slice(0, 300)}`);
      if (rep.error !== undefined) throw new Error(`verge ${req.key}: ${rep.error.message}`);
      return { text, chargedUs: rep.limits.cpuMs.used * 1000 };
    },
    close: async () => {
      rt.dispose();
      await services.close();
    },
  };
}

async function serveWorkerd(dir: string): Promise<Served> {
  const bin = await workerdBinary();
  if (bin === null) throw new Error("workerd binary not found (the `workerd` package comes with miniflare)");
  const ports: Record<string, number> = {};
  for (const [name, src] of Object.entries(WORKERS)) {
    writeFileSync(join(dir, `${name}.js`), src);
    ports[name] = await freePort();
  }
  writeFileSync(join(dir, "config.capnp"), workerdServicesConfig(Object.keys(WORKERS).map((name) => ({ name, port: ports[name]! })), ["nodejs_compat"]));
  const child = spawn(bin, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const call = async (req: Req, id: string) => {
    const res = await fetch(`http://127.0.0.1:${ports[req.worker]}${query(req, id)}`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`workerd ${req.key}: status ${res.status}: ${text.slice(0, 300)}`);
    return { text, chargedUs: null };
  };
  // Up when every socket answers.
  const t0 = performance.now();
  for (const req of REQUESTS.filter((r) => r.n === 0)) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`workerd exited: ${stderr.slice(-1500)}`);
      if (performance.now() - t0 > 15_000) throw new Error(`workerd did not answer within 15 s: ${stderr.slice(-1500)}`);
      try {
        await call(req, "up");
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  return {
    // Its threads sleep in epoll between our requests, so their schedstat is current.
    cpuNs: () => processCpuNs(child.pid!),
    call,
    close: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

const DIGEST = createHash("sha256").update(hashData()).digest("hex");

/** Throws unless `text` is what the Worker answers for `req` (the work ran, the context held). */
function check(variant: string, req: Req, id: string, text: string): void {
  const fail = (expected: string) => {
    throw new Error(`${variant} ${req.key}: expected ${expected}, found ${JSON.stringify(text.slice(0, 200))}`);
  };
  if (req.worker === "als" || req.worker === "plain") {
    if (text !== awaitsAnswer(req.n, id)) fail(JSON.stringify(awaitsAnswer(req.n, id)));
  } else if (req.worker === "html") {
    const [bytes, calls, pageLen] = text.split(" ").map(Number) as [number, number, number];
    const wantCalls = req.mode === "rewrite" ? req.n * CALLS_PER_PAGE : 0;
    if (calls !== wantCalls) fail(`${wantCalls} handler calls`);
    if (req.mode !== "rewrite" && bytes !== req.n * pageLen) fail(`${req.n} pages of ${pageLen} characters`);
    if (req.mode === "rewrite" && req.n > 0 && !(bytes > 0 && bytes !== req.n * pageLen)) fail("rewritten pages");
  } else {
    const want = `${req.n} ${req.n > 0 ? DIGEST : "-"}`;
    if (text !== want) fail(JSON.stringify(want));
  }
}

async function runVariantMain(name: string, quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `verge-bench-guest-apis-${name}-`));
  const loadavgStart = loadavg().map((x) => round(x, 2));
  const served = name === "verge" ? await serveVerge(dir) : name === "workerd" ? await serveWorkerd(dir) : null;
  if (served === null) throw new Error(`unknown variant ${name}`);
  const { call, cpuNs } = served;
  const one = async (req: Req, id: string) => {
    const c0 = cpuNs();
    const t0 = performance.now();
    const { text, chargedUs } = await call(req, id);
    const wallUs = (performance.now() - t0) * 1000;
    const cpuUs = (cpuNs() - c0) / 1000;
    check(name, req, id, text);
    return { wallUs, cpuUs, chargedUs, text };
  };
  try {
    const warmups = quick ? 2 : 3;
    for (let i = 0; i < warmups; i++) for (const req of REQUESTS) await one(req, `w${i}`);
    const samples: VariantResult["samples"] = Object.fromEntries(REQUESTS.map((r) => [r.key, { wallUs: [], cpuUs: [], chargedUs: name === "verge" ? [] : null }]));
    const answers: Record<string, string> = {};
    const windowMs = quick ? 2_000 : 5_000;
    const minReps = quick ? 5 : 10;
    const maxReps = 60;
    const t0 = performance.now();
    let reps = 0;
    while (reps < maxReps && (reps < minReps || performance.now() - t0 < windowMs)) {
      const order = reps % 2 === 0 ? REQUESTS : [...REQUESTS].reverse();
      for (const req of order) {
        const s = await one(req, `r${reps}`);
        const into = samples[req.key]!;
        into.wallUs.push(round(s.wallUs));
        into.cpuUs.push(round(s.cpuUs));
        if (s.chargedUs !== null) into.chargedUs?.push(round(s.chargedUs));
        answers[req.key] = s.text.replace(/ r\d+$/, "");
      }
      reps++;
    }
    const med = Object.fromEntries(
      REQUESTS.map((r) => {
        const s = samples[r.key]!;
        return [r.key, { wallUs: round(median(s.wallUs)), cpuUs: round(median(s.cpuUs)), chargedUs: s.chargedUs === null ? null : round(median(s.chargedUs)) }];
      }),
    );
    emitResult({ variant: name, reps, windowMs: Math.round(performance.now() - t0), loadavgStart, loadavgEnd: loadavg().map((x) => round(x, 2)), answers, med, samples } satisfies VariantResult);
  } finally {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.variant !== undefined) return runVariantMain(args.variant, args.quick);
  const variants = (await workerdBinary()) === null ? ["verge"] : VARIANTS;
  const { res, env } = await roundsOrPrevious<VariantResult>("guest-apis", args, {
    script: SCRIPT,
    variants,
    rounds: args.quick ? 3 : 7,
    budgetS: args.quick ? 40 : 100,
    timeoutMs: 90_000,
    extraArgs: args.quick ? ["--quick"] : [],
    detail: variants.length === 1 ? "workerd not found: verge only" : undefined,
  });
  const { json, md, svg } = report(res, env, variants);
  const paths = writeResults("guest-apis", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}

await main();
