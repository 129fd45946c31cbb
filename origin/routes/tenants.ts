/** Tenants (operators create them), tokens (admins issue and revoke them) and `whoami`. */
import { Hono } from "hono";
import { SCOPES, type Scope, type Tenant, type WhoAmI } from "../../src/shared/protocol.ts";
import { createToken, isOperator, need, publicToken, visibleTenant, type TokenRecord } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, notFound, originError } from "../errors.ts";
import { appendChange } from "../feed.ts";
import { Diagnostics } from "../validate/fields.ts";
import { checkName } from "../validate/names.ts";

export function tenantRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.get("/whoami", (c) => {
    const p = c.get("principal");
    return c.json<WhoAmI>({ tokenId: p.tokenId, tenant: p.tenant, scopes: p.scopes });
  });

  app.post("/tenants", async (c) => {
    const p = c.get("principal");
    if (!isOperator(p)) throw originError("ERR_MISSING_SCOPE", "creating tenants needs an operator token (admin scope, no tenant)");
    const body = await readJson(c);
    const d = new Diagnostics();
    const obj = d.object("body", body);
    if (obj !== undefined) d.known("", obj, ["name"]);
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", "tenant", d.list);
    const name = checkName("tenant", typeof obj?.name === "string" ? obj.name : "");
    const tenant = await ctx.write((tx) => {
      if (tx.get("tenants", name) !== undefined) throw originError("ERR_ALREADY_EXISTS", `tenant "${name}" already exists`);
      const t: Tenant = { name, createdAt: ctx.iso() };
      tx.put("tenants", name, t);
      appendChange(tx, { tenant: name, kind: "tenant", key: name, op: "put", value: t }, t.createdAt);
      return t;
    });
    return c.json(tenant, 201);
  });

  app.get("/tenants", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const all = ctx.store.read((tx) => tx.range<Tenant>("tenants", { prefix: "" }).map((e) => e.value));
    return c.json({ tenants: p.tenant === null ? all : all.filter((t) => t.name === p.tenant) });
  });

  app.get("/tenants/:tenant", (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json(ctx.store.read((tx) => tx.get<Tenant>("tenants", visibleTenant(tx, p, c.req.param("tenant")))));
  });

  app.post("/tokens", async (c) => {
    const p = c.get("principal");
    need(p, "admin");
    const body = await readJson(c);
    const d = new Diagnostics();
    const obj = d.object("body", body) ?? {};
    d.known("", obj, ["tenant", "scopes", "name"]);
    const scopes = (d.array("scopes", obj.scopes, SCOPES.length) ?? []) as Scope[];
    if (Array.isArray(obj.scopes) && scopes.length === 0) d.add("scopes", "expected at least one scope");
    scopes.forEach((s, i) => {
      if (!SCOPES.includes(s)) d.add(`scopes[${i}]`, `expected one of ${SCOPES.join(", ")}, found ${JSON.stringify(s)}`);
    });
    const name = obj.name === undefined ? "token" : d.string("name", obj.name, /^[\x20-\x7e]{1,64}$/, "a printable name of at most 64 characters");
    const tenant = obj.tenant === undefined || obj.tenant === null ? p.tenant : typeof obj.tenant === "string" ? obj.tenant : undefined;
    if (tenant === undefined) d.add("tenant", "expected a tenant name or null");
    if (tenant === null && scopes.some((s) => s !== "node" && s !== "admin" && s !== "read")) d.add("tenant", "a token without a tenant may only have admin, node or read scopes");
    if (tenant !== null && scopes.includes("node")) d.add("scopes", `"node" is for operator tokens (tenant null)`);
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", "token", d.list);
    const created = await ctx.write((tx) => {
      if (tenant === null) {
        if (!isOperator(p)) throw notFound("tenant null");
      } else visibleTenant(tx, p, tenant!);
      return createToken(tx, { tenant: tenant!, scopes, name: name! }, ctx.iso());
    });
    return c.json(created, 201);
  });

  app.get("/tokens", (c) => {
    const p = c.get("principal");
    need(p, "admin");
    const all = ctx.store.read((tx) => tx.range<TokenRecord>("tokens", { prefix: "id/" }).map((e) => publicToken(e.value)));
    return c.json({ tokens: isOperator(p) ? all : all.filter((t) => t.tenant === p.tenant) });
  });

  app.delete("/tokens/:id", async (c) => {
    const p = c.get("principal");
    need(p, "admin");
    const id = c.req.param("id");
    const revoked = await ctx.write((tx) => {
      const record = /^[0-9a-f]{12}$/.test(id) ? tx.get<TokenRecord>("tokens", `id/${id}`) : undefined;
      if (record === undefined || (!isOperator(p) && record.tenant !== p.tenant)) throw notFound(`token "${id.slice(0, 40)}"`);
      if (record.revokedAt !== null) return publicToken(record);
      const next = { ...record, revokedAt: ctx.iso() };
      tx.put("tokens", `id/${id}`, next);
      return publicToken(next);
    });
    return c.json(revoked);
  });

  return app;
}
