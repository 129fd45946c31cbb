/**
 * Distributions (issue 3): hostnames, origins, cache behaviors in precedence
 * order and function associations per event, validated on write against the
 * tenant's functions, aliases and versions in the same transaction. A hostname
 * belongs to one distribution across all tenants.
 */
import { Hono } from "hono";
import type { Distribution } from "../../src/shared/protocol.ts";
import { need, visibleTenant } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, notFound, originError } from "../errors.ts";
import { appendChange } from "../feed.ts";
import { validateDistribution } from "../validate/distribution.ts";
import { checkName } from "../validate/names.ts";

interface HostnameOwner {
  tenant: string;
  distribution: string;
}

export function distributionRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();
  const base = "/tenants/:tenant/distributions";

  app.get(base, (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json({
      distributions: ctx.store.read((tx) => {
        const tenant = visibleTenant(tx, p, c.req.param("tenant"));
        return tx.range<Distribution>("distributions", { prefix: `${tenant}/` }).map((e) => e.value);
      }),
    });
  });

  app.get(`${base}/:name`, (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json(ctx.store.read((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const name = checkName("distribution", c.req.param("name"));
      const d = tx.get<Distribution>("distributions", `${tenant}/${name}`);
      if (d === undefined) throw notFound(`distribution "${name}" in tenant "${tenant}"`);
      return d;
    }));
  });

  app.put(`${base}/:name`, async (c) => {
    const p = c.get("principal");
    need(p, "deploy");
    const name = checkName("distribution", c.req.param("name"));
    const body = await readJson(c);
    const result = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const { distribution, diagnostics } = validateDistribution(body, {
        functionExists: (fn) => tx.get("functions", `${tenant}/${fn}`) !== undefined,
        aliasExists: (fn, alias) => tx.get("aliases", `${tenant}/${fn}/${alias}`) !== undefined,
        versionExists: (fn, digest) => tx.get("versions", `${tenant}/${fn}/${digest}`) !== undefined,
      });
      if (diagnostics.length > 0) throw invalid("ERR_INVALID_DISTRIBUTION", `distribution "${name}"`, diagnostics);
      for (const [i, host] of distribution.hostnames.entries()) {
        const owner = tx.get<HostnameOwner>("hostnames", host);
        if (owner !== undefined && (owner.tenant !== tenant || owner.distribution !== name)) {
          throw originError("ERR_HOSTNAME_TAKEN", `hostnames[${i}]: "${host}" is already served by another distribution`);
        }
      }
      const prev = tx.get<Distribution>("distributions", `${tenant}/${name}`);
      for (const host of prev?.hostnames ?? []) if (!distribution.hostnames.includes(host)) tx.delete("hostnames", host);
      for (const host of distribution.hostnames) tx.put("hostnames", host, { tenant, distribution: name } satisfies HostnameOwner);
      const at = ctx.iso();
      const next: Distribution = { tenant, name, ...distribution, updatedAt: at };
      tx.put("distributions", `${tenant}/${name}`, next);
      const change = appendChange(tx, { tenant, kind: "distribution", key: name, op: "put", value: next }, at);
      return { distribution: next, created: prev === undefined, seq: change.seq };
    });
    c.header("x-verge-seq", String(result.seq));
    return c.json(result.distribution, result.created ? 201 : 200);
  });

  app.delete(`${base}/:name`, async (c) => {
    const p = c.get("principal");
    need(p, "deploy");
    const name = checkName("distribution", c.req.param("name"));
    const seq = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const prev = tx.get<Distribution>("distributions", `${tenant}/${name}`);
      if (prev === undefined) throw notFound(`distribution "${name}" in tenant "${tenant}"`);
      for (const host of prev.hostnames) tx.delete("hostnames", host);
      tx.delete("distributions", `${tenant}/${name}`);
      return appendChange(tx, { tenant, kind: "distribution", key: name, op: "delete" }, ctx.iso()).seq;
    });
    c.header("x-verge-seq", String(seq));
    return c.body(null, 204);
  });

  return app;
}
