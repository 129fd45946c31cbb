/** The node registry: edge nodes report the sequence they applied; liveness is a recent report. */
import { Hono } from "hono";
import type { NodeInfo, NodeReport } from "../../src/shared/protocol.ts";
import { need } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, originError } from "../errors.ts";
import { headSeq } from "../feed.ts";
import type { ReadTx } from "../store/store.ts";
import { Diagnostics } from "../validate/fields.ts";
import { checkName } from "../validate/names.ts";

type StoredNode = Omit<NodeInfo, "live">;

export function listNodes(tx: ReadTx, ctx: OriginContext): NodeInfo[] {
  const now = ctx.now();
  return tx.range<StoredNode>("nodes", { prefix: "" }).map(({ value }) => ({ ...value, live: now - Date.parse(value.lastSeenAt) <= ctx.nodeLiveMs }));
}

export function nodeRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.post("/nodes/:id/report", async (c) => {
    need(c.get("principal"), "node");
    const id = checkName("node", c.req.param("id"));
    const body = await readJson(c);
    const d = new Diagnostics();
    const obj = (d.object("body", body) ?? {}) as Record<string, unknown>;
    d.known("", obj, ["appliedSeq", "staleSeconds", "hostname", "version"]);
    const report: NodeReport = {
      appliedSeq: d.integer("appliedSeq", obj.appliedSeq ?? -1, 0, Number.MAX_SAFE_INTEGER, 0),
      staleSeconds: d.integer("staleSeconds", obj.staleSeconds, 0, Number.MAX_SAFE_INTEGER, 0),
    };
    const hostname = obj.hostname === undefined ? null : d.string("hostname", obj.hostname, /^[\x21-\x7e]{1,253}$/, "a hostname");
    const version = obj.version === undefined ? null : d.string("version", obj.version, /^[\x20-\x7e]{1,64}$/, "a version string");
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", `report of node "${id}"`, d.list);
    const node = await ctx.write((tx) => {
      const head = headSeq(tx);
      if (report.appliedSeq > head) throw originError("ERR_INVALID_REQUEST", `appliedSeq: ${report.appliedSeq} is past the registry's newest change ${head}`);
      const next: StoredNode = { id, appliedSeq: report.appliedSeq, staleSeconds: report.staleSeconds ?? 0, hostname: hostname ?? null, version: version ?? null, lastSeenAt: ctx.iso() };
      tx.put("nodes", id, next);
      return { ...next, live: true };
    });
    return c.json(node);
  });

  app.get("/nodes", (c) => {
    const p = c.get("principal");
    if (p.tenant !== null) throw originError("ERR_MISSING_SCOPE", "the node list needs an operator or node token; use GET /v1/changes/:seq to see which nodes applied your change");
    need(p, "read");
    return c.json({ nodes: ctx.store.read((tx) => listNodes(tx, ctx)) });
  });

  return app;
}
