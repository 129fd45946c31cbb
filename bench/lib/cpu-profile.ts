/**
 * V8 CPU profiles (node:inspector's and isolated-vm's, same format) reduced to
 * self time per function and per source line, for bench/profile.ts.
 */
import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join, relative, sep } from "node:path";
import { BENCH_DIR } from "./rounds.ts";
import { fmt } from "./stats.ts";

const ROOT = join(BENCH_DIR, "..");

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[]; positionTicks?: Array<{ line: number; ticks: number }> }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const p = url.replace(/^file:\/\//, "");
  if (p.startsWith(ROOT)) return relative(ROOT, p).split(sep).join("/");
  return p.split("/").slice(-2).join("/");
}

/** Self time per function and per line (ms), from sample time deltas. */
export function aggregate(profile: CpuProfile): { totalMs: number; byFunction: Map<string, number>; byLine: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byLine = new Map<string, number>();
  const selfMs = new Map<number, number>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  // Each sample stands for an equal share of the profile's span (isolated-vm's
  // profiles carry time deltas that do not add up to the span).
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const dt = profile.samples.length > 0 ? totalMs / profile.samples.length : 0;
  for (const id of profile.samples) selfMs.set(id, (selfMs.get(id) ?? 0) + dt);
  for (const [id, ms] of selfMs) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    const url = shortUrl(cf.url);
    let key = `${cf.functionName || "(anonymous)"}${url ? ` ${url}:${cf.lineNumber + 1}` : ""}`;
    // A native function (isolated-vm, V8 builtins) is named with its nearest JS caller.
    if (url === "" && !cf.functionName.startsWith("(")) {
      let p = parentOf.get(id);
      while (p !== undefined && shortUrl(byId.get(p)!.callFrame.url) === "") p = parentOf.get(p);
      if (p !== undefined) {
        const pf = byId.get(p)!.callFrame;
        key += ` ← ${pf.functionName || "(anonymous)"} ${shortUrl(pf.url)}:${pf.lineNumber + 1}`;
      }
    }
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    const ticks = n.positionTicks ?? [];
    const all = ticks.reduce((a, t) => a + t.ticks, 0);
    if (url.startsWith("src/") && all > 0) {
      for (const t of ticks) {
        const k = `${url}:${t.line}`;
        byLine.set(k, (byLine.get(k) ?? 0) + (ms * t.ticks) / all);
      }
    }
  }
  return { totalMs, byFunction, byLine };
}

export async function withHostProfile<T>(fn: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const s = new Session();
  s.connect();
  await s.post("Profiler.enable");
  await s.post("Profiler.setSamplingInterval", { interval: 50 });
  await s.post("Profiler.start");
  const result = await fn();
  const { profile } = (await s.post("Profiler.stop")) as unknown as { profile: CpuProfile };
  s.disconnect();
  return { result, profile };
}

function sourceLine(key: string): string {
  const m = /^(.*):(\d+)$/.exec(key);
  if (!m) return "";
  try {
    return readFileSync(join(ROOT, m[1]!), "utf8").split("\n")[Number(m[2]) - 1]!.trim().slice(0, 90);
  } catch {
    return "";
  }
}

export function topRows(map: Map<string, number>, per: number, n: number, withSource = false): Array<Array<string>> {
  let total = 0;
  for (const v of map.values()) total += v;
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => [fmt((v * 1000) / per, 1), `${fmt((100 * v) / total, 1)}%`, `\`${k}\``, ...(withSource ? [`\`${sourceLine(k).replace(/\|/g, "\\|")}\``] : [])]);
}
