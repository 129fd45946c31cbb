/**
 * D1 databases of a tenant, hosted by the registry (origin/d1.ts). Scope `d1`
 * (implied by `admin` and by `node`: edge nodes run their functions' queries
 * here, one HTTP round trip per statement, batch or exec).
 *
 * - `GET  /v1/tenants/:t/d1` — `{ databases: [{ name, sizeBytes }] }`
 * - `POST /v1/tenants/:t/d1/:db/query` — body: a D1 request,
 *   `{ op: "batch", queries: [{ sql, params }] }` or `{ op: "exec", sql }`;
 *   answers 200 with the D1 response (`{ ok: true, results }`, `{ ok: true,
 *   exec }`, or `{ ok: false, kind, message }`: a D1 failure is an answer, not
 *   an HTTP error). A malformed request is 400.
 */
import { Hono } from "hono";
import { D1_MAX_BATCH, type D1Query, type D1Request } from "../../src/shared/d1/index.ts";
import { need, visibleTenant } from "../auth.ts";
import { readBody } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import type { D1Host } from "../d1.ts";
import { notFound, originError } from "../errors.ts";
import { checkName } from "../validate/names.ts";

/** A D1 request body: up to 1000 statements of 100 KB plus their values. */
const MAX_D1_BODY = 16 * 1024 * 1024;

function request(raw: unknown): D1Request {
  const bad = (why: string) => originError("ERR_INVALID_REQUEST", `D1 request: ${why}`);
  if (typeof raw !== "object" || raw === null) throw bad("expected { op: \"batch\", queries } or { op: \"exec\", sql }");
  const r = raw as { op?: unknown; queries?: unknown; sql?: unknown };
  if (r.op === "exec") {
    if (typeof r.sql !== "string") throw bad("exec needs sql, a string");
    return { op: "exec", sql: r.sql };
  }
  if (r.op !== "batch") throw bad(`op must be "batch" or "exec", found ${JSON.stringify(r.op)?.slice(0, 40)}`);
  if (!Array.isArray(r.queries) || r.queries.length > D1_MAX_BATCH) throw bad(`queries must be an array of at most ${D1_MAX_BATCH} statements`);
  const queries: D1Query[] = r.queries.map((q: unknown, i: number) => {
    const { sql, params } = (q ?? {}) as { sql?: unknown; params?: unknown };
    if (typeof sql !== "string") throw bad(`queries[${i}].sql must be a string`);
    if (!Array.isArray(params)) throw bad(`queries[${i}].params must be an array`);
    params.forEach((v: unknown, k: number) => {
      const ok = v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) || (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255));
      if (!ok) throw bad(`queries[${i}].params[${k}] must be a number, a string, null or an array of bytes`);
    });
    return { sql, params: params as D1Query["params"] };
  });
  return { op: "batch", queries };
}

export function d1Routes(ctx: OriginContext, host: D1Host | undefined): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();
  const hosted = (): D1Host => {
    if (host === undefined) throw notFound("D1 databases (this registry was started without a D1 directory)");
    return host;
  };

  app.get("/tenants/:tenant/d1", (c) => {
    const p = c.get("principal");
    need(p, "d1");
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    return c.json({ databases: hosted().list(tenant) });
  });

  app.post("/tenants/:tenant/d1/:db/query", async (c) => {
    const p = c.get("principal");
    need(p, "d1");
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    const database = checkName("database", c.req.param("db"));
    const d1 = hosted();
    const bytes = await readBody(c, MAX_D1_BODY, "ERR_BODY_TOO_LARGE", "the D1 request");
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw originError("ERR_INVALID_JSON", "the D1 request is not valid JSON");
    }
    return c.json(await d1.run(tenant, database, request(raw)));
  });

  return app;
}
