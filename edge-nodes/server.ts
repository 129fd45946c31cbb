/**
 * Runs an edge node (issue 4): reads `VERGE_*` settings (here and in src/cli
 * only) and starts either
 * - a supervised node: this process follows the registry's feed and supervises
 *   `workers` worker processes, each a full data plane on the shared port; or
 * - with `workers: 0`, one process doing both (tests, embedding).
 *
 *   VERGE_ORIGIN   registry URL            VERGE_NODE_TOKEN  token with the `node` scope
 *   VERGE_NODE_ID  (hostname)              VERGE_REGION      (local)
 *   VERGE_PORT     (8787)  VERGE_HOST (127.0.0.1)  VERGE_DATA_DIR (.verge/edge)
 *   VERGE_WORKERS  (one per core)          VERGE_ALLOW_PRIVATE_SUBREQUESTS (0)
 *   VERGE_MAX_ISOLATES_PER_FUNCTION (64)   VERGE_MAX_ISOLATES (512)
 *   VERGE_MAX_ISOLATES_PER_TENANT (half of VERGE_MAX_ISOLATES)   (each per worker process)
 *
 * Worker processes get their settings as JSON in VERGE_EDGE_WORKER.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism, hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { VergeError } from "../src/shared/errors.ts";
import type { EdgeHealth } from "./app.ts";
import { createDataPlane, openNodeState, type DataPlane, type DataPlaneOptions } from "./data-plane.ts";
import type { CronClock, CronTimeSpec } from "./cron/index.ts";
import { createEdgeListener, type AppFetch } from "./listener.ts";
import { handleUpgrades, isWebSocketUpgrade, type WebSockets } from "./upgrade.ts";
import { createClusterMetrics, shareWithPrimary } from "./metrics.ts";
import { connectWorker, startSupervisor } from "./supervisor/index.ts";
import { followPrimaryState } from "./sync/index.ts";
import { createWorkerLag } from "./worker-health.ts";
import type { Quarantine, SyncStatus } from "./types.ts";

export interface EdgeNodeOptions {
  registry: { url: string; token: string };
  nodeId: string;
  region: string;
  dataDir: string;
  port: number;
  host: string;
  /** Worker processes; 0 runs the data plane in this process. */
  workers: number;
  allowPrivateSubrequests?: boolean;
  cacheMaxBytes?: number;
  /**
   * Most isolates (busy + idle) one function version may have in each worker
   * process (the runtime's pool cap, default 64); a request beyond it is
   * answered 503 ERR_THROTTLED.
   */
  maxIsolatesPerFunction?: number;
  /**
   * Most isolates (busy + idle) of all functions together in each worker process (default 512):
   * past it the least recently used idle one is disposed, and when all are busy (requests, open
   * WebSockets) a request that needs another is answered 503 ERR_THROTTLED.
   */
  maxIsolates?: number;
  /**
   * Most isolates (busy + idle) of one tenant's functions together in each worker process
   * (default half of maxIsolates, rounded up), so one tenant cannot take a worker from the
   * others: at its share a new isolate replaces the tenant's own least recently used idle one,
   * and when all of them are busy the request is answered 503 ERR_TENANT_THROTTLED.
   */
  maxIsolatesPerTenant?: number;
  /**
   * The node's structured log lines (default: a JSON line on stderr). Supervised,
   * the workers' lines come here too, through the primary, with `worker` and `pid`.
   */
  log?: (line: object) => void;
  /** Tests, with `workers: 0` only: the cron scheduler's clock (a manual one drives fires). */
  cronClock?: CronClock;
  /**
   * Tests and demos, with or without workers: the cron scheduler's time starts
   * at `start` at the real instant `anchor` and runs `speed` times as fast
   * (cron/scaled-clock.ts). Passed to the worker processes with their settings,
   * so worker slot 0 schedules on it, restarts included. Claims stay checked
   * against the registry's real clock.
   */
  cronTime?: CronTimeSpec;
  /** `verge logs` shipping: timing and bounds (tests shorten the interval). */
  logShipping?: DataPlaneOptions["logShipping"];
}

