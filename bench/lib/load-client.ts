/**
 * A closed-loop HTTP/1.1 load client at fixed concurrency, run as its own
 * process (bench/edge.ts figure 4, bench/functions.ts figure 5):
 *
 *   node load-client.ts '<json LoadPlan>'      (or @<file with that JSON>)
 *
 * `concurrency` keep-alive connections on raw sockets (no http.Agent: its cost
 * per request would cap the rate well below a bare node:http server's), each
 * sending its next request as soon as the previous response is complete. Each
 * request goes to one of `targets` (Host header + path): all the same, or drawn
 * from a Zipf distribution over the targets' ranks (P(rank k) ∝ 1/k^s) with a
 * seeded generator, so runs are reproducible. Latency = first byte written →
 * last byte of the response read, per request, kept for the measured window only
 * (requests started during the warm-up are not counted). Prints one JSON line.
 *
 * Responses are parsed enough to find their end: status line, Content-Length or
 * chunked framing, `connection: close` (then the connection is opened again).
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { quantile } from "./stats.ts";

export interface LoadPlan {
  /** 127.0.0.1 port (load only ever targets loopback or the bench's own namespaces). */
  port: number;
  address?: string;
  targets: Array<{ host: string; path: string }>;
  /** Zipf exponent over target ranks (target 0 = rank 1); absent: uniform over targets. */
  zipfS?: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  seed?: number;
  /** Give up on a request after this long (counted as an error, connection replaced). */
  timeoutMs?: number;
}

export interface LoadReport {
  concurrency: number;
  n: number;
  rps: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** Responses outside 200–399, timeouts and socket errors in the window. */
  errors: number;
  statuses: Record<string, number>;
  /** Distinct targets requested in the window. */
  distinct: number;
  /** CPU this client used per request (µs), to tell when it, not the server, was the limit. */
  clientCpuUsPerReq: number;
}

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks target indexes: Zipf(s) over ranks via the cumulative distribution, or uniform. */
export function picker(count: number, zipfS: number | undefined, seed: number): () => number {
  const random = rng(seed);
  if (count === 1) return () => 0;
  if (zipfS === undefined) return () => Math.floor(random() * count);
  const cdf = new Float64Array(count);
  let sum = 0;
  for (let k = 0; k < count; k++) cdf[k] = sum += 1 / (k + 1) ** zipfS;
  for (let k = 0; k < count; k++) cdf[k]! /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** Where a complete response ends in `buf`, or -1; sets `status` and `close`. */
function responseEnd(buf: Buffer, out: { status: number; close: boolean }): number {
  const head = buf.indexOf(CRLF2);
  if (head < 0) return -1;
  const headers = buf.toString("latin1", 0, head).toLowerCase();
  out.status = Number(headers.slice(9, 12));
  out.close = /\r\nconnection:\s*close/.test(headers);
  let at = head + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (cl) {
    const end = at + Number(cl[1]);
    return buf.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(headers)) {
    for (;;) {
      const line = buf.indexOf("\r\n", at);
      if (line < 0) return -1;
      const size = parseInt(buf.toString("latin1", at, line), 16);
      if (size === 0) {
        const trailerEnd = buf.indexOf(CRLF2, line);
        return trailerEnd < 0 ? -1 : trailerEnd + 4;
      }
      at = line + 2 + size + 2;
      if (at > buf.length) return -1;
    }
  }
  // No length: 1xx/204/304 have no body; anything else would end at close (not used here).
  return at;
}

export async function runLoad(plan: LoadPlan): Promise<LoadReport> {
  const requests = plan.targets.map((t) => Buffer.from(`GET ${t.path} HTTP/1.1\r\nHost: ${t.host}\r\nUser-Agent: verge-bench\r\n\r\n`, "latin1"));
  const next = picker(requests.length, plan.zipfS, plan.seed ?? 1);
  const timeoutMs = plan.timeoutMs ?? 10_000;
  const t0 = performance.now();
  const measureFrom = t0 + plan.warmupMs;
  const endAt = measureFrom + plan.durationMs;
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  const seen = new Set<number>();
  let errors = 0;
  let cpu0: NodeJS.CpuUsage | undefined;

  const worker = () =>
    new Promise<void>((done) => {
      let socket: Socket;
      let chunks: Buffer[] = [];
      let started = 0;
      let target = 0;
      let timer: NodeJS.Timeout | undefined;
      const parsed = { status: 0, close: false };
      const count = (status: string) => {
        if (started >= measureFrom) statuses[status] = (statuses[status] ?? 0) + 1;
      };
      const open = () => {
        socket = connect({ port: plan.port, host: plan.address ?? "127.0.0.1", noDelay: true });
        chunks = [];
        socket.on("data", onData);
        socket.on("error", () => {});
        socket.on("close", onClose);
      };
      const send = () => {
        const now = performance.now();
        if (now >= endAt) {
          socket.removeListener("close", onClose);
          socket.destroy();
          done();
          return;
        }
        if (cpu0 === undefined && now >= measureFrom) cpu0 = process.cpuUsage();
        target = next();
        started = now;
        clearTimeout(timer);
        timer = setTimeout(onTimeout, timeoutMs);
        socket.write(requests[target]!);
      };
      const finish = (status: number) => {
        clearTimeout(timer);
        if (started >= measureFrom) {
          lat.push((performance.now() - started) * 1000);
          seen.add(target);
          if (status < 200 || status >= 400) errors++;
        }
        count(String(status));
      };
      function onData(d: Buffer) {
        chunks.push(d);
        const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const end = responseEnd(buf, parsed);
        if (end < 0) {
          chunks = [buf];
          return;
        }
        chunks = [];
        finish(parsed.status);
        if (parsed.close) {
          socket.removeListener("close", onClose);
          socket.destroy();
          open();
          socket.once("connect", send);
        } else send();
      }
      function onClose() {
        // Closed under a request: an error; open again and go on.
        clearTimeout(timer);
        if (started >= measureFrom) errors++;
        count("closed");
        if (performance.now() >= endAt) return done();
        open();
        socket.once("connect", send);
      }
      function onTimeout() {
        if (started >= measureFrom) errors++;
        count("timeout");
        socket.removeListener("close", onClose);
        socket.destroy();
        if (performance.now() >= endAt) return done();
        open();
        socket.once("connect", send);
      }
      open();
      socket!.once("connect", send);
    });

  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  const cpu = cpu0 === undefined ? { user: 0, system: 0 } : process.cpuUsage(cpu0);
  const r = (x: number) => Math.round(x);
  return {
    concurrency: plan.concurrency,
    n: lat.length,
    rps: r(lat.length / (plan.durationMs / 1000)),
    p50Us: r(quantile(lat, 0.5)),
    p90Us: r(quantile(lat, 0.9)),
    p99Us: r(quantile(lat, 0.99)),
    p999Us: r(quantile(lat, 0.999)),
    maxUs: r(lat.reduce((a, b) => (b > a ? b : a), 0)),
    errors,
    statuses,
    distinct: seen.size,
    clientCpuUsPerReq: lat.length === 0 ? NaN : Math.round(((cpu.user + cpu.system) / lat.length) * 10) / 10,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = process.argv[2] ?? "{}";
  const plan = JSON.parse(arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg) as LoadPlan;
  process.stdout.write(`${JSON.stringify(await runLoad(plan))}\n`);
}
