/**
 * One full data plane: the store, the desired state, the response cache, the
 * isolate runtime, the pipeline and the Hono app over them. A worker process
 * runs one (and so does a node started without a supervisor, in tests).
 *
 * Lifecycle:
 * 1. open the node's LMDB environment (shared with the node's other processes);
 * 2. read the applied state (follow: true also follows the registry's feed);
 * 3. build cache, runtime and pipeline over it;
 * 4. on every newly applied state, warm the provisioned isolates of each version
 *    the node's distributions route to, before traffic for it arrives;
 * 5. with `schedule`, run the node's cron scheduler (cron/) over the same state
 *    and runtime: one process per node does (see server.ts).
 */
import { createRuntime, createHostServices, type Runtime, type FunctionSpec } from "../src/runtime/index.ts";
import type { FunctionConfig } from "../src/shared/protocol.ts";
import { createEdgeApp, type EdgeHealth } from "./app.ts";
import { createClaimClient, createScaledClock, startCronScheduler, type CronClock, type CronTimeSpec } from "./cron/index.ts";
import { createCacheApi, createResponseCache, tenantScope, type EdgeResponseCache } from "../src/pipeline/cache/index.ts";
import type { CacheApiHost } from "../src/runtime/index.ts";
import { createEdgeMetrics, tenantMetrics, type EdgeMetrics } from "./metrics.ts";
import { createLogShipper, type LogShipper, type LogShipperOptions } from "./log-shipper.ts";
import { Gauge } from "prom-client";
import { isBehind } from "./worker-health.ts";
import { createPipeline } from "../src/pipeline/index.ts";
import { openEdgeStore, type EdgeStore } from "./store/index.ts";
import { createSync } from "./sync/index.ts";
import type { AppliedState, Pipeline, Quarantine, StateSource, SyncStatus } from "./types.ts";

export interface DataPlaneOptions {
  /** The node's data directory (its LMDB environment). */
  dataDir: string;
  registry: { url: string; token: string };
  nodeId: string;
  region: string;
  /** Follow the registry's feed from this process (false: a supervisor follows it and says when to reload). */
  follow: boolean;
  quarantine: Quarantine;
  /** Crash attribution (see supervisor/); called before guest code runs. */
  onEnter?: (functionId: string) => void;
  /** Let functions' own subrequests reach private addresses (demo and tests on loopback). */
  allowPrivateSubrequests?: boolean;
  cacheMaxBytes?: number;
  /** Heap bytes idle isolates may hold (LRU beyond). */
  idleMemoryBytes?: number;
  /** The runtime's cap on isolates (busy + idle) per function version in this process (default 64). */
  maxIsolatesPerFunction?: number;
  /** The runtime's cap on isolates of every function together in this process (default 512). */
  maxIsolates?: number;
  /** The runtime's cap on isolates of one tenant's functions together in this process (default half of maxIsolates). */
  maxIsolatesPerTenant?: number;
  /** Under a supervisor: the whole node's metrics, summed over its workers by the primary. */
  nodeMetrics?: () => Promise<string>;
  /** Send request events to the registry for `verge logs` (default true). */
  shipLogs?: boolean;
  /** The log shipper's timing and bounds (tests shorten the interval). */
  logShipping?: Pick<LogShipperOptions, "intervalMs" | "maxQueued" | "maxPerSecond">;
  /** Run the cron scheduler in this process: true in exactly one process per node. */
  schedule?: boolean;
  /** The scheduler's clock (tests drive fires with a manual one); default the system clock. */
  cronClock?: CronClock;
  /** Tests and demos: the scheduler's time on its own timeline (cron/scaled-clock.ts); plain data, so workers get it. */
  cronTime?: CronTimeSpec;
  /** Under a supervisor: the workers and the sync status the primary last sent. */
  supervised?: () => { workers: EdgeHealth["workers"]; sync: SyncStatus | null };
  log?: (line: object) => void;
}

export interface DataPlane {
  app: ReturnType<typeof createEdgeApp>;
  /** What `app` sends every request but the operator routes to; the node's listener sends plain GETs and HEADs to it directly (listener.ts). */
  pipeline: Pipeline;
  store: EdgeStore;
  sync: StateSource & { start(): Promise<void>; close(): Promise<void>; reload(seq?: number): boolean };
  runtime: Runtime;
  metrics: EdgeMetrics;
  close(): Promise<void>;
}

/**
 * The node's LMDB store, response cache and desired state; purges from the feed
 * go to the cache (distributions are `tenant/name` there). Shared by a data plane
 * and by the supervisor's process, which follows the feed for its workers.
 */
