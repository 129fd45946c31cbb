/**
 * Shared set-up for the cache's tests: a real LMDB environment under the OS
 * temp dir, a clock the test moves, and a fake origin that counts its calls.
 */
import type { TestContext } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CacheKeyPolicy, Ttl } from "../../src/shared/protocol.ts";
import { openEdgeStore, type EdgeStore } from "../store/index.ts";
import type { CacheServeOptions } from "../../src/pipeline/types.ts";
import { createResponseCache, type EdgeResponseCache } from "../../src/pipeline/cache/index.ts";

export const T0 = Date.UTC(2026, 0, 1);

export interface Clock {
  now: () => number;
  advance(seconds: number): void;
}

export function makeClock(start = T0): Clock {
  let t = start;
  return { now: () => t, advance: (s) => void (t += s * 1000) };
}

export function tempDir(t: TestContext, name = "verge-cache-"): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Harness {
  cache: EdgeResponseCache;
  store: EdgeStore;
  clock: Clock;
  dir: string;
}

/** A cache over a fresh LMDB dir, closed after the test. */
export function setup(
  t: TestContext,
  options: { maxBytes?: number; maxObjectBytes?: number; collapseWaitMs?: number; dir?: string; clock?: Clock } = {},
): Harness {
  const dir = options.dir ?? tempDir(t);
  const store = openEdgeStore({ path: dir });
  let closed = false;
  const close = store.close.bind(store);
  store.close = async () => {
    if (closed) return;
    closed = true;
    await cache.drain();
    await close();
  };
  t.after(() => store.close());
  const clock = options.clock ?? makeClock();
  const cache = createResponseCache({
    store,
    now: clock.now,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.maxObjectBytes === undefined ? {} : { maxObjectBytes: options.maxObjectBytes }),
    ...(options.collapseWaitMs === undefined ? {} : { collapseWaitMs: options.collapseWaitMs }),
  });
  return { cache, store, clock, dir };
}

export const TTL: Ttl = { min: 0, default: 60, max: 3600 };

export const ALL_QUERY: CacheKeyPolicy = {
  queryStrings: { behavior: "all", items: [] },
  headers: { behavior: "none", items: [] },
  cookies: { behavior: "none", items: [] },
};

/** What the fake origin answers: a Response, or an Error to throw. */
export type Answer = Response | Error | ((conditional: Record<string, string>) => Response | Promise<Response>);

export interface Origin {
  calls: Array<Record<string, string>>;
  /** Queues answers; the last one repeats. */
  answer(...answers: Answer[]): void;
  fill(conditional: Record<string, string>): Promise<Response>;
}

export function makeOrigin(...initial: Answer[]): Origin {
  let queue = [...initial];
  const calls: Array<Record<string, string>> = [];
  return {
    calls,
    answer: (...answers) => void (queue = answers),
    async fill(conditional) {
      calls.push(conditional);
      const next = queue.length > 1 ? queue.shift()! : queue[0];
      if (next === undefined) throw new Error("test origin: no answer queued");
      if (next instanceof Error) throw next;
      if (typeof next === "function") return next(conditional);
      return next.clone();
    },
  };
}

export interface Req {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  ttl?: Ttl;
  distribution?: string;
  host?: string;
  policy?: CacheKeyPolicy;
}

/** Serves one request for `https://<host><path>` with the cache's own key. */
export async function get(h: Harness, origin: Origin, req: Req = {}) {
  const path = req.path ?? "/a";
  const host = req.host ?? "example.com";
  const url = new URL(`https://${host}${path}`);
  const request = new Request(url, { method: req.method ?? "GET", headers: req.headers ?? {} });
  const distribution = req.distribution ?? "acme/site";
  const key = h.cache.key({ distribution, behavior: "default", host, url, headers: request.headers, policy: req.policy ?? ALL_QUERY });
  const options: CacheServeOptions = { key, request, path: url.pathname, distribution, ttl: req.ttl ?? TTL, fill: (c) => origin.fill(c) };
  const out = await h.cache.serve(options);
  const body = out.response.body === null ? "" : await out.response.text();
  // The body is read: whatever it stores is committing; let it land so the test sees it.
  await h.cache.drain();
  return { ...out, status: out.response.status, headers: out.response.headers, body };
}

export function ok(body: string, headers: Record<string, string> = {}, status = 200): Response {
  return new Response(body, { status, headers });
}
