/**
 * Cache purges: `POST /v1/tenants/:t/distributions/:d/purge` with `{ prefix }`
 * or `{ tag }`. A purge is not state: it is a `purge` change in the feed, so
 * every edge node applies it in order with the other changes, and a node that
 * was away purges when it catches up. Its key is `distribution/id`.
 */
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import type { Purge } from "../../src/shared/protocol.ts";
import { need, visibleTenant } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, notFound } from "../errors.ts";
import { appendChange } from "../feed.ts";
import { validatePurge } from "../validate/purge.ts";
import { checkName } from "../validate/names.ts";

export function purgeRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  /** Answers 202 `{ purge, seq }`: edge nodes purge when they apply change `seq` (see `GET /v1/changes/:seq`). */
  app.post("/tenants/:tenant/distributions/:name/purge", async (c) => {
    const p = c.get("principal");
    need(p, "deploy");
    const name = checkName("distribution", c.req.param("name"));
    const body = await readJson(c);
    const result = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      if (tx.get("distributions", `${tenant}/${name}`) === undefined) throw notFound(`distribution "${name}" in tenant "${tenant}"`);
      const { purge: input, diagnostics } = validatePurge(body);
      if (!diagnostics.ok) throw invalid("ERR_INVALID_REQUEST", `purge of distribution "${name}"`, diagnostics.list);
      const at = ctx.iso();
      const purge: Purge = { id: randomBytes(8).toString("hex"), distribution: name, ...input, at, by: p.name };
      const change = appendChange(tx, { tenant, kind: "purge", key: `${name}/${purge.id}`, op: "put", value: purge }, at);
      return { purge, seq: change.seq };
    });
    c.header("x-verge-seq", String(result.seq));
    return c.json(result, 202);
  });

  return app;
}