export function openNodeState(
  options: Pick<DataPlaneOptions, "dataDir" | "registry" | "nodeId" | "region" | "cacheMaxBytes">,
  follow: boolean,
  log: (line: object) => void,
): { store: EdgeStore; cache: EdgeResponseCache; sync: DataPlane["sync"] } {
  const store = openEdgeStore({ path: options.dataDir });
  const cache = createResponseCache({ store, ...(options.cacheMaxBytes !== undefined ? { maxBytes: options.cacheMaxBytes } : {}) });
  const sync = createSync({
    store,
    registry: options.registry,
    nodeId: options.nodeId,
    region: options.region,
    follow,
    onPurge: async (p, tenant) => {
      const n = await cache.purge({ distribution: `${tenant}/${p.distribution}`, ...(p.prefix !== undefined ? { prefix: p.prefix } : {}), ...(p.tag !== undefined ? { tag: p.tag } : {}) });
      log({ msg: "purge", tenant, distribution: p.distribution, prefix: p.prefix, tag: p.tag, entries: n });
    },
    log,
  });
  return { store, cache, sync };
}

export async function createDataPlane(options: DataPlaneOptions): Promise<DataPlane> {
  const log = options.log ?? ((line) => process.stderr.write(`${JSON.stringify(line)}\n`));
  const { store, cache, sync } = openNodeState(options, options.follow, log);
  const services = createHostServices({
    fetch: { allowPrivateAddresses: options.allowPrivateSubrequests === true },
    onLog: (entry, functionId) => log({ msg: "console", function: functionId, level: entry.level, text: entry.message }),
  });
  if (options.onEnter !== undefined) services.onEnter = options.onEnter;
  services.caches = tenantCaches(cache);
  const runtime = createRuntime({
    services,
    node: { id: options.nodeId, region: options.region },
    ...(options.idleMemoryBytes !== undefined ? { idleMemoryBytes: options.idleMemoryBytes } : {}),
    ...(options.maxIsolatesPerFunction !== undefined ? { maxIsolatesPerFunction: options.maxIsolatesPerFunction } : {}),
    ...(options.maxIsolates !== undefined ? { maxIsolates: options.maxIsolates } : {}),
    ...(options.maxIsolatesPerTenant !== undefined ? { maxIsolatesPerTenant: options.maxIsolatesPerTenant } : {}),
  });
  const metrics = createEdgeMetrics({ node: options.nodeId, region: options.region });
  tenantMetrics(metrics.registry, () => runtime.stats().tenants);
  // verge logs: request events (with functions' console lines) to the registry.
  const logs = options.shipLogs === false ? null : createLogShipper({ registry: options.registry, nodeId: options.nodeId, region: options.region, log, ...options.logShipping });
  if (logs !== null) logMetrics(metrics.registry, logs);
  const pipeline = createPipeline({
    runtime,
    state: sync,
    cache,
    quarantine: options.quarantine,
    nodeId: options.nodeId,
    region: options.region,
    onRecord:
      logs === null
        ? (r) => metrics.record(r)
        : (r) => {
            metrics.record(r);
            logs.record(r);
          },
    log,
    // Functions' fetch() to other hosts: the node's guarded fetch (private addresses refused unless allowed).
    outbound: (request, init) => services.fetch(request, init),
    // env.NAME.fetch() runs the tenant's named function on this node (src/pipeline/services.ts).
    serviceBindings: true,
    allowPrivateOrigins: options.allowPrivateSubrequests === true,
  });

  const unsubscribe = sync.subscribe((state) => void provision(state, sync, runtime, log));
  try {
    await sync.start();
  } catch (err) {
    // A node that cannot start (a refused token) leaves nothing open behind it.
    unsubscribe();
    await logs?.close();
    await sync.close().catch(() => {});
    runtime.dispose();
    await services.close();
    await store.close();
    throw err;
  }
  void provision(sync.current(), sync, runtime, log);
  const scheduler =
    options.schedule === true
      ? startCronScheduler({
          state: sync,
          runtime,
          claim: createClaimClient(options.registry),
          nodeId: options.nodeId,
          quarantine: options.quarantine,
          registry: metrics.registry,
          log,
          // scheduled()'s env.NAME.fetch() runs the tenant's function as a request's does.
          services: (scope) => pipeline.serviceHost(scope),
          ...(logs === null ? {} : { onFire: (record, lines) => logs.scheduled(record, lines) }),
          ...(options.cronClock !== undefined ? { clock: options.cronClock } : options.cronTime !== undefined ? { clock: createScaledClock(options.cronTime) } : {}),
        })
      : undefined;

  const health = (): EdgeHealth => {
    const sup = options.supervised?.();
    const status = sup?.sync ?? sync.status();
    const stats = cache.stats();
    // Supervised: the node's seq is the primary's (it follows the feed), each worker's its own, as the primary last saw them.
    const workers = sup?.workers ?? [{ id: 0, pid: process.pid, startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(), restarts: 0, appliedSeq: sync.current().seq, behindSeconds: 0 }];
    const behind = isBehind(workers);
    return {
      ok: !behind,
      node: options.nodeId,
      region: options.region,
      appliedSeq: status.appliedSeq,
      staleSeconds: status.staleSeconds,
      connected: status.connected,
      behind,
      workers,
      quarantined: options.quarantine.list(),
      refused: status.refused,
      isolates: runtime.stats().isolates,
      cache: { entries: stats.entries, bytes: stats.bytes, maxBytes: stats.maxBytes },
    };
  };
  metrics.gaugeSource(() => {
    const h = health();
    return { isolatesWarm: h.isolates ?? 0, appliedSeq: h.appliedSeq, staleSeconds: h.staleSeconds, cacheBytes: h.cache?.bytes ?? 0, cacheEntries: h.cache?.entries ?? 0 };
  });
  const app = createEdgeApp({
    pipeline,
    health,
    metrics: () => options.nodeMetrics?.() ?? metrics.text(),
  });

  return {
    app,
    pipeline,
    store,
    sync,
    runtime,
    metrics,
    async close() {
      scheduler?.stop();
      await logs?.close();
      unsubscribe();
      await sync.close();
      runtime.dispose();
      await services.close();
      await cache.drain();
      await store.close();
    },
  };
}

