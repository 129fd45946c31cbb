/**
 * Functions and their config; secrets are write-only (stored sealed, listed by
 * name), except to edge nodes: a `node` token reads the plain values it binds
 * into the function's env.
 */
import { Hono } from "hono";
import type { FunctionConfig, FunctionInfo, SecretValues } from "../../src/shared/protocol.ts";
import { need, visibleTenant } from "../auth.ts";
import { MAX_CONFIG_JSON_BYTES, readJson } from "../body.ts";
import { missingAssets } from "./assets.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, notFound, originError } from "../errors.ts";
import { appendChange } from "../feed.ts";
import type { ReadTx, WriteTx } from "../store/store.ts";
import { DEFAULT_CONFIG, validateConfig, validateSecret } from "../validate/config.ts";
import { Diagnostics } from "../validate/fields.ts";
import { checkName } from "../validate/names.ts";
import type { SealedSecret } from "../secrets.ts";

/** The function's record; `config.secrets` lists names, values live in the `secrets` table. */
export function getFunction(tx: ReadTx, tenant: string, name: string): FunctionInfo {
  const fn = tx.get<FunctionInfo>("functions", `${tenant}/${checkName("function", name)}`);
  if (fn === undefined) throw notFound(`function "${name}" in tenant "${tenant}"`);
  return fn;
}

/** Creates the function with the default config if it does not exist (first publish). */
export function ensureFunction(tx: WriteTx, tenant: string, name: string, at: string): FunctionInfo {
  const existing = tx.get<FunctionInfo>("functions", `${tenant}/${name}`);
  if (existing !== undefined) return existing;
  const fn: FunctionInfo = { tenant, name, config: { ...DEFAULT_CONFIG, env: {}, secrets: [] }, createdAt: at, updatedAt: at };
  putFunction(tx, fn, at);
  return fn;
}

function putFunction(tx: WriteTx, fn: FunctionInfo, at: string): void {
  tx.put("functions", `${fn.tenant}/${fn.name}`, fn);
  appendChange(tx, { tenant: fn.tenant, kind: "function", key: fn.name, op: "put", value: fn }, at);
}