export interface EdgeNode {
  url: string;
  close(): Promise<void>;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv, overrides: Partial<EdgeNodeOptions> = {}): EdgeNodeOptions {
  const url = overrides.registry?.url ?? env.VERGE_ORIGIN ?? "";
  const token = overrides.registry?.token ?? env.VERGE_NODE_TOKEN ?? env.VERGE_TOKEN ?? "";
  if (url === "") throw new VergeError("ERR_INVALID_OPTIONS", "no registry: pass --origin <url> or set VERGE_ORIGIN");
  if (token === "") throw new VergeError("ERR_INVALID_OPTIONS", "no node token: pass --token <token> or set VERGE_NODE_TOKEN (a token with the `node` scope)");
  const workers = overrides.workers ?? (env.VERGE_WORKERS !== undefined ? Number(env.VERGE_WORKERS) : availableParallelism());
  if (!Number.isInteger(workers) || workers < 0) throw new VergeError("ERR_INVALID_OPTIONS", `VERGE_WORKERS: expected an integer ≥ 0, found ${JSON.stringify(env.VERGE_WORKERS)}`);
  const maxIsolatesPerFunction = isolateCap("VERGE_MAX_ISOLATES_PER_FUNCTION", overrides.maxIsolatesPerFunction, env);
  const maxIsolates = isolateCap("VERGE_MAX_ISOLATES", overrides.maxIsolates, env);
  const maxIsolatesPerTenant = isolateCap("VERGE_MAX_ISOLATES_PER_TENANT", overrides.maxIsolatesPerTenant, env);
  return {
    registry: { url: url.replace(/\/+$/, ""), token },
    nodeId: overrides.nodeId ?? env.VERGE_NODE_ID ?? hostname(),
    region: overrides.region ?? env.VERGE_REGION ?? "local",
    dataDir: overrides.dataDir ?? env.VERGE_DATA_DIR ?? ".verge/edge",
    port: overrides.port ?? Number(env.VERGE_PORT ?? 8787),
    host: overrides.host ?? env.VERGE_HOST ?? "127.0.0.1",
    workers,
    allowPrivateSubrequests: overrides.allowPrivateSubrequests ?? env.VERGE_ALLOW_PRIVATE_SUBREQUESTS === "1",
    ...(overrides.cacheMaxBytes !== undefined ? { cacheMaxBytes: overrides.cacheMaxBytes } : {}),
    ...(maxIsolatesPerFunction !== undefined ? { maxIsolatesPerFunction } : {}),
    ...(maxIsolates !== undefined ? { maxIsolates } : {}),
    ...(maxIsolatesPerTenant !== undefined ? { maxIsolatesPerTenant } : {}),
    ...(overrides.log !== undefined ? { log: overrides.log } : {}),
  };
}

/** An isolate cap: the option, else the environment variable (unset or empty: the runtime's default); an integer ≥ 1. */
function isolateCap(name: string, override: number | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[name];
  const value = override ?? (raw !== undefined && raw !== "" ? Number(raw) : undefined);
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new VergeError("ERR_INVALID_OPTIONS", `${name}: expected an integer ≥ 1, found ${JSON.stringify(override !== undefined ? override : raw)}`);
  }
  return value;
}

const noQuarantine: Quarantine = { has: () => false, list: () => [] };

/** Starts the node and resolves once it answers on its port. */
export async function startEdgeNode(options: EdgeNodeOptions): Promise<EdgeNode> {
  mkdirSync(options.dataDir, { recursive: true });
  if (options.workers === 0) {
    const plane = await createDataPlane({ ...planeOptions(options), follow: true, quarantine: noQuarantine, schedule: true, ...(options.cronClock === undefined ? {} : { cronClock: options.cronClock }) });
    const { server, webSockets } = await listen(plane, options.port, options.host);
    const port = (server.address() as AddressInfo).port;
    return {
      url: `http://${options.host}:${port}`,
      close: async () => {
        // A tunnel is a connection the server would wait for.
        webSockets.closeAll();
        await new Promise<void>((r) => server.close(() => r()));
        await plane.close();
      },
    };
  }
  return startSupervised(options);
}