/**
 * The Cache API of invocations outside a distribution's request (scheduled
 * handlers, Lambda@Edge events): the node's cache, in the scopes of the
 * function's tenant (its named caches, and a default of its own). A Workers
 * handler at a request event gets its distribution's instead (src/pipeline/caches.ts).
 * Function ids on a node are `tenant/function/digest` (sync/loader.ts).
 */
function tenantCaches(cache: EdgeResponseCache): (functionId: string) => CacheApiHost | undefined {
  const byTenant = new Map<string, CacheApiHost>();
  return (functionId) => {
    const tenant = functionId.slice(0, functionId.indexOf("/"));
    if (tenant === "") return undefined;
    let host = byTenant.get(tenant);
    if (host === undefined) byTenant.set(tenant, (host = createCacheApi({ cache, scope: tenantScope(tenant) })));
    return host;
  };
}

/**
 * Provisioned concurrency: for every function association of every
 * distribution, the versions its alias routes to get `provisionedConcurrency`
 * warm isolates in this process.
 */
async function provision(state: AppliedState, sync: StateSource, runtime: Runtime, log: (line: object) => void): Promise<void> {
  for (const [tenant, t] of Object.entries(state.snapshot.tenants)) {
    for (const dist of Object.values(t.distributions)) {
      for (const behavior of [dist.defaultBehavior, ...dist.behaviors]) {
        for (const assoc of Object.values(behavior.functions)) {
          if (assoc === undefined) continue;
          const fn = t.functions[assoc.function];
          const wanted = (fn?.config as (FunctionConfig & { provisionedConcurrency?: number }) | undefined)?.provisionedConcurrency ?? 0;
          if (wanted <= 0) continue;
          const versions = assoc.version !== undefined ? [assoc.version] : (t.aliases[`${assoc.function}/${assoc.alias}`]?.routes.map((r) => r.version) ?? []);
          for (const digest of versions) {
            try {
              const spec: FunctionSpec = await sync.load(state, { tenant, function: assoc.function, digest });
              runtime.warm(spec, wanted);
            } catch (err) {
              log({ msg: "provision failed", tenant, function: assoc.function, digest, code: (err as { code?: string }).code, error: (err as Error).message });
            }
          }
        }
      }
    }
  }
}

/** `verge logs` shipping as operators watch it: events the registry took, and events dropped (rate cap, queue, refused batches). */
function logMetrics(registry: EdgeMetrics["registry"], logs: LogShipper): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      aggregator: "sum",
      collect() {
        this.set(read());
      },
    });
  gauge("verge_log_events_sent", "Request events this node sent for verge logs (the registry took them).", () => logs.stats().sent);
  gauge("verge_log_events_dropped", "Request events this node dropped instead of sending for verge logs (rate cap, full queue, refused batches).", () => logs.stats().droppedTotal);
}
