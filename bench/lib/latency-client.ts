/**
 * A concurrency-1 HTTP client for bench/edge.ts, run as its own process:
 *   node latency-client.ts <url> <host header> <warmupMs> <windowMs> [<path>,<path>,...]
 * One keep-alive connection, requests back to back; prints one JSON line
 * `{ n, p50Us, p99Us, errors }` over the window (the warm-up is not counted).
 *
 * With paths, the requests go to them in turn on the same connection (a, b, a, b, …),
 * so every path is measured over the same window of the machine's life: the line then
 * also has `paths: { [path]: { n, p50Us, p99Us } }` and, for two paths,
 * `pairedDiffP50Us`, the median of (second − first) over adjacent pairs.
 */
import { Agent, request } from "node:http";
import { quantile } from "./stats.ts";

const [url = "", host = "", warmupArg = "500", windowArg = "2000", pathsArg = ""] = process.argv.slice(2);
const target = new URL(url);
const paths = pathsArg === "" ? [target.pathname + target.search] : pathsArg.split(",");
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function once(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path, headers: { host }, agent }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const warmupEnd = performance.now() + Number(warmupArg);
for (let i = 0; performance.now() < warmupEnd; i++) await once(paths[i % paths.length]!);
const lat: number[][] = paths.map(() => []);
let errors = 0;
const end = performance.now() + Number(windowArg);
let now = performance.now();
// Whole turns only, so each path has as many samples and pairs line up.
while (now < end) {
  for (let p = 0; p < paths.length; p++) {
    const a = now;
    const status = await once(paths[p]!);
    now = performance.now();
    if (status < 200 || status >= 400) errors++;
    lat[p]!.push((now - a) * 1000);
  }
}
agent.destroy();
const all = lat.flat();
const out: Record<string, unknown> = { n: all.length, p50Us: Math.round(quantile(all, 0.5)), p99Us: Math.round(quantile(all, 0.99)), errors };
if (paths.length > 1) {
  out.paths = Object.fromEntries(paths.map((p, i) => [p, { n: lat[i]!.length, p50Us: Math.round(quantile(lat[i]!, 0.5)), p99Us: Math.round(quantile(lat[i]!, 0.99)) }]));
  if (paths.length === 2) out.pairedDiffP50Us = Math.round(quantile(lat[1]!.map((b, i) => b - lat[0]![i]!), 0.5));
}
process.stdout.write(`${JSON.stringify(out)}\n`);
