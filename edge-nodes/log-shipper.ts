/**
 * The node's side of `verge logs`: each request record becomes a `LogEvent`
 * (with what its functions wrote to the console), queued and sent to the
 * registry in batches (`POST /v1/nodes/logs`, src/shared/protocol.ts).
 *
 * - Without a live tail anywhere, only requests that ran a function or ended
 *   in an error are sent; while the registry's answer says `tail: true`, every
 *   request is, and batches go out 4× as often.
 * - Bounded: at most `maxPerSecond` events a second are queued and at most
 *   `maxQueued` wait; the rest, and a batch the registry did not take, are
 *   counted as dropped and the count goes with the next batch. Serving never
 *   waits on any of it, and a plain cache hit costs one comparison.
 * - A batch goes out every `intervalMs` when there are events, and an empty
 *   one every few intervals so the node learns when a tail starts.
 */
import type { LogBatch, LogBatchAnswer, LogEvent } from "../src/shared/protocol.ts";
import type { RequestRecord } from "./types.ts";

export interface LogShipperOptions {
  registry: { url: string; token: string };
  nodeId: string;
  region: string;
  /** How often a batch goes out, ms (default 1000; a quarter of it while a tail is live). */
  intervalMs?: number;
  /** Most events waiting to be sent (default 5000). */
  maxQueued?: number;
  /** Most events queued per second (default 1000). */
  maxPerSecond?: number;
  /** Most events per batch (default 500; the registry takes up to 1000). */
  maxBatch?: number;
  log?: (line: object) => void;
}

export interface LogShipper {
  /** The pipeline's `onRecord`. */
  record(r: RequestRecord): void;
  /** Sends what is queued now (tests; close). */
  flush(): Promise<void>;
  /** The registry's last word: a tail is live. */
  tailing(): boolean;
  stats(): { queued: number; sent: number; dropped: number };
  /** Stops the timer and sends what is queued (bounded by one request's timeout). */
  close(): Promise<void>;
}

const SEND_TIMEOUT_MS = 5_000;
/** An empty batch (a heartbeat) goes out after this many idle intervals. */
const IDLE_INTERVALS = 2;

export function createLogShipper(options: LogShipperOptions): LogShipper {
  const intervalMs = options.intervalMs ?? 1000;
  const maxQueued = options.maxQueued ?? 5000;
  const maxPerSecond = options.maxPerSecond ?? 1000;
  const maxBatch = options.maxBatch ?? 500;
  const url = `${options.registry.url.replace(/\/+$/, "")}/v1/nodes/logs`;
  let queue: LogEvent[] = [];
  let tail = false;
  let dropped = 0;
  let sent = 0;
  let second = 0;
  let thisSecond = 0;
  let sending: Promise<void> | null = null;
  let idle = 0;
  let failing = false;
  let closed = false;

  function record(r: RequestRecord): void {
    // The hot path: a request that ran no function and did not fail, with nobody tailing.
    if (!tail && r.invocations.length === 0 && r.error === undefined) return;
    if (r.distribution === null || closed) return;
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      thisSecond = 0;
    }
    if (++thisSecond > maxPerSecond) {
      dropped++;
      return;
    }
    queue.push(toEvent(r, options.nodeId, options.region));
    if (queue.length > maxQueued) {
      queue.shift();
      dropped++;
    }
  }

  async function send(): Promise<void> {
    const events = queue.splice(0, maxBatch);
    const batch: LogBatch = { node: options.nodeId, region: options.region, events, dropped };
    const droppedNow = dropped;
    dropped = 0;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${options.registry.token}`, "content-type": "application/json" },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const answer = (await res.json()) as Partial<LogBatchAnswer>;
      tail = answer.tail === true;
      sent += events.length;
      if (failing) options.log?.({ level: "info", msg: "logs: the registry takes log events again" });
      failing = false;
    } catch (err) {
      // Lost, not retried: counted, and the count goes with the next batch.
      dropped += droppedNow + events.length;
      if (!failing) options.log?.({ level: "warn", msg: "logs: the registry did not take a batch of log events; dropping them until it does", error: (err as Error).message });
      failing = true;
    }
  }

  function flush(): Promise<void> {
    if (sending !== null) return sending;
    sending = (async () => {
      try {
        do await send();
        while (queue.length >= maxBatch && !failing);
      } finally {
        sending = null;
      }
    })();
    return sending;
  }

  const tick = (): void => {
    if (sending !== null) return;
    if (queue.length > 0 || dropped > 0 || ++idle >= IDLE_INTERVALS) {
      idle = 0;
      void flush();
    }
  };
  // While a tail is live, ticks come 4× as often; the idle heartbeat keeps its period.
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    if (tail || ticks % 4 === 0) tick();
  }, Math.max(10, Math.floor(intervalMs / 4)));
  timer.unref();

  return {
    record,
    flush,
    tailing: () => tail,
    stats: () => ({ queued: queue.length, sent, dropped }),
    async close() {
      closed = true;
      clearInterval(timer);
      await sending;
      if (queue.length > 0 || dropped > 0) await flush();
    },
  };
}

/** A record as `verge logs` shows it. `distribution` is `tenant/name` in records. */
function toEvent(r: RequestRecord, node: string, region: string): LogEvent {
  const slash = r.distribution!.indexOf("/");
  const event: LogEvent = {
    at: r.at,
    node,
    region,
    requestId: r.requestId,
    tenant: r.distribution!.slice(0, slash),
    distribution: r.distribution!.slice(slash + 1),
    method: r.method,
    host: r.host,
    path: r.path,
    status: r.status,
    cache: r.cache,
    durationMs: r.durationMs,
    invocations: r.invocations.map((i) => ({
      event: i.event,
      function: i.function,
      digest: i.digest,
      cold: i.cold,
      cpuMs: i.cpuMs,
      wallMs: i.wallMs,
      ...(i.error !== undefined ? { error: i.error } : {}),
      logs: i.logs ?? [],
    })),
  };
  if (r.error !== undefined) event.error = r.error;
  return event;
}
