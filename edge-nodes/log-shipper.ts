/**
 * The node's side of `verge logs`: each request record becomes a `LogEvent`
 * (with what its functions wrote to the console), queued and sent to the
 * registry in batches (`POST /v1/nodes/logs`, src/shared/protocol.ts).
 *
 * - Without a live tail anywhere, only requests that ran a function or ended
 *   in an error are sent; while the registry's answer says `tail: true`, every
 *   request is, and batches go out 4× as often.
 * - Bounded: at most `maxPerSecond` events a second are queued, at most
 *   `maxQueued` (and `maxQueuedBytes`) wait, at most `maxBytesPerSecond` go
 *   out; a request carries at most 32 KiB of console text and a batch at most
 *   768 KiB; the rest, and a batch the registry did not take, are
 *   counted as dropped and the count goes with the next batch. Serving never
 *   waits on any of it, and a plain cache hit costs one comparison.
 * - A batch goes out every `intervalMs` when there are events, and an empty
 *   one every few intervals so the node learns when a tail starts.
 */
import { logEventWeight, type LogBatch, type LogBatchAnswer, type LogEvent } from "../src/shared/protocol.ts";
import type { FireLogLine, FireRecord } from "./cron/index.ts";
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
  /** Most bytes of events waiting to be sent (default 4 MiB; estimated from their console text). */
  maxQueuedBytes?: number;
  /** Most bytes of events sent per second, on average (default 512 KiB; bursts up to one batch). */
  maxBytesPerSecond?: number;
  log?: (line: object) => void;
}

export interface LogShipper {
  /** The pipeline's `onRecord`. */
  record(r: RequestRecord): void;
  /** The cron scheduler's `onFire`: a run this node made (or could not make) goes out as a LogEvent with `scheduled`. */
  scheduled(fire: FireRecord, logs?: FireLogLine[]): void;
  /** Sends what is queued now (tests; close). */
  flush(): Promise<void>;
  /** The registry's last word: a tail is live. */
  tailing(): boolean;
  /** `dropped`: counted since the last batch the registry took; `droppedTotal`: since the start. */
  stats(): { queued: number; sent: number; dropped: number; droppedTotal: number };
  /** Stops the timer and sends what is queued (bounded by one request's timeout). */
  close(): Promise<void>;
}

const SEND_TIMEOUT_MS = 5_000;
/** Console text sent per request (the runtime keeps up to 256 KiB per invocation); the rest is named in a notice line. */
const MAX_EVENT_LOG_CHARS = 32 * 1024;
/** A batch's body stays under this (the registry takes up to 1 MiB). */
const MAX_BATCH_BYTES = 768 * 1024;
/** An empty batch (a heartbeat) goes out after this many idle intervals. */
const IDLE_INTERVALS = 2;