function planeOptions(o: EdgeNodeOptions) {
  return {
    dataDir: o.dataDir,
    registry: o.registry,
    nodeId: o.nodeId,
    region: o.region,
    ...(o.allowPrivateSubrequests !== undefined ? { allowPrivateSubrequests: o.allowPrivateSubrequests } : {}),
    ...(o.cacheMaxBytes !== undefined ? { cacheMaxBytes: o.cacheMaxBytes } : {}),
    ...(o.maxIsolatesPerFunction !== undefined ? { maxIsolatesPerFunction: o.maxIsolatesPerFunction } : {}),
    ...(o.maxIsolates !== undefined ? { maxIsolates: o.maxIsolates } : {}),
    ...(o.maxIsolatesPerTenant !== undefined ? { maxIsolatesPerTenant: o.maxIsolatesPerTenant } : {}),
    ...(o.cronTime !== undefined ? { cronTime: o.cronTime } : {}),
    ...(o.logShipping !== undefined ? { logShipping: o.logShipping } : {}),
    ...(o.log !== undefined ? { log: o.log } : {}),
  };
}

/** The node's HTTP server: its own listener (listener.ts) in front of the app (`fetch`), and WebSockets (upgrade.ts). */
function httpServer(plane: DataPlane, fetch: AppFetch): { server: Server; inFlight(): number; webSockets: WebSockets } {
  const { listener, inFlight } = createEdgeListener(plane.pipeline, fetch);
  const server = createServer({ shouldUpgradeCallback: isWebSocketUpgrade }, listener);
  return { server, inFlight, webSockets: handleUpgrades(server, plane.pipeline, plane.metrics.registry) };
}

function listen(plane: DataPlane, port: number, host: string): Promise<{ server: Server; webSockets: WebSockets }> {
  return new Promise((resolve, reject) => {
    const { server, webSockets } = httpServer(plane, plane.app.fetch);
    server.listen(port, host, () => resolve({ server, webSockets }));
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? new VergeError("ERR_PORT_IN_USE", `port ${port} on ${host} is already in use: stop what holds it or pass --port`) : err);
    });
  });
}

/**
 * The supervised node. This process: the feed follower (it writes the applied
 * state to the node's LMDB and tells the workers to reload), purges, the
 * supervisor. Each worker: a data plane reading that state.
 */
async function startSupervised(options: EdgeNodeOptions): Promise<EdgeNode> {
  const log = options.log ?? ((line) => process.stderr.write(`${JSON.stringify(line)}\n`));
  const { store, cache, sync } = openNodeState(options, true, log);
  try {
    await sync.start();
  } catch (err) {
    await sync.close().catch(() => {});
    await store.close();
    throw err;
  }
  const workerConfig: WorkerConfig = { ...planeOptions(options), port: options.port, host: options.host };
  delete (workerConfig as { log?: unknown }).log;
  const supervisor = startSupervisor({
    workers: options.workers,
    workerScript: fileURLToPath(new URL("./worker.ts", import.meta.url)),
    execArgv: ["--no-node-snapshot"],
    env: { VERGE_EDGE_WORKER: JSON.stringify(workerConfig) },
    dataDir: options.dataDir,
    log,
  });
  // A worker asked for /_verge/metrics: every worker's metrics summed (prom-client over cluster IPC).
  const metrics = createClusterMetrics();
  supervisor.onRequest("edge:metrics", () => metrics.text());
  // Each worker says the seq its data plane applied; health lists it, and how long a worker has been behind.
  const lag = createWorkerLag();
  const status = () => {
    const applied = sync.status();
    return { type: "edge:status", sync: applied, workers: lag.observe(applied.appliedSeq, supervisor.workers()) };
  };
  const unsubscribe = sync.subscribe((state) => supervisor.broadcast({ type: "edge:reload", seq: state.seq }));
  // Workers show the primary's view of the feed and of the worker set in their health.
  const tick = setInterval(() => supervisor.broadcast(status()), 1000);
  tick.unref();
  await supervisor.ready;
  supervisor.broadcast(status());
  return {
    // With port 0 the workers' shared port is the one cluster picked.
    url: `http://${options.host}:${supervisor.workers().find((w) => w.port !== null)?.port ?? options.port}`,
    close: async () => {
      clearInterval(tick);
      unsubscribe();
      await supervisor.stop();
      await sync.close();
      await cache.drain();
      await store.close();
    },
  };
}

