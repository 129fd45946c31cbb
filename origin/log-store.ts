/**
 * `verge logs` on disk: the log hub's rings (logs.ts) mirrored in the store's
 * `logs` table, so a registry restart, or a crash, keeps each tenant's recent
 * events in the same order. Memory stays the place events are read from; the
 * table is written behind it and read once, at start.
 *
 * Key `<tenant>/<seq, 16 digits>`, value the `LogEvent` as validated. `seq` is
 * one counter for all tenants, continued at start from the largest stored key,
 * so a tenant's keys sort in arrival order and a key is never reused.
 *
 * Writes are batched: everything appended while a write is in flight goes out
 * in the next one, and an event evicted before its write started is never
 * written at all. So a flood of batches costs at most one store transaction in
 * flight and one queued, each no bigger than the rings themselves.
 */
import type { LogEvent } from "../src/shared/protocol.ts";
import type { Key, Store } from "./store/store.ts";
import { validateLogEvent } from "./validate/log-batch.ts";

const KEY = /^([a-z0-9][a-z0-9_-]{0,62})\/(\d{16})$/;

/** Problems reported one by one at start; past this, only counted. */
const MAX_SKIP_LINES = 20;

/** The store key of a tenant's event number `seq`. */
export function logKey(tenant: string, seq: number): string {
  return `${tenant}/${String(seq).padStart(16, "0")}`;
}

export interface StoredLogEvent {
  key: string;
  event: LogEvent;
}

export interface LoadedLogs {
  /** Per tenant, its stored events, oldest first. */
  rings: Map<string, StoredLogEvent[]>;
  /** The next free sequence number: above every stored key, readable or not. */
  nextSeq: number;
}

/**
 * Reads every stored event. An entry that cannot be decoded, is not a valid
 * `LogEvent`, or sits under another tenant's key is skipped with a log line
 * and left where it is (never overwritten: its number is not reused).
 */
export function loadLogEvents(store: Store, log: (line: string) => void): LoadedLogs {
  const rings = new Map<string, StoredLogEvent[]>();
  let maxSeq = 0;
  let skipped = 0;
  const skip = (key: Key, why: string) => {
    if (++skipped <= MAX_SKIP_LINES) log(`logs: skipped the stored event ${JSON.stringify(String(key).slice(0, 100))}: ${why}`);
  };
  const seen = (key: Key): RegExpExecArray | null => {
    const m = typeof key === "string" ? KEY.exec(key) : null;
    if (m !== null) maxSeq = Math.max(maxSeq, Number(m[2]));
    return m;
  };
  const rows = store.read((tx) =>
    tx.range<unknown>("logs", {
      prefix: "",
      onUndecodable: (key, err) => {
        seen(key);
        skip(key, `cannot be decoded (${err.message.slice(0, 200)})`);
      },
    }),
  );
  for (const { key, value } of rows) {
    const m = seen(key);
    if (m === null) {
      skip(key, "not a key of the form <tenant>/<16 digits>");
      continue;
    }
    const { event, diagnostics } = validateLogEvent(value);
    if (event === null) {
      skip(key, `not a valid log event (${diagnostics.slice(0, 3).map((d) => `${d.path}: ${d.message.slice(0, 120)}`).join("; ")})`);
      continue;
    }
    if (event.tenant !== m[1]) {
      skip(key, `an event of tenant "${event.tenant}" under tenant "${m[1]}"`);
      continue;
    }
    let ring = rings.get(event.tenant);
    if (ring === undefined) rings.set(event.tenant, (ring = []));
    ring.push({ key: key as string, event });
  }
  // Keys of a tenant sort by their zero-padded number already; sort anyway, it is cheap and certain.
  for (const ring of rings.values()) ring.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (skipped > MAX_SKIP_LINES) log(`logs: skipped ${skipped} stored events in all (the first ${MAX_SKIP_LINES} are listed above)`);
  return { rings, nextSeq: maxSeq + 1 };
}

export interface LogWriter {
  /** Queues an event to be stored under `key`. */
  put(key: string, event: LogEvent): void;
  /** Queues the removal of a key (an evicted event); an event not yet written is just forgotten. */
  remove(key: string): void;
  /**
   * The write that carries everything queued so far. It never rejects: a
   * failed write is logged, and the events stay served from memory.
   */
  written(): Promise<void>;
  /** Writes what is queued, then ignores what comes after (the store is about to close). */
  close(): Promise<void>;
}

/**
 * @example
 * const writer = createLogWriter(store, log);
 * writer.put(logKey("acme", 7), event);
 * await writer.written(); // committed (durable, as every store write)
 */
export function createLogWriter(store: Store, log: (line: string) => void): LogWriter {
  let puts = new Map<string, LogEvent>();
  let removes = new Set<string>();
  // The write in flight (or the last one), and the queued one that will carry what is queued now.
  let inFlight: Promise<void> = Promise.resolve();
  let queued: Promise<void> | null = null;
  let closed = false;

  async function writeQueued(): Promise<void> {
    queued = null;
    const p = puts;
    const r = removes;
    puts = new Map();
    removes = new Set();
    if (p.size === 0 && r.size === 0) return;
    try {
      await store.write((tx) => {
        for (const key of r) tx.delete("logs", key);
        for (const [key, event] of p) tx.put("logs", key, event);
      });
    } catch (err) {
      log(`logs: could not store ${p.size} events (and remove ${r.size}); they are still served from memory: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  function written(): Promise<void> {
    if (puts.size === 0 && removes.size === 0) return queued ?? inFlight;
    if (queued === null) queued = inFlight = inFlight.then(writeQueued);
    return queued;
  }

  return {
    put(key, event) {
      if (!closed) puts.set(key, event);
    },
    remove(key) {
      if (closed) return;
      // Never written (its write has not started): nothing to remove on disk.
      if (!puts.delete(key)) removes.add(key);
    },
    written,
    async close() {
      const last = written();
      closed = true;
      await last;
    },
  };
}
