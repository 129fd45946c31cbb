/**
 * The processes bench/fleet.ts runs next to each edge node (inside the node's
 * network namespace when there is one, so clients and origin are near the node):
 *
 *   node fleet-agent.ts origin <port>   a customer origin: every GET → 200, a small
 *                                       body, `cache-control: max-age=600`
 *   node fleet-agent.ts client          a client driven by JSON lines on stdin
 *                                       ({ id, cmd, ... }), answering one JSON line
 *                                       ({ id, ok, result | error }) per command
 *
 * Client commands (all requests over keep-alive connections, to 127.0.0.1 only):
 * - `latency { targets: [{ name, url, host }], n, warmup, rounds }`: concurrency 1,
 *   back to back; per round (order alternating) each target gets `warmup` requests
 *   then `n` timed ones; returns µs samples per round and target, and non-2xx counts.
 * - `wait { url, host, want, timeoutMs, gapMs }`: polls (one request in flight)
 *   until the body equals `want`; returns the absolute time (ms, performance
 *   timeOrigin + now, comparable across processes on this machine).
 * - `health { url, seq, timeoutMs }`: polls `/_verge/health` until `appliedSeq ≥ seq`.
 * - `first { url, host }`: one request; its time (ms), status and body.
 * - `load { targets, concurrency, durationMs }`: closed-loop load; returns each
 *   request's start (ms from the load's start) and latency (µs), and every error.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from "node:http";
import { createInterface } from "node:readline";

const now = () => performance.timeOrigin + performance.now();
const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(url: string, host: string | undefined, timeoutMs = 10_000): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: host ? { host } : {}, agent: keepAlive }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: string;
  url: string;
  host?: string;
}

async function latency(o: { targets: Target[]; n: number; warmup: number; rounds: number }) {
  const rounds: Array<Record<string, number[]>> = [];
  const bad: Record<string, number> = {};
  const check: Record<string, string> = {};
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? o.targets : [...o.targets].reverse();
    const round: Record<string, number[]> = {};
    for (const t of order) {
      for (let i = 0; i < o.warmup; i++) {
        const res = await get(t.url, t.host);
        if (r === 0 && i === o.warmup - 1) check[t.name] = `${res.status} ${String(res.headers["x-verge-cache"] ?? "-")}`;
      }
      const samples: number[] = [];
      for (let i = 0; i < o.n; i++) {
        const a = performance.now();
        const res = await get(t.url, t.host);
        samples.push(Math.round((performance.now() - a) * 1000));
        if (res.status < 200 || res.status >= 400) bad[t.name] = (bad[t.name] ?? 0) + 1;
      }
      round[t.name] = samples;
    }
    rounds.push(round);
  }
  return { rounds, bad, check };
}

async function wait(o: { url: string; host: string; want: string; timeoutMs: number; gapMs: number }) {
  const deadline = performance.now() + o.timeoutMs;
  let last = "";
  for (;;) {
    try {
      const res = await get(o.url, o.host, 5_000);
      last = `${res.status} ${res.body.slice(0, 80)}`;
      if (res.status === 200 && res.body === o.want) return { at: now() };
    } catch (err) {
      last = (err as Error).message;
    }
    if (performance.now() > deadline) throw new Error(`${o.url}: not "${o.want}" within ${o.timeoutMs} ms (last: ${last})`);
    await sleep(o.gapMs);
  }
}

async function health(o: { url: string; seq: number; timeoutMs: number }) {
  const deadline = performance.now() + o.timeoutMs;
  for (;;) {
    try {
      const res = await get(o.url, undefined, 5_000);
      const h = JSON.parse(res.body) as { appliedSeq?: number; connected?: boolean };
      if ((h.appliedSeq ?? -1) >= o.seq) return { at: now(), appliedSeq: h.appliedSeq, connected: h.connected };
    } catch {}
    if (performance.now() > deadline) throw new Error(`${o.url}: appliedSeq not ≥ ${o.seq} within ${o.timeoutMs} ms`);
    await sleep(5);
  }
}

async function first(o: { url: string; host: string }) {
  const a = performance.now();
  const res = await get(o.url, o.host, 30_000);
  return { ms: performance.now() - a, status: res.status, body: res.body.slice(0, 200), reason: res.headers["x-verge-error"] ?? null };
}

async function load(o: { targets: Target[]; concurrency: number; durationMs: number }) {
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  const startMs: number[] = [];
  const latUs: number[] = [];
  const errors: Array<{ atMs: number; target: string; what: string }> = [];
  let k = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = o.targets[k++ % o.targets.length]!;
      const a = performance.now();
      try {
        const res = await get(t.url, t.host, 10_000);
        if (res.status < 200 || res.status >= 400) errors.push({ atMs: Math.round(a - t0), target: t.name, what: `${res.status} ${String(res.headers["x-verge-error"] ?? "")} ${res.body.slice(0, 120)}` });
      } catch (err) {
        errors.push({ atMs: Math.round(a - t0), target: t.name, what: (err as Error).message });
      }
      startMs.push(Math.round(a - t0));
      latUs.push(Math.round((performance.now() - a) * 1000));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { startMs, latUs, errors };
}

const commands: Record<string, (o: any) => Promise<unknown>> = { latency, wait, health, first, load };

const [mode = "client", portArg = "0"] = process.argv.slice(2);
if (mode === "origin") {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=600" }).end("hello from the origin"));
  });
  server.listen(Number(portArg), "127.0.0.1", () => {
    const addr = server.address();
    process.stdout.write(`origin listening on ${typeof addr === "object" && addr ? addr.port : portArg}\n`);
  });
} else {
  process.stdout.write("client ready\n");
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const msg = JSON.parse(line) as { id: number; cmd: string };
    const fn = commands[msg.cmd];
    const run = fn === undefined ? Promise.reject(new Error(`unknown command ${msg.cmd}`)) : fn(msg);
    run.then(
      (result) => process.stdout.write(`${JSON.stringify({ id: msg.id, ok: true, result })}\n`),
      (err: Error) => process.stdout.write(`${JSON.stringify({ id: msg.id, ok: false, error: err.message })}\n`),
    );
  });
  rl.on("close", () => process.exit(0));
}
