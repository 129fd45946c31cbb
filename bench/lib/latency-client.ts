/**
 * A concurrency-1 HTTP client for bench/edge.ts, run as its own process:
 *   node latency-client.ts <url> <host header> <warmupMs> <windowMs>
 * One keep-alive connection, requests back to back; prints one JSON line
 * `{ n, p50Us, p99Us, errors }` over the window (the warm-up is not counted).
 */
import { Agent, request } from "node:http";
import { quantile } from "./stats.ts";

const [url = "", host = "", warmupArg = "500", windowArg = "2000"] = process.argv.slice(2);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function once(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, headers: { host }, agent }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const warmupEnd = performance.now() + Number(warmupArg);
while (performance.now() < warmupEnd) await once();
const lat: number[] = [];
let errors = 0;
const end = performance.now() + Number(windowArg);
let now = performance.now();
while (now < end) {
  const a = now;
  const status = await once();
  now = performance.now();
  if (status < 200 || status >= 400) errors++;
  lat.push((now - a) * 1000);
}
agent.destroy();
process.stdout.write(`${JSON.stringify({ n: lat.length, p50Us: Math.round(quantile(lat, 0.5)), p99Us: Math.round(quantile(lat, 0.99)), errors })}\n`);