export function functionRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.get("/tenants/:tenant/functions", (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json({
      functions: ctx.store.read((tx) => {
        const tenant = visibleTenant(tx, p, c.req.param("tenant"));
        return tx.range<FunctionInfo>("functions", { prefix: `${tenant}/` }).map((e) => e.value);
      }),
    });
  });

  app.get("/tenants/:tenant/functions/:fn", (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json(ctx.store.read((tx) => getFunction(tx, visibleTenant(tx, p, c.req.param("tenant")), c.req.param("fn"))));
  });

  /**
   * Creates or replaces the config (`{ config: { memoryMb, cpuMs, wallMs,
   * subrequests, env, reservedConcurrency, provisionedConcurrency } }`; a field
   * left out takes its default); secrets are kept.
   */
  app.put("/tenants/:tenant/functions/:fn", async (c) => {
    const p = c.get("principal");
    need(p, "publish");
    const name = checkName("function", c.req.param("fn"));
    const body = await readJson(c, MAX_CONFIG_JSON_BYTES);
    const d = new Diagnostics();
    const obj = d.object("body", body) ?? {};
    d.known("", obj, ["config"]);
    const { config, diagnostics } = validateConfig(obj.config);
    d.list.push(...diagnostics.list);
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", `config of function "${name}"`, d.list);
    const { fn, created } = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const existing = tx.get<FunctionInfo>("functions", `${tenant}/${name}`);
      const secrets = existing?.config.secrets ?? [];
      const clash = secrets.filter((s) => s in config.env || s in (config.kvNamespaces ?? {}) || s in (config.d1Databases ?? {}) || s in (config.services ?? {}) || s in (config.r2Buckets ?? {}));
      if (clash.length > 0) throw invalid("ERR_INVALID_REQUEST", `config of function "${name}"`, clash.map((s) => ({ path: `config.env.${s}`, message: `"${s}" is a secret of this function; a name is either a var or a secret` })));
      if (config.assets?.binding !== undefined && secrets.includes(config.assets.binding)) throw invalid("ERR_INVALID_REQUEST", `config of function "${name}"`, [{ path: "config.assets.binding", message: `"${config.assets.binding}" is a secret of this function; a name is bound once` }]);
      const missing = config.assets === undefined ? [] : missingAssets(tx, tenant, config.assets.manifest);
      if (missing.length > 0) throw invalid("ERR_INVALID_REQUEST", `config of function "${name}": static assets`, missing);
      const at = ctx.iso();
      const next: FunctionInfo = { tenant, name, config: { ...config, secrets } satisfies FunctionConfig, createdAt: existing?.createdAt ?? at, updatedAt: at };
      putFunction(tx, next, at);
      return { fn: next, created: existing === undefined };
    });
    return c.json(fn, created ? 201 : 200);
  });

  /**
   * The plain values, for edge nodes only (`node` scope, which no tenant token
   * can hold): other tokens are refused even with `admin`. Never logged, never
   * cached by intermediaries.
   */
  app.get("/tenants/:tenant/functions/:fn/secrets/values", (c) => {
    const p = c.get("principal");
    need(p, "node");
    const values = ctx.store.read((tx): SecretValues => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const fn = getFunction(tx, tenant, c.req.param("fn"));
      const secrets: Record<string, string> = {};
      for (const name of fn.config.secrets) {
        const context = `${tenant}/${fn.name}/${name}`;
        const sealed = tx.get<SealedSecret>("secrets", context);
        if (sealed === undefined) throw originError("ERR_INTERNAL", `secret "${name}" of function "${fn.name}" is listed but not stored`);
        try {
          secrets[name] = ctx.secrets.open(context, sealed);
        } catch {
          // Wrong VERGE_SECRET_KEY after a rotation, or a damaged record: say which, never what.
          throw originError("ERR_INTERNAL", `secret "${name}" of function "${fn.name}" in tenant "${tenant}" cannot be opened with this registry's key (sealed by key ${sealed.keyHint})`);
        }
      }
      return { tenant, function: fn.name, secrets };
    });
    c.header("cache-control", "no-store");
    return c.json(values);
  });

  /** `{ value }`: sealed with the server's key; the answer lists the names only. */
  app.put("/tenants/:tenant/functions/:fn/secrets/:secret", async (c) => {
    const p = c.get("principal");
    need(p, "publish");
    const secret = c.req.param("secret");
    const body = await readJson(c);
    const fn = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const fn = getFunction(tx, tenant, c.req.param("fn"));
      const { value, diagnostics } = validateSecret(secret, body, fn.config.env);
      if (!diagnostics.ok) throw invalid("ERR_INVALID_REQUEST", `secret of function "${fn.name}"`, diagnostics.list);
      const context = `${tenant}/${fn.name}/${secret}`;
      tx.put("secrets", context, { ...ctx.secrets.seal(context, value), updatedAt: ctx.iso() } satisfies SealedSecret & { updatedAt: string });
      const secrets = [...new Set([...fn.config.secrets, secret])].sort();
      const next = { ...fn, config: { ...fn.config, secrets }, updatedAt: ctx.iso() };
      putFunction(tx, next, next.updatedAt);
      return next;
    });
    return c.json(fn);
  });

  app.delete("/tenants/:tenant/functions/:fn/secrets/:secret", async (c) => {
    const p = c.get("principal");
    need(p, "publish");
    const secret = c.req.param("secret");
    const fn = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const fn = getFunction(tx, tenant, c.req.param("fn"));
      if (!fn.config.secrets.includes(secret)) throw notFound(`secret "${secret.slice(0, 128)}" of function "${fn.name}"`);
      tx.delete("secrets", `${tenant}/${fn.name}/${secret}`);
      const next = { ...fn, config: { ...fn.config, secrets: fn.config.secrets.filter((s) => s !== secret) }, updatedAt: ctx.iso() };
      putFunction(tx, next, next.updatedAt);
      return next;
    });
    return c.json(fn);
  });

  return app;
}
