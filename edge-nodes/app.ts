/**
 * The edge node's HTTP face (Hono): `/_verge/health` and `/_verge/metrics` for
 * operators, every other request through the pipeline. The pipeline speaks
 * `fetch` (Request in, Response out); this file only adapts.
 */
import { Hono } from "hono";
import { headerLines } from "../src/shared/http.ts";
import type { Pipeline, ViewerInfo } from "./types.ts";

export interface EdgeAppDeps {
  pipeline: Pipeline;
  /** The body of `/_verge/health` (applied sequence, staleness, workers, quarantines). */
  health(): Promise<EdgeHealth> | EdgeHealth;
  /** Prometheus text for `/_verge/metrics`. */
  metrics(): Promise<string>;
}

export interface EdgeHealth {
  /** False (and the route answers 503) while a worker is {@link EdgeHealth.behind}. */
  ok: boolean;
  node: string;
  region: string;
  /** The registry change the node applied (supervised: the primary, which follows the feed). */
  appliedSeq: number;
  staleSeconds: number;
  connected: boolean;
  /** Some worker has served a state older than `appliedSeq` for more than a few seconds. */
  behind: boolean;
  workers: EdgeWorkerHealth[];
  quarantined: Array<{ digest: string; crashes: number; since: string }>;
  refused: Array<{ digest: string; code: string; message: string; at: string }>;
  isolates?: number;
  cache?: { entries: number; bytes: number; maxBytes: number };
}

export interface EdgeWorkerHealth {
  id: number;
  pid: number;
  startedAt: string;
  restarts: number;
  /** The seq this worker's data plane has applied (what it serves); null until it said. */
  appliedSeq: number | null;
  /** How long it has been behind the node's `appliedSeq` (0 when it is not), as the primary last saw it. */
  behindSeconds: number;
}

/** What @hono/node-server passes as `c.env`: the Node request, for the peer address and the raw headers. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean }; rawHeaders?: string[] };
}

/**
 * @example
 * const app = createEdgeApp({ pipeline, health: () => ({ ... }), metrics: () => m.text() });
 * serve({ fetch: app.fetch, port: 8787 });
 */
export function createEdgeApp(deps: EdgeAppDeps): Hono<{ Bindings: NodeBindings }> {
  const app = new Hono<{ Bindings: NodeBindings }>();
  app.get("/_verge/health", async (c) => {
    const health = await deps.health();
    return c.json(health, health.ok ? 200 : 503);
  });
  app.get("/_verge/metrics", async (c) => {
    try {
      return c.text(await deps.metrics(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    } catch (err) {
      return c.text(`metrics unavailable: ${(err as Error).message}\n`, 503);
    }
  });
  app.all("*", (c) => {
    const incoming = c.env?.incoming;
    const raw = c.req.raw;
    // @hono/node-server aborts the request's signal when the viewer's connection closes before the answer is sent.
    const viewer = viewerOf(incoming?.socket, () => raw.signal);
    // Behind @hono/node-server, the headers as Node parsed them: building the
    // web Request's Headers (and the Request itself, for a GET) costs more than
    // serving a cache hit.
    if (incoming?.rawHeaders === undefined) return deps.pipeline.handle(raw, viewer);
    const request = { method: raw.method, url: raw.url, headers: headerLines(incoming.rawHeaders), body: () => raw.body };
    // A response ready at once (a cache hit) goes back without a promise: Hono and
    // @hono/node-server then write it in this same turn.
    return deps.pipeline.handleNow !== undefined ? deps.pipeline.handleNow(request, viewer) : deps.pipeline.handle(request, viewer);
  });
  return app;
}


/**
 * The viewer as the node's socket shows it: its address (`::ffff:127.0.0.1`, an IPv4 peer on a
 * dual-stack socket, as `127.0.0.1`) and scheme; with `gone`, its `signal`, made on first read
 * (only service binding calls read it: most requests never pay for it).
 */
export function viewerOf(socket: { remoteAddress?: string; encrypted?: boolean } | undefined, gone?: () => AbortSignal): ViewerInfo {
  const ip = socket?.remoteAddress ?? "127.0.0.1";
  return new Viewer(ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip, socket?.encrypted === true ? "https" : "http", gone);
}

/**
 * One class for every viewer, its `signal` a getter on the prototype: an object literal with its
 * own getter made each viewer a new shape for the pipeline's property reads, which cost a cache
 * hit about 10 µs of CPU (in-process A/B, session 10).
 */
class Viewer implements ViewerInfo {
  readonly clientIp: string;
  readonly scheme: "http" | "https";
  #gone: (() => AbortSignal) | undefined;
  #signal: AbortSignal | undefined;
  constructor(clientIp: string, scheme: "http" | "https", gone: (() => AbortSignal) | undefined) {
    this.clientIp = clientIp;
    this.scheme = scheme;
    this.#gone = gone;
  }
  get signal(): AbortSignal | undefined {
    if (this.#signal === undefined && this.#gone !== undefined) this.#signal = this.#gone();
    return this.#signal;
  }
}
