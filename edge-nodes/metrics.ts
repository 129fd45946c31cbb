/**
 * `/_verge/metrics`: Prometheus text built from the pipeline's request records
 * (prom-client). Each worker process counts its own requests; under the
 * supervisor the primary sums every worker's registry (prom-client's
 * AggregatorRegistry over cluster IPC), so one scrape shows the whole node.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RequestRecord } from "./types.ts";

/** Milliseconds: functions are budgeted in ms, and most warm invocations take well under one. */
const MS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000, 5000];

export interface EdgeMetrics {
  registry: Registry;
  /** Counts one finished request (call from the pipeline's `onRecord`). */
  record(r: RequestRecord): void;
  /** Where the gauges come from: read at every scrape, in every worker (so the primary's sum is current). */
  gaugeSource(read: () => GaugeValues): void;
  /** This process's metrics as Prometheus text. */
  text(): Promise<string>;
}

export interface GaugeValues {
  isolatesWarm: number;
  appliedSeq: number;
  staleSeconds: number;
  cacheBytes: number;
  cacheEntries: number;
}

export function createEdgeMetrics(labels: { node: string; region: string }): EdgeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const requests = new Counter({ name: "verge_requests_total", help: "Viewer requests by status and cache result.", labelNames: ["status", "cache"], registers: [registry] });
  const bytes = new Counter({ name: "verge_response_bytes_total", help: "Body bytes sent to viewers.", registers: [registry] });
  const errors = new Counter({ name: "verge_errors_total", help: "Requests that ended in an error response, by code.", labelNames: ["code"], registers: [registry] });
  const invocations = new Counter({ name: "verge_invocations_total", help: "Function invocations by event and outcome.", labelNames: ["function", "event", "outcome"], registers: [registry] });
  const coldStarts = new Counter({ name: "verge_cold_starts_total", help: "Invocations that had to create an isolate.", labelNames: ["function"], registers: [registry] });
  const cpu = new Histogram({ name: "verge_function_cpu_ms", help: "CPU time per invocation (ms).", labelNames: ["function"], buckets: MS_BUCKETS, registers: [registry] });
  const wall = new Histogram({ name: "verge_function_wall_ms", help: "Wall time per invocation (ms).", labelNames: ["function"], buckets: MS_BUCKETS, registers: [registry] });
  const duration = new Histogram({ name: "verge_request_duration_ms", help: "Time from request to response head (ms).", buckets: MS_BUCKETS, registers: [registry] });
  let read: (() => GaugeValues) | undefined;
  const gauge = (name: string, help: string, aggregator: "sum" | "max", pick: (v: GaugeValues) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      aggregator,
      collect() {
        if (read !== undefined) this.set(pick(read()));
      },
    });
  gauge("verge_isolates_warm", "Isolates alive in this node's pools.", "sum", (v) => v.isolatesWarm);
  gauge("verge_applied_seq", "Registry change sequence applied.", "max", (v) => v.appliedSeq);
  gauge("verge_stale_seconds", "Seconds since the registry last answered (0 in sync).", "max", (v) => v.staleSeconds);
  gauge("verge_cache_bytes", "Bytes held by the response cache (shared by the node's workers).", "max", (v) => v.cacheBytes);
  gauge("verge_cache_entries", "Entries in the response cache (shared by the node's workers).", "max", (v) => v.cacheEntries);

  return {
    registry,
    record(r) {
      // A service binding call's target (RequestRecord.service) is an invocation, not a viewer request.
      if (r.service === undefined) {
        requests.inc({ status: String(r.status), cache: r.cache ?? "none" });
        bytes.inc(r.bytesOut);
        duration.observe(r.durationMs);
        if (r.error !== undefined) errors.inc({ code: r.error.code });
      }
      for (const i of r.invocations) {
        const fn = `${i.function}@${i.digest.slice(0, 12)}`;
        invocations.inc({ function: fn, event: i.event, outcome: i.error ?? "ok" });
        if (i.cold) coldStarts.inc({ function: fn });
        cpu.observe({ function: fn }, i.cpuMs);
        wall.observe({ function: fn }, i.wallMs);
      }
    },
    gaugeSource(fn) {
      read = fn;
    },
    text: () => registry.metrics(),
  };
}

/**
 * Isolates per tenant (the runtime pool's tenant shares), read at every scrape:
 * `verge_tenant_isolates{tenant}` (busy + idle now) and `verge_tenant_share_refusals{tenant}`
 * (requests refused ERR_TENANT_THROTTLED since the process started), summed over workers.
 */
export function tenantMetrics(registry: Registry, read: () => Record<string, { isolates: number; refused: number }>): void {
  const gauge = (name: string, help: string, pick: (t: { isolates: number; refused: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["tenant"],
      registers: [registry],
      aggregator: "sum",
      collect() {
        this.reset();
        for (const [tenant, t] of Object.entries(read())) this.set({ tenant }, pick(t));
      },
    });
  gauge("verge_tenant_isolates", "Isolates (busy and idle) of each tenant's functions in this node's pools.", (t) => t.isolates);
  gauge("verge_tenant_share_refusals", "Cold starts refused because the tenant held its share of a pool's isolates, all busy (ERR_TENANT_THROTTLED).", (t) => t.refused);
}

/** In a cluster worker: answer the primary's aggregation requests with this registry. */
export function shareWithPrimary(metrics: EdgeMetrics): void {
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry();
}

/** In the primary: every worker's metrics summed (rejects if a worker does not answer within 5 s). */
export function createClusterMetrics(): { text(): Promise<string> } {
  const aggregator = new AggregatorRegistry();
  return { text: () => aggregator.clusterMetrics() };
}