type WorkerConfig = ReturnType<typeof planeOptions> & { port: number; host: string };

/** A worker process's entry (worker.ts): a data plane that reloads state when the primary says. */
export async function runEdgeWorker(env: NodeJS.ProcessEnv): Promise<void> {
  const raw = env.VERGE_EDGE_WORKER;
  if (raw === undefined) throw new VergeError("ERR_INVALID_OPTIONS", "VERGE_EDGE_WORKER is not set: worker.ts runs under the edge supervisor");
  const config = JSON.parse(raw) as WorkerConfig;
  const worker = connectWorker();
  let primary: { sync: SyncStatus | null; workers: EdgeHealth["workers"] } = { sync: null, workers: [] };
  const nodeMetrics = async (): Promise<string> => (await worker.request("edge:metrics", undefined, { timeoutMs: 5_000 })) as string;
  const plane = await createDataPlane({
    ...config,
    // The node's log lines go to the primary, which calls the `log` option of startEdgeNode.
    log: worker.log,
    follow: false,
    quarantine: worker.quarantine,
    onEnter: worker.onEnter,
    // Cron triggers: one scheduler per node, in worker slot 0 (the primary runs no user code).
    schedule: worker.id === 0 || worker.id === null,
    supervised: () => primary,
    nodeMetrics,
  });
  shareWithPrimary(plane.metrics);
  // The primary persisted a new state and says its seq: re-read until this process has it,
  // and check again against the seq in every status message (sync/worker-reload.ts).
  const follow = followPrimaryState(plane.sync, { log: worker.log });
  worker.onMessage("edge:reload", (m) => follow.reload((m as { seq?: number }).seq));
  // The seq this worker serves, to the primary (sent only when it changes).
  const report = () => worker.setStatus({ appliedSeq: plane.sync.current().seq });
  plane.sync.subscribe(report);
  report();
  worker.onMessage("edge:status", (m) => {
    const msg = m as unknown as { sync: SyncStatus; workers: EdgeHealth["workers"] };
    primary = { sync: msg.sync, workers: msg.workers };
    follow.check(msg.sync?.appliedSeq);
    report();
  });
  // Requests in flight, for the drain. A response the app has at once (a cache hit: Pipeline.handleNow)
  // goes back as it is, without a promise, so @hono/node-server writes it in the same turn.
  let inFlight = 0;
  const fetch = plane.app.fetch as (req: Request, ...rest: unknown[]) => Response | Promise<Response>;
  const settled = (response: Response): Response => {
    inFlight--;
    return response;
  };
  const failed = (err: unknown): never => {
    inFlight--;
    throw err;
  };
  const counted = (req: Request, ...rest: unknown[]): Response | Promise<Response> => {
    inFlight++;
    let out: Response | Promise<Response>;
    try {
      out = fetch(req, ...rest);
    } catch (err) {
      return failed(err);
    }
    return out instanceof Response ? settled(out) : out.then(settled, failed);
  };
  const http = httpServer(plane, counted);
  await new Promise<void>((resolve) => http.server.listen(config.port, config.host, () => resolve()));
  // Open WebSockets do not hold a drain: they end with the process.
  worker.drain(http.server, () => inFlight + http.inFlight());
  worker.ready();
}
