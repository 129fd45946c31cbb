/**
 * `verge logs` (DESIGN.md §7): edge nodes post batches of request events
 * (`POST /v1/nodes/logs`, node scope); a tenant reads its recent ones
 * (`GET /v1/tenants/:tenant/logs?limit=n`) and follows new ones as server-sent
 * events (`GET /v1/tenants/:tenant/logs/tail`). Events are read from memory
 * and kept in the store behind it (logs.ts, log-store.ts); an event of a
 * tenant the registry does not know is dropped.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { LogBatchAnswer, LogEvent, LogList } from "../../src/shared/protocol.ts";
import { need, visibleTenant } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, originError } from "../errors.ts";
import { validateLogBatch } from "../validate/log-batch.ts";

/**
 * The data of a tail's `event: dropped`: every node's reported drops since the
 * registry started (as in `LogList.dropped`), and the events this tail itself
 * skipped because its reader fell more than a ring behind.
 */
export interface TailDropped {
  dropped: Record<string, number>;
  skipped: number;
}

export const DEFAULT_LOG_LIMIT = 100;

function parseLimit(raw: string | undefined, max: number): number {
  if (raw === undefined) return Math.min(DEFAULT_LOG_LIMIT, max);
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw originError("ERR_INVALID_REQUEST", `limit: expected an integer from 1 to ${max}, found ${JSON.stringify(raw.slice(0, 20))}`);
  }
  return Number(raw);
}

export function logRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.post("/nodes/logs", async (c) => {
    need(c.get("principal"), "node");
    const { batch, diagnostics } = validateLogBatch(await readJson(c));
    if (batch === null) throw invalid("ERR_INVALID_REQUEST", "log batch", diagnostics);
    const known = new Map<string, boolean>();
    const events = ctx.store.read((tx) =>
      batch.events.filter((e) => {
        let exists = known.get(e.tenant);
        if (exists === undefined) known.set(e.tenant, (exists = tx.get("tenants", e.tenant) !== undefined));
        return exists;
      }),
    );
    // Readers and tails see the events at once; the answer waits for the store, as every
    // registry write does, in a write shared with the batches that arrive meanwhile.
    const stored = ctx.logs.append(events);
    ctx.logs.addDropped(batch.node, batch.dropped);
    await stored;
    return c.json<LogBatchAnswer>({ tail: ctx.logs.tails() > 0 });
  });

  app.get("/tenants/:tenant/logs", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    const limit = parseLimit(c.req.query("limit"), ctx.logs.ringSize);
    return c.json<LogList>({ events: ctx.logs.recent(tenant, limit), dropped: ctx.logs.droppedTotals() });
  });

  app.get("/tenants/:tenant/logs/tail", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    return streamSSE(c, async (stream) => {
      // 1. Subscribe before the first await, so nothing posted after the answer starts is missed.
      const queue: LogEvent[] = [];
      let drops: TailDropped | null = null;
      let skipped = 0;
      let open = true;
      let wake: (() => void) | null = null;
      const poke = () => {
        const w = wake;
        wake = null;
        w?.();
      };
      const unsubscribe = ctx.logs.subscribe(tenant, {
        event(e) {
          // A reader more than a ring behind loses the oldest queued events, and is told how many.
          if (queue.length >= ctx.logs.ringSize) {
            queue.shift();
            skipped++;
            drops = { dropped: drops?.dropped ?? ctx.logs.droppedTotals(), skipped };
          }
          queue.push(e);
          poke();
        },
        dropped(totals) {
          drops = { dropped: totals, skipped };
          poke();
        },
      });
      // 2. The tail is live while the connection is open: either signal ends it.
      const close = () => {
        open = false;
        poke();
      };
      stream.onAbort(close);
      c.req.raw.signal.addEventListener("abort", close, { once: true });
      try {
        // 3. A first comment flushes the headers: the client knows the tail is live.
        await stream.write(`: tail of ${tenant}\n\n`);
        while (open) {
          const e = queue.shift();
          if (e !== undefined) {
            await stream.writeSSE({ event: "log", data: JSON.stringify(e) });
            continue;
          }
          if (drops !== null) {
            const data = JSON.stringify(drops);
            drops = null;
            await stream.writeSSE({ event: "dropped", data });
            continue;
          }
          // 4. Idle: wait for an event, the end, or the heartbeat (keeps proxies from closing the stream).
          const woken = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              wake = null;
              resolve(false);
            }, ctx.heartbeatMs);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          if (!woken && open) await stream.write(": heartbeat\n\n");
        }
      } finally {
        // 5. Gone: no longer counted as a live tail.
        unsubscribe();
        c.req.raw.signal.removeEventListener("abort", close);
      }
    });
  });

  return app;
}
