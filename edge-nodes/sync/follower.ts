/**
 * Follows the registry's change feed (DESIGN.md §6) from the applied seq:
 * server-sent events (`GET /v1/feed/stream?since=N`), falling back to long
 * polling (`GET /v1/feed?since=N&wait=25`) when the stream does not work, with
 * backoff capped at `maxBackoffMs` while the registry cannot be reached.
 *
 * 1. A snapshot first when one is needed (cold start, or a gap: the registry
 *    is behind the node, or a change is missing).
 * 2. Open the stream; each chunk's complete `change` events are one batch,
 *    handed to `apply` in order (the next chunk waits for it).
 * 3. A stream silent for `idleTimeoutMs` (the registry sends a `head` event at
 *    least every 15 s) is dropped as half-open.
 * 4. On a drop: `contact(false)`, wait, go to 1. Two stream attempts in a row
 *    that delivered nothing make the next attempt a long poll; a long poll that
 *    works keeps polling for `pollModeMs` before the stream is tried again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { VergeError } from "../../src/shared/errors.ts";
import type { Change, Snapshot } from "../../src/shared/protocol.ts";
import type { RegistryClient } from "./registry-client.ts";
import { createSseParser } from "./sse.ts";

export interface FollowerOptions {
  client: RegistryClient;
  log: (line: Record<string, unknown>) => void;
  /** The applied seq, read before each request. */
  seq(): number;
  apply(changes: Change[]): Promise<void>;
  replace(snapshot: Snapshot, reason: "cold" | "gap"): Promise<void>;
  /** Called with true on every answer from the registry, false when it fails. */
  contact(ok: boolean): void;
  needSnapshot: boolean;
  idleTimeoutMs?: number;
  maxBackoffMs?: number;
  pollWaitSeconds?: number;
  pollModeMs?: number;
}

export interface Follower {
  /** Runs until `stop()`; never rejects. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

/** The follower is ahead of the registry, or a change is missing: only a snapshot can repair it. */
function gap(message: string): VergeError {
  return new VergeError("ERR_FEED_GAP", message);
}

/** A 400 on the feed is the registry saying `since` is past its head. */
function asGap(err: unknown, since: number): unknown {
  const e = err as VergeError;
  if (e?.code === "ERR_INVALID_REQUEST" && (e.details as { status?: number } | undefined)?.status === 400) return gap(`since=${since} is past the registry's head (${e.message})`);
  return err;
}

function checkContiguous(changes: Change[], since: number): void {
  let expected = since + 1;
  for (const c of changes) {
    if (c.seq < expected) continue; // already applied (a resumed stream may repeat)
    if (c.seq !== expected) throw gap(`expected change ${expected} next, found ${c.seq}`);
    expected++;
  }
}

export function createFollower(options: FollowerOptions): Follower {
  const { client, log } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const maxBackoffMs = options.maxBackoffMs ?? 2_000;
  const pollWait = options.pollWaitSeconds ?? 25;
  const pollModeMs = options.pollModeMs ?? 60_000;
  const stopper = new AbortController();
  let needSnapshot = options.needSnapshot;
  let running: Promise<void> | undefined;

  async function snapshot(): Promise<void> {
    const s = await client.snapshot(AbortSignal.any([stopper.signal, AbortSignal.timeout(30_000)]));
    options.contact(true);
    await options.replace(s, options.seq() === 0 ? "cold" : "gap");
    needSnapshot = false;
  }

  /** Set when the current stream delivered an event. */
  let streamed = false;

  /** One stream connection; resolves when the registry ends it. */
  async function stream(): Promise<void> {
    const since = options.seq();
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    stopper.signal.addEventListener("abort", onStop, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(new Error(`no event for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    };
    try {
      arm();
      const res = await client.stream(since, ctl.signal).catch((err: unknown) => Promise.reject(asGap(err, since)));
      const type = res.headers.get("content-type") ?? "";
      if (!type.startsWith("text/event-stream") || res.body === null) {
        await res.body?.cancel();
        throw new Error(`the feed stream answered ${type || "no content type"}, not text/event-stream`);
      }
      options.contact(true);
      const parser = createSseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          arm();
          options.contact(true);
          const batch: Change[] = [];
          for (const event of parser.push(value)) {
            streamed = true;
            if (event.event === "change") batch.push(JSON.parse(event.data) as Change);
          }
          if (batch.length === 0) continue;
          checkContiguous(batch, options.seq());
          await options.apply(batch);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    } finally {
      clearTimeout(idle);
      stopper.signal.removeEventListener("abort", onStop);
      ctl.abort();
    }
  }

  async function poll(): Promise<void> {
    const since = options.seq();
    const page = await client.feed(since, pollWait, AbortSignal.any([stopper.signal, AbortSignal.timeout((pollWait + 15) * 1000)])).catch((err: unknown) => Promise.reject(asGap(err, since)));
    options.contact(true);
    if (page.changes.length === 0) return;
    checkContiguous(page.changes, options.seq());
    await options.apply(page.changes);
  }

  async function loop(): Promise<void> {
    let failures = 0;
    let sseFailures = 0;
    let pollUntil = 0;
    while (!stopper.signal.aborted) {
      const polling = Date.now() < pollUntil || sseFailures >= 2;
      let reason: string;
      streamed = false;
      try {
        if (needSnapshot) await snapshot();
        if (polling) {
          await poll();
          if (Date.now() >= pollUntil) {
            log({ msg: "sync: the feed stream failed; long polling", for: `${pollModeMs} ms` });
            pollUntil = Date.now() + pollModeMs;
          }
          sseFailures = 0;
          failures = 0;
          continue;
        }
        await stream();
        reason = "the registry ended the feed stream";
      } catch (err) {
        if (stopper.signal.aborted) break;
        if ((err as VergeError)?.code === "ERR_FEED_GAP") {
          log({ msg: "sync: feed gap, taking a snapshot", reason: (err as Error).message });
          needSnapshot = true;
          continue;
        }
        reason = (err as Error)?.message ?? String(err);
      }
      // A stream that delivered events worked: this is a drop, not a failing stream.
      if (polling) sseFailures = 1; // next: one more stream attempt, then a poll again
      else sseFailures = streamed ? 0 : sseFailures + 1;
      if (streamed) failures = 0;
      if (failures === 0) log({ msg: "sync: lost the registry, retrying", reason });
      failures++;
      options.contact(false);
      const delay = Math.min(maxBackoffMs, 100 * 2 ** Math.min(failures - 1, 10)) * (0.8 + Math.random() * 0.4);
      await sleep(delay, undefined, { signal: stopper.signal }).catch(() => {});
    }
  }

  return {
    run() {
      running ??= loop().catch((err: unknown) => log({ msg: "sync: follower stopped on a bug", error: (err as Error)?.stack ?? String(err) }));
      return running;
    },
    async stop() {
      stopper.abort();
      await running;
    },
  };
}