export function createLogShipper(options: LogShipperOptions): LogShipper {
  const intervalMs = options.intervalMs ?? 1000;
  const maxQueued = options.maxQueued ?? 5000;
  const maxPerSecond = options.maxPerSecond ?? 1000;
  const maxBatch = options.maxBatch ?? 500;
  const maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
  const maxBytesPerSecond = options.maxBytesPerSecond ?? 512 * 1024;
  const url = `${options.registry.url.replace(/\/+$/, "")}/v1/nodes/logs`;
  let queue: LogEvent[] = [];
  /** The queue's weight (logEventWeight), kept bounded so a function that prints a lot cannot fill the worker's memory. */
  let queuedBytes = 0;
  /** Bytes that may be sent now (a token bucket: refilled at maxBytesPerSecond, up to one batch). */
  let allowance = MAX_BATCH_BYTES;
  let refilledAt = Date.now();
  let tail = false;
  let dropped = 0;
  let sent = 0;
  /** Drops reported to the registry so far (the pending ones are `dropped`). */
  let droppedReported = 0;
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
    // Records name their distribution `tenant/name`.
    const slash = r.distribution.indexOf("/");
    enqueue(toEvent(r, { tenant: r.distribution.slice(0, slash), distribution: r.distribution.slice(slash + 1) }, options.nodeId, options.region));
  }

  /** Queues an event; the oldest go (counted) past the bounds, by count and by weight. */
  function enqueue(e: LogEvent): void {
    queue.push(e);
    queuedBytes += logEventWeight(e);
    while (queue.length > 1 && (queue.length > maxQueued || queuedBytes > maxQueuedBytes)) {
      queuedBytes -= logEventWeight(queue.shift()!);
      dropped++;
    }
  }

  /** Fires another node ran, or the registry no longer has, are not this node's to tell. */
  function scheduled(fire: FireRecord, logs: FireLogLine[] = []): void {
    if (closed || fire.outcome === "claimed-elsewhere" || fire.outcome === "not-configured") return;
    const ok = fire.outcome === "ok";
    enqueue(
      toEvent(
        {
          requestId: `scheduled:${fire.tenant}/${fire.function}@${fire.scheduledTime}`,
          at: fire.scheduledTime,
          method: "SCHEDULED",
          host: "",
          path: fire.cron,
          status: ok ? 200 : 500,
          cache: null,
          invocations:
            fire.version === null
              ? []
              : [{ event: "scheduled", function: fire.function, digest: fire.version, cold: false, cpuMs: fire.cpuMs ?? 0, wallMs: fire.wallMs ?? 0, ...(ok ? {} : { error: fire.outcome }), ...(logs.length > 0 ? { logs } : {}) }],
          ...(ok ? {} : { error: { code: fire.outcome.startsWith("ERR_") ? fire.outcome : "ERR_NOT_RUN", message: fire.message ?? fire.outcome } }),
          durationMs: fire.wallMs ?? 0,
        },
        { tenant: fire.tenant, distribution: "" },
        options.nodeId,
        options.region,
        { cron: fire.cron, scheduledTime: fire.scheduledTime, outcome: fire.outcome },
      ),
    );
  }

  async function send(): Promise<void> {
    // As many queued events as fit the batch's bounds (at least one: no event is over them, see toEvent).
    const now = Date.now();
    allowance = Math.min(MAX_BATCH_BYTES, allowance + ((now - refilledAt) / 1000) * maxBytesPerSecond);
    refilledAt = now;
    const encoded: string[] = [];
    let bytes = 0;
    while (encoded.length < Math.min(maxBatch, queue.length)) {
      const json = JSON.stringify(queue[encoded.length]);
      const size = Buffer.byteLength(json);
      // Over the batch's size or the byte rate: the rest waits (within the queue's bounds).
      if (encoded.length > 0 && (bytes + size > MAX_BATCH_BYTES || bytes + size > allowance)) break;
      encoded.push(json);
      bytes += size + 1;
    }
    allowance -= bytes;
    const events = queue.splice(0, encoded.length);
    for (const e of events) queuedBytes -= logEventWeight(e);
    const head: Omit<LogBatch, "events"> = { node: options.nodeId, region: options.region, dropped };
    const droppedNow = dropped;
    dropped = 0;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${options.registry.token}`, "content-type": "application/json" },
        body: `${JSON.stringify(head).slice(0, -1)},"events":[${encoded.join(",")}]}`,
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const answer = (await res.json()) as Partial<LogBatchAnswer>;
      tail = answer.tail === true;
      sent += events.length;
      droppedReported += droppedNow;
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
        // What was queued when it started goes out, a batch at a time (events queued meanwhile may ride along).
        let left = queue.length;
        do {
          const before = queue.length;
          await send();
          left -= before - queue.length;
        } while (left > 0 && queue.length > 0 && !failing && allowance > 0);
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
    scheduled,
    flush,
    tailing: () => tail,
    stats: () => ({ queued: queue.length, sent, dropped, droppedTotal: droppedReported + dropped }),
    async close() {
      closed = true;
      clearInterval(timer);
      await sending;
      if (queue.length > 0 || dropped > 0) await flush();
    },
  };
}

/** What toEvent reads: a request record's fields, or a cron run's in their shape (its invocation's event "scheduled"). */
type EventSource = Pick<RequestRecord, "requestId" | "at" | "method" | "host" | "path" | "status" | "cache" | "durationMs" | "error" | "service"> & {
  invocations: Array<Omit<RequestRecord["invocations"][number], "event"> & { event: LogEvent["invocations"][number]["event"] }>;
};

/** A request (or, with `scheduled`, a cron run) as `verge logs` shows it. */
function toEvent(r: EventSource, where: { tenant: string; distribution: string }, node: string, region: string, scheduled?: LogEvent["scheduled"]): LogEvent {
  let budget = MAX_EVENT_LOG_CHARS;
  /** An invocation's lines while the request's budget lasts, then one line saying how many more there were. */
  const fit = (logs: LogEvent["invocations"][number]["logs"]): LogEvent["invocations"][number]["logs"] => {
    let cut = 0;
    const out: typeof logs = [];
    for (const l of logs) {
      if (cut === 0 && l.message.length <= budget) {
        out.push(l);
        budget -= l.message.length;
      } else cut++;
    }
    if (cut > 0) out.push({ at: logs[logs.length - 1]!.at, level: "warn", message: `${cut} more console line(s) of this invocation not sent to verge logs (${MAX_EVENT_LOG_CHARS / 1024} KiB of console text per request)` });
    return out;
  };
  const event: LogEvent = {
    at: r.at,
    node,
    region,
    requestId: r.requestId,
    tenant: where.tenant,
    distribution: where.distribution,
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
      logs: i.logs === undefined ? [] : fit(i.logs),
    })),
  };
  if (r.error !== undefined) event.error = r.error;
  if (scheduled !== undefined) event.scheduled = scheduled;
  if (r.service !== undefined) event.service = { binding: r.service.binding, caller: r.service.caller };
  return event;
}
