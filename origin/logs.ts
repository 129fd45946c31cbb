/**
 * `verge logs` on the registry side: each tenant's recent request events in a
 * ring in memory, mirrored in the store when the hub has one (log-store.ts:
 * loaded at start, so a restart or a crash keeps them, same order, same
 * bounds), live tails that receive each new event, and per-node counts of
 * events nodes reported dropped (in memory: since the registry started).
 *
 * One registry process owns the hub, like the feed hub (feed.ts).
 */
import { logEventWeight, type LogEvent } from "../src/shared/protocol.ts";
import { createLogWriter, loadLogEvents, logKey, type LogWriter, type StoredLogEvent } from "./log-store.ts";
import type { Store } from "./store/store.ts";

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
  /**
   * Keeps the rings in this store too (its `logs` table): loaded now, trimmed to
   * the bounds above, and written behind each append. Without it, memory only.
   */
  store?: Store;
  /** Where problems with stored events go (an unreadable entry, a failed write). */
  log?: (line: string) => void;
}

export interface LogHub {
  readonly ringSize: number;
  /**
   * Adds events (already validated, of existing tenants) to their tenants' rings
   * and tails at once. With a store, the promise resolves once they are stored
   * (a write shared with every append meanwhile); it never rejects.
   */
  append(events: readonly LogEvent[]): Promise<void>;
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
  /** Stores what is pending, then stops writing (call before the store closes). */
  close(): Promise<void>;
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
  const log = options.log ?? (() => {});
  const rings = new Map<string, StoredLogEvent[]>();
  const ringWeight = new Map<string, number>();
  const dropped = new Map<string, number>();
  const sinks = new Map<string, Set<TailSink>>();
  const writer: LogWriter | null = options.store === undefined ? null : createLogWriter(options.store, log);
  let nextSeq = 1;
  let accepted = 0;
  let tails = 0;

  /** Adds one event to its tenant's ring; the oldest go, by count and by weight (the newest always stays). */
  function push(entry: StoredLogEvent): void {
    const tenant = entry.event.tenant;
    let ring = rings.get(tenant);
    if (ring === undefined) rings.set(tenant, (ring = []));
    ring.push(entry);
    let total = (ringWeight.get(tenant) ?? 0) + logEventWeight(entry.event);
    let cut = 0;
    while (ring.length - cut > 1 && (ring.length - cut > ringSize || total > ringBytes)) {
      const old = ring[cut++]!;
      total -= logEventWeight(old.event);
      writer?.remove(old.key);
    }
    if (cut > 0) ring.splice(0, cut);
    ringWeight.set(tenant, total);
  }

  if (options.store !== undefined) {
    // Stored rings come back under today's bounds: what falls outside them goes from disk too.
    const loaded = loadLogEvents(options.store, log);
    nextSeq = loaded.nextSeq;
    for (const ring of loaded.rings.values()) for (const entry of ring) push(entry);
    void writer!.written();
  }

  return {
    ringSize,
    append(events) {
      for (const e of events) {
        const entry = { key: logKey(e.tenant, nextSeq++), event: e };
        writer?.put(entry.key, e);
        push(entry);
        accepted++;
        // A sink that throws must not stop the others (or the batch): tails are best effort.
        for (const sink of sinks.get(e.tenant) ?? []) {
          try {
            sink.event(e);
          } catch {}
        }
      }
      return writer === null ? Promise.resolve() : writer.written();
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
      return ring.slice(Math.max(0, ring.length - limit)).map((entry) => entry.event);
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
    close: () => writer?.close() ?? Promise.resolve(),
  };
}
