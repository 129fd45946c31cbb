/**
 * Load for bench/edge.ts and bench/functions.ts, always in a process of its own
 * and always against 127.0.0.1: `wrk` (fixed connections, fixed duration) for
 * throughput, lib/latency-client.ts (one keep-alive connection, back to back)
 * for the concurrency-1 latency, and lib/load-client.ts (a closed loop at fixed
 * concurrency on raw sockets) for latency percentiles under load measured by us
 * rather than by wrk.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadPlan, LoadReport } from "./load-client.ts";

export type { LoadPlan, LoadReport } from "./load-client.ts";

export interface WrkResult {
  requests: number;
  rps: number;
  p50Us: number;
  p99Us: number;
  /** Non-2xx/3xx responses plus socket errors. */
  errors: number;
}

/** The wrk binary, installing it with apt-get when running as root and it is missing. */
export function wrkBinary(): string | null {
  const which = () => {
    const r = spawnSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  let bin = which();
  if (bin === null && process.getuid?.() === 0) {
    spawnSync("apt-get", ["install", "-y", "wrk"], { stdio: "ignore", timeout: 120_000 });
    bin = which();
  }
  return bin;
}

function toUs(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v : m[2] === "ms" ? v * 1e3 : m[2] === "s" ? v * 1e6 : v * 6e7;
}

function run(bin: string, args: string[], limitMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // In the variant's own process group, so a timeout that kills the variant ends it too.
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin} exited with ${code}: ${out.slice(-1000)}`));
    });
  });
}

/** `wrk -t1 -c<c> -d<s>s --latency -H "Host: …" <url>`: one load thread (one core). */
export async function wrk(bin: string, url: string, host: string, connections: number, seconds: number): Promise<WrkResult> {
  const out = await run(bin, ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-H", `Host: ${host}`, url], (seconds + 15) * 1000);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
  const pct = (p: string) => toUs(new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m").exec(out)?.[1] ?? "");
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: num(/(\d+) requests in/),
    rps: Math.round(num(/Requests\/sec:\s+([\d.]+)/)),
    p50Us: pct("50"),
    p99Us: pct("99"),
    errors: num(/Non-2xx or 3xx responses: (\d+)/) + (errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  };
}

export interface LatencyResult {
  n: number;
  p50Us: number;
  p99Us: number;
  errors: number;
  /** With several paths (taken in turn): each one's own figures. */
  paths?: Record<string, { n: number; p50Us: number; p99Us: number }>;
  /** With two paths: the median over adjacent pairs of (second − first), µs. */
  pairedDiffP50Us?: number;
}

const CLIENT = fileURLToPath(new URL("./latency-client.ts", import.meta.url));
const LOAD_CLIENT = fileURLToPath(new URL("./load-client.ts", import.meta.url));

/** lib/load-client.ts in a child process (the plan goes through a temp file: 1,000 targets are long). */
export async function loadAt(plan: LoadPlan): Promise<LoadReport> {
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-load-"));
  try {
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(plan));
    const out = await run(process.execPath, [LOAD_CLIENT, `@${file}`], plan.warmupMs + plan.durationMs + 30_000);
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (line === undefined) throw new Error(`load client: no result: ${out.slice(-500)}`);
    return JSON.parse(line) as LoadReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Concurrency 1 for `warmupMs` then `windowMs`, in a child Node process; latencies per request.
 * With `paths`, requests go to each of them in turn on the one connection (see latency-client.ts).
 */
export async function latencyC1(url: string, host: string, warmupMs: number, windowMs: number, paths?: string[]): Promise<LatencyResult> {
  const out = await run(process.execPath, [CLIENT, url, host, String(warmupMs), String(windowMs), ...(paths === undefined ? [] : [paths.join(",")])], warmupMs + windowMs + 15_000);
  const line = out.split("\n").find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error(`latency client: no result: ${out.slice(-500)}`);
  return JSON.parse(line) as LatencyResult;
}
