/**
 * The change feed for edge nodes and tools (DESIGN.md §6): long polling
 * (`GET /v1/feed?since=N&wait=S`), server-sent events (`GET /v1/feed/stream?since=N`
 * or `Last-Event-ID`), a snapshot of desired state at a sequence number for a
 * cold start, and per-change status across live nodes. Operator and node tokens
 * see every tenant; a tenant's token sees its own changes.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Alias, Change, ChangeStatus, Distribution, FunctionInfo, NodeInfo, Snapshot, Tenant, TenantState, VersionInfo } from "../../src/shared/protocol.ts";
import { need } from "../auth.ts";
import type { OriginContext, OriginEnv, Principal } from "../context.ts";
import { notFound, originError } from "../errors.ts";
import { headSeq, readFeed } from "../feed.ts";
import type { ReadTx } from "../store/store.ts";
import { signingOf } from "./signing.ts";
import { listNodes } from "./nodes.ts";

/** null: every tenant. */
function feedTenant(p: Principal): string | null {
  return p.tenant;
}

function parseSeq(raw: string | undefined, field: string): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,15}$/.test(raw)) throw originError("ERR_INVALID_REQUEST", `${field}: expected a sequence number (a non-negative integer), found ${JSON.stringify(raw.slice(0, 20))}`);
  return Number(raw);
}

function checkSince(tx: ReadTx, since: number): void {
  const head = headSeq(tx);
  if (since > head) throw originError("ERR_INVALID_REQUEST", `since=${since} is past the registry's newest change ${head}: the follower is ahead of this registry; start again from a snapshot`);
}

function tenantState(tx: ReadTx, tenant: Tenant): TenantState {
  const t = tenant.name;
  const strip = (key: string | number) => String(key).slice(t.length + 1);
  const table = <V>(name: "functions" | "versions" | "aliases" | "distributions") =>
    Object.fromEntries(tx.range<V>(name, { prefix: `${t}/` }).map((e) => [strip(e.key), e.value]));
  return {
    tenant,
    functions: table<FunctionInfo>("functions"),
    versions: table<VersionInfo>("versions"),
    aliases: table<Alias>("aliases"),
    distributions: table<Distribution>("distributions"),
    signing: signingOf(tx, t),
  };
}

export function feedRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.get("/feed", async (c) => {
    const p = c.get("principal");
    need(p, "read");
    const since = parseSeq(c.req.query("since"), "since");
    const waitMs = Math.min(parseSeq(c.req.query("wait"), "wait") * 1000, ctx.maxWaitMs);
    const limit = Math.max(1, Math.min(parseSeq(c.req.query("limit") ?? "1000", "limit"), 1000));
    const read = () => ctx.store.read((tx) => (checkSince(tx, since), readFeed(tx, since, feedTenant(p), limit)));
    let page = read();
    if (page.changes.length === 0 && page.last === page.head && waitMs > 0) {
      const abort = new AbortController();
      c.req.raw.signal.addEventListener("abort", () => abort.abort(), { once: true });
      if ((await ctx.hub.waitPast(page.head, waitMs, abort.signal)) !== null) page = read();
    }
    return c.json(page);
  });

  app.get("/feed/stream", (c) => {
    const p = c.get("principal");
    need(p, "read");
    let since = parseSeq(c.req.query("since") ?? c.req.header("last-event-id"), "since");
    ctx.store.read((tx) => checkSince(tx, since));
    const tenant = feedTenant(p);
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      ctx.metrics.sseClients++;
      try {
        while (!abort.signal.aborted && !ctx.hub.closed) {
          const page = ctx.store.read((tx) => readFeed(tx, since, tenant));
          for (const change of page.changes) {
            await stream.writeSSE({ id: String(change.seq), event: "change", data: JSON.stringify(change) });
          }
          since = page.last;
          if (page.last < page.head) continue;
          // Caught up: say so (a filtered follower learns the head too), then wait.
          await stream.writeSSE({ event: "head", data: JSON.stringify({ last: since, head: page.head }) });
          await ctx.hub.waitPast(since, ctx.heartbeatMs, abort.signal);
        }
      } finally {
        ctx.metrics.sseClients--;
      }
    });
  });

  app.get("/snapshot", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const only = c.req.query("tenant");
    const snapshot = ctx.store.read((tx): Snapshot => {
      const tenants = tx.range<Tenant>("tenants", { prefix: "" }).map((e) => e.value).filter((t) => (p.tenant === null || t.name === p.tenant) && (only === undefined || t.name === only));
      if (only !== undefined && tenants.length === 0) throw notFound(`tenant "${only.slice(0, 63)}"`);
      return { seq: headSeq(tx), tenants: Object.fromEntries(tenants.map((t) => [t.name, tenantState(tx, t)])) };
    });
    return c.json(snapshot);
  });

  app.get("/changes/:seq", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const seq = parseSeq(c.req.param("seq"), "seq");
    const { change, nodes } = ctx.store.read((tx) => {
      const change = tx.get<Change>("feed", seq);
      if (change === undefined || (p.tenant !== null && change.tenant !== p.tenant)) throw notFound(`change ${seq}`);
      return { change, nodes: listNodes(tx, ctx) };
    });
    const live = nodes.filter((n: NodeInfo) => n.live);
    const applied = live.filter((n) => n.appliedSeq >= seq).map((n) => n.id);
    const pending = live.filter((n) => n.appliedSeq < seq).map((n) => n.id);
    return c.json<ChangeStatus>({ change, applied, pending, complete: pending.length === 0 });
  });

  return app;
}
