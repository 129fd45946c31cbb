/**
 * Test wiring: a pipeline over the real runtime with the in-memory doubles,
 * records and log lines captured, and a real local origin server.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Runtime } from "../runtime/index.ts";
import type { RequestRecord } from "./types.ts";
import { createPipeline, type EdgePipeline } from "./pipeline.ts";
import type { PipelineOptions } from "./flow.ts";
import { createTestQuarantine, createTestState, type TestState } from "./testing.ts";
import { createTestCache, type TestCache } from "./testing-cache.ts";

export interface TestEdge {
  pipeline: EdgePipeline;
  state: TestState;
  cache: TestCache;
  quarantine: ReturnType<typeof createTestQuarantine>;
  records: RequestRecord[];
  logs: Array<Record<string, unknown>>;
  /** `pipeline.handle` for `http://<host><path>` (host defaults to site.test). */
  request(path: string, init?: RequestInit & { host?: string; headers?: Record<string, string> }): Promise<Response>;
  /** Waits for the record of the next request not yet taken. */
  record(): Promise<RequestRecord>;
  /** Waits for a log line that `match` accepts (a failed function's line waits for its report). */
  logLine(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** `cacheNow`: the cache double's clock (to make entries stale). */
export function createTestEdge(runtime: Runtime, extra: Partial<PipelineOptions> = {}, cacheNow: () => number = Date.now): TestEdge {
  const state = createTestState();
  const cache = createTestCache(cacheNow);
  const quarantine = createTestQuarantine();
  const records: RequestRecord[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let taken = 0;
  const pipeline = createPipeline({
    runtime,
    state,
    cache,
    quarantine,
    nodeId: "edge-test",
    allowPrivateOrigins: true,
    onRecord: (r) => records.push(r),
    log: (line) => logs.push(line as Record<string, unknown>),
    ...extra,
  });
  return {
    pipeline,
    state,
    cache,
    quarantine,
    records,
    logs,
    request(path, init = {}) {
      const host = init.host ?? "site.test";
      const headers = new Headers(init.headers);
      if (!headers.has("host")) headers.set("host", host);
      const { host: _h, ...rest } = init;
      return pipeline.handle(new Request(`http://${host}${path}`, { ...rest, headers, ...(init.body ? { duplex: "half" } : {}) } as RequestInit), { clientIp: "203.0.113.7", scheme: "http" });
    },
    async record() {
      await until(() => records.length > taken);
      return records[taken++]!;
    },
    async logLine(match) {
      await until(() => logs.some(match));
      return logs.find(match)!;
    },
    close: () => pipeline.close(),
  };
}

export interface TestOrigin {
  url: string;
  port: number;
  /** Requests the origin received: method, url, headers, body text. */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** A real HTTP origin on port 0 (all interfaces, so "localhost" reaches it over IPv4 or IPv6). The handler gets the buffered body as text. */
export async function startOrigin(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<TestOrigin> {
  const seen: TestOrigin["seen"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` holds (10 s deadline). */
export async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached within 10 s");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A Lambda@Edge ES module bundle with `handler` as given (source of an async function). */
export function lambda(body: string): string {
  return `export const handler = async (event, context) => { const cf = event.Records[0].cf; ${body} };`;
}
