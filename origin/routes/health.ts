/** `GET /v1/health` (no token) and `GET /metrics` (Prometheus text format, no token). */
import { Hono } from "hono";
import type { Health } from "../../src/shared/protocol.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { headSeq } from "../feed.ts";
import { listNodes } from "./nodes.ts";

export function healthRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.get("/v1/health", (c) => {
    const seq = ctx.store.read(headSeq);
    return c.json<Health>({ ok: true, seq, uptimeSeconds: Math.round((ctx.now() - ctx.startedAt) / 1000) });
  });

  app.get("/metrics", (c) => {
    const { head, nodes } = ctx.store.read((tx) => ({ head: headSeq(tx), nodes: listNodes(tx, ctx) }));
    const live = nodes.filter((n) => n.live);
    const lines = [
      "# HELP verge_origin_requests_total HTTP requests answered, by status.",
      "# TYPE verge_origin_requests_total counter",
      ...[...ctx.metrics.requests].map(([status, n]) => `verge_origin_requests_total{status="${status}"} ${n}`),
      "# HELP verge_origin_publishes_total Publish requests, by outcome.",
      "# TYPE verge_origin_publishes_total counter",
      ...Object.entries(ctx.metrics.publishes).map(([outcome, n]) => `verge_origin_publishes_total{outcome="${outcome}"} ${n}`),
      "# HELP verge_origin_feed_head_seq Sequence number of the newest change.",
      "# TYPE verge_origin_feed_head_seq gauge",
      `verge_origin_feed_head_seq ${head}`,
      "# HELP verge_origin_feed_sse_clients Open server-sent-event followers.",
      "# TYPE verge_origin_feed_sse_clients gauge",
      `verge_origin_feed_sse_clients ${ctx.metrics.sseClients}`,
      "# HELP verge_origin_nodes_live Edge nodes that reported within the liveness window.",
      "# TYPE verge_origin_nodes_live gauge",
      `verge_origin_nodes_live ${live.length}`,
      "# HELP verge_origin_nodes_max_lag Changes the most behind live node has yet to apply.",
      "# TYPE verge_origin_nodes_max_lag gauge",
      `verge_origin_nodes_max_lag ${live.reduce((m, n) => Math.max(m, head - n.appliedSeq), 0)}`,
      "# HELP verge_origin_log_events_total Request events from edge nodes kept for `verge logs`.",
      "# TYPE verge_origin_log_events_total counter",
      `verge_origin_log_events_total ${ctx.logs.accepted}`,
      "# HELP verge_origin_log_tails Open `verge logs` tails.",
      "# TYPE verge_origin_log_tails gauge",
      `verge_origin_log_tails ${ctx.logs.tails()}`,
    ];
    return c.text(lines.join("\n") + "\n", 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  return app;
}
