/**
 * Aliases: a function's named pointer at a version, or n-way weighted routes
 * (issue 3). Every change is a new revision kept in history; rollback restores
 * an earlier revision as a new one, in one call.
 */
import { Hono } from "hono";
import type { Alias, AliasRevision, StickyKey, WeightedRoute } from "../../src/shared/protocol.ts";
import { need, visibleTenant } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv, Principal } from "../context.ts";
import { invalid, notFound, originError } from "../errors.ts";
import { appendChange } from "../feed.ts";
import type { ReadTx, WriteTx } from "../store/store.ts";
import { validateAlias } from "../validate/alias.ts";
import { Diagnostics } from "../validate/fields.ts";
import { checkName } from "../validate/names.ts";
import { getFunction } from "./functions.ts";

const revKey = (tenant: string, fn: string, alias: string, revision: number) => `${tenant}/${fn}/${alias}/${String(revision).padStart(10, "0")}`;

export function getAlias(tx: ReadTx, tenant: string, fn: string, name: string): Alias {
  const a = tx.get<Alias>("aliases", `${tenant}/${fn}/${checkName("alias", name)}`);
  if (a === undefined) throw notFound(`alias "${name}" of function "${fn}"`);
  return a;
}

function putAlias(tx: WriteTx, prev: Alias | undefined, next: { tenant: string; fn: string; name: string; routes: WeightedRoute[]; stickyKey: StickyKey | null; rollbackOf: number | null }, p: Principal, at: string): Alias {
  const alias: Alias = { tenant: next.tenant, function: next.fn, name: next.name, routes: next.routes, stickyKey: next.stickyKey, revision: (prev?.revision ?? 0) + 1, updatedAt: at, updatedBy: p.name };
  tx.put("aliases", `${next.tenant}/${next.fn}/${next.name}`, alias);
  const rev: AliasRevision = { revision: alias.revision, routes: alias.routes, stickyKey: alias.stickyKey, at, by: p.name, rollbackOf: next.rollbackOf };
  tx.put("alias-history", revKey(next.tenant, next.fn, next.name, alias.revision), rev);
  appendChange(tx, { tenant: next.tenant, kind: "alias", key: `${next.fn}/${next.name}`, op: "put", value: alias }, at);
  return alias;
}

export function aliasRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();
  const base = "/tenants/:tenant/functions/:fn/aliases";

  app.get(base, (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json({
      aliases: ctx.store.read((tx) => {
        const tenant = visibleTenant(tx, p, c.req.param("tenant"));
        const fn = getFunction(tx, tenant, c.req.param("fn"));
        return tx.range<Alias>("aliases", { prefix: `${tenant}/${fn.name}/` }).map((e) => e.value);
      }),
    });
  });

  app.get(`${base}/:alias`, (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json(ctx.store.read((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      return getAlias(tx, tenant, getFunction(tx, tenant, c.req.param("fn")).name, c.req.param("alias"));
    }));
  });

  app.get(`${base}/:alias/history`, (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json({
      revisions: ctx.store.read((tx) => {
        const tenant = visibleTenant(tx, p, c.req.param("tenant"));
        const fn = getFunction(tx, tenant, c.req.param("fn")).name;
        const alias = getAlias(tx, tenant, fn, c.req.param("alias")).name;
        return tx.range<AliasRevision>("alias-history", { prefix: `${tenant}/${fn}/${alias}/` }).map((e) => e.value);
      }),
    });
  });

  /** `{ version }` or `{ routes: [{ version, weight }], stickyKey? }` */
  app.put(`${base}/:alias`, async (c) => {
    const p = c.get("principal");
    need(p, "deploy");
    const name = checkName("alias", c.req.param("alias"));
    const body = await readJson(c);
    const result = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const fn = getFunction(tx, tenant, c.req.param("fn")).name;
      const { routes, stickyKey, diagnostics } = validateAlias(body, (digest) => tx.get("versions", `${tenant}/${fn}/${digest}`) !== undefined);
      if (!diagnostics.ok) throw invalid("ERR_INVALID_REQUEST", `alias "${name}" of function "${fn}"`, diagnostics.list);
      const prev = tx.get<Alias>("aliases", `${tenant}/${fn}/${name}`);
      return { alias: putAlias(tx, prev, { tenant, fn, name, routes, stickyKey, rollbackOf: null }, p, ctx.iso()), created: prev === undefined };
    });
    return c.json(result.alias, result.created ? 201 : 200);
  });

  /** `{ revision? }`: restores that revision, by default the one before the current. */
  app.post(`${base}/:alias/rollback`, async (c) => {
    const p = c.get("principal");
    need(p, "deploy");
    const raw = c.req.header("content-length") === "0" || c.req.raw.body === null ? {} : await readJson(c);
    const d = new Diagnostics();
    const obj = d.object("body", raw) ?? {};
    d.known("", obj, ["revision"]);
    const wanted = obj.revision === undefined ? undefined : d.integer("revision", obj.revision, 1, Number.MAX_SAFE_INTEGER, 0);
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", "rollback", d.list);
    const alias = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const fn = getFunction(tx, tenant, c.req.param("fn")).name;
      const current = getAlias(tx, tenant, fn, c.req.param("alias"));
      const target = wanted ?? current.revision - 1;
      if (current.revision === 1) throw originError("ERR_INVALID_REQUEST", `alias "${current.name}" has no earlier revision to roll back to`);
      if (target < 1 || target >= current.revision) {
        throw originError("ERR_INVALID_REQUEST", `alias "${current.name}" is at revision ${current.revision}: expected a revision from 1 to ${current.revision - 1} to roll back to`);
      }
      const rev = tx.get<AliasRevision>("alias-history", revKey(tenant, fn, current.name, target));
      if (rev === undefined) throw notFound(`revision ${target} of alias "${current.name}"`);
      return putAlias(tx, current, { tenant, fn, name: current.name, routes: rev.routes, stickyKey: rev.stickyKey, rollbackOf: target }, p, ctx.iso());
    });
    return c.json(alias);
  });

  return app;
}
