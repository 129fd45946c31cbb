/**
 * `verge logs` on the registry side: each tenant's recent request events in a
 * ring in memory (never in the store: logs are a view of traffic, not desired
 * state, and are gone on restart), live tails that receive each new event, and
 * per-node counts of events nodes reported dropped.
 *
 * One registry process owns the hub, like the feed hub (feed.ts).
 */
import { logEventWeight, type LogEvent } from "../src/shared/protocol.ts";

/** What a live tail receives: a new event of its tenant, or new drop totals. */
export interface TailSink {
  event(event: LogEvent): void;
  /** Called when a node reports drops: every node's total since the registry started. */
  dropped(totals: Record<string, number>): void;
}

export interface LogHubOptions {
  /** Events kept per tenant; the oldest go first. Default 1000. */
  ringSize?: number;
  /**
   * Console text (UTF-16 units of log messages, plus a fixed share per event)
   * kept per tenant; the oldest events go first past it. Default 8 MiB, so a
   * tenant whose functions print a lot cannot fill the registry's memory.
   */
  ringBytes?: number;
}

export interface LogHub {
  readonly ringSize: number;
  /** Adds events (already validated, of existing tenants) to their tenants' rings and tails. */
  append(events: readonly LogEvent[]): void;
  /** Adds a node's reported drops; tails hear the new totals when `count` > 0. */
  addDropped(node: string, count: number): void;
  /** The tenant's last `limit` events, oldest first. */
  recent(tenant: string, limit: number): LogEvent[];
  /** Per node, events reported dropped since the registry started. */
  droppedTotals(): Record<string, number>;
  /** Registers a live tail of `tenant`; call the returned function when it ends. */
  subscribe(tenant: string, sink: TailSink): () => void;
  /** Live tails across all tenants. */
  tails(): number;
  /** Events accepted into rings since start (a metric). */
  readonly accepted: number;
}

/**
 * @example
 * const logs = createLogHub({ ringSize: 1000 });
 * const stop = logs.subscribe("acme", { event: (e) => send(e), dropped: () => {} });
 * logs.append(batch.events); // send() sees acme's events
 * stop();
 */
export function createLogHub(options: LogHubOptions = {}): LogHub {
  const ringSize = options.ringSize ?? 1000;
  const ringBytes = options.ringBytes ?? 8 * 1024 * 1024;
  const rings = new Map<string, LogEvent[]>();
  const ringWeight = new Map<string, number>();
  const dropped = new Map<string, number>();
  const sinks = new Map<string, Set<TailSink>>();
  let accepted = 0;
  let tails = 0;
  return {
    ringSize,
    append(events) {
      for (const e of events) {
        let ring = rings.get(e.tenant);
        if (ring === undefined) rings.set(e.tenant, (ring = []));
        ring.push(e);
        let total = (ringWeight.get(e.tenant) ?? 0) + logEventWeight(e);
        // The oldest go first, by count and by weight (the newest event always stays).
        let cut = 0;
        while (ring.length - cut > 1 && (ring.length - cut > ringSize || total > ringBytes)) {
          total -= logEventWeight(ring[cut++]!);
        }
        if (cut > 0) ring.splice(0, cut);
        ringWeight.set(e.tenant, total);
        accepted++;
        // A sink that throws must not stop the others (or the batch): tails are best effort.
        for (const sink of sinks.get(e.tenant) ?? []) {
          try {
            sink.event(e);
          } catch {}
        }
      }
    },
    addDropped(node, count) {
      if (count <= 0) return;
      dropped.set(node, (dropped.get(node) ?? 0) + count);
      const totals = Object.fromEntries(dropped);
      for (const set of sinks.values()) {
        for (const sink of set) {
          try {
            sink.dropped(totals);
          } catch {}
        }
      }
    },
    recent(tenant, limit) {
      const ring = rings.get(tenant) ?? [];
      return ring.slice(Math.max(0, ring.length - limit));
    },
    droppedTotals: () => Object.fromEntries(dropped),
    subscribe(tenant, sink) {
      let set = sinks.get(tenant);
      if (set === undefined) sinks.set(tenant, (set = new Set()));
      set.add(sink);
      tails++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        tails--;
        set.delete(sink);
        if (set.size === 0 && sinks.get(tenant) === set) sinks.delete(tenant);
      };
    },
    tails: () => tails,
    get accepted() {
      return accepted;
    },
  };
}
