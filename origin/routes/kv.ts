/**
 * Workers KV namespaces of a tenant (issue 5). A namespace exists from its
 * first write. Scope `kv` (implied by `admin` and by `node`: edge nodes write
 * on behalf of their functions); the limits are the runtime's
 * (src/shared/kv-rules.ts). Every write appends a `kv-put` / `kv-delete`
 * change in its transaction (origin/kv.ts); edge nodes apply them to their own
 * copy and read locally, and a cold node pages through `GET /v1/kv/export`.
 *
 * - `GET    /v1/tenants/:t/kv` — namespaces
 * - `PUT    /v1/tenants/:t/kv/:ns/values/:key` — body: the value;
 *   `?expiration=<s since epoch>` or `?expirationTtl=<s>` (`expiration_ttl` too);
 *   header `x-verge-kv-metadata: <JSON, may be percent-encoded>`. Answers `{ seq }`.
 * - `GET    /v1/tenants/:t/kv/:ns/values/:key` — the value; metadata,
 *   expiration, digest and seq in `x-verge-kv-*` / `x-verge-seq` headers
 * - `DELETE /v1/tenants/:t/kv/:ns/values/:key` — `{ seq }` (null if there was nothing)
 * - `GET    /v1/tenants/:t/kv/:ns/keys?prefix&limit&cursor` — Workers' list shape
 * - `GET    /v1/kv/export?after&limit` (`node` only) — every tenant's entries
 */
import { Hono, type Context } from "hono";
import { KV_HEADERS, type KvExportPage, type KvKeyList, type KvNamespaceInfo } from "../../src/shared/protocol.ts";
import { checkExpiration, checkKey, checkKeyLength, checkListLimit, checkMetadata, KV_LIMITS } from "../../src/shared/kv-rules.ts";
import { need, visibleTenant } from "../auth.ts";
import { readBody } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { notFound, originError } from "../errors.ts";
import { headSeq } from "../feed.ts";
import { deleteKv, getRow, hexKey, isLive, nsPrefix, putKv, unhexKey, wireOf, type KvRow } from "../kv.ts";
import { checkName } from "../validate/names.ts";

/** Inline bytes per export page, beyond which the page ends early. */
const EXPORT_PAGE_BYTES = 8 * 1024 * 1024;

/** Runs a kv-rules check; its errors (TypeError / "KV PUT failed: 4xx …") become 400s with the same message. */
function rule<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw originError("ERR_INVALID_REQUEST", (err as Error).message);
  }
}

function keyParam(c: Context<OriginEnv>, op: string): string {
  const key = c.req.param("key") ?? "";
  rule(() => checkKey(op, key));
  return key;
}

function num(raw: string | undefined): number | undefined {
  return raw === undefined || raw === "" ? undefined : Number(raw);
}

function decodeHeader(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function kvRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();
  const VALUE = "/tenants/:tenant/kv/:ns/values/:key{.+}";

  app.get("/tenants/:tenant/kv", (c) => {
    const p = c.get("principal");
    need(p, "kv");
    const namespaces = ctx.store.read((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      return tx.range<KvNamespaceInfo>("kv-namespaces", { prefix: `${tenant}/` }).map((e) => e.value);
    });
    return c.json({ namespaces });
  });

  app.put(VALUE, async (c) => {
    const p = c.get("principal");
    need(p, "kv");
    const ns = checkName("namespace", c.req.param("ns"));
    const key = keyParam(c, "PUT");
    const metadata = decodeHeader(c.req.header(KV_HEADERS.metadata));
    if (metadata !== undefined) {
      rule(() => checkMetadata(key, metadata));
      try {
        JSON.parse(metadata);
      } catch {
        throw originError("ERR_INVALID_REQUEST", `the metadata of key ${JSON.stringify(key.slice(0, 64))} (header ${KV_HEADERS.metadata}) is not JSON`);
      }
    }
    const asked = num(c.req.query("expiration"));
    // An edge node's binding already checked the 60 s minimum against the node's clock;
    // checking it again against this one would refuse `expirationTtl: 60` over any skew.
    const fromNode = p.scopes.includes("node") && asked !== undefined && Number.isInteger(asked) && asked > 0;
    const expiration = fromNode ? asked : rule(() => checkExpiration(key, Math.floor(ctx.now() / 1000), asked, num(c.req.query("expirationTtl") ?? c.req.query("expiration_ttl"))));
    // Refuse before reading a value for a tenant the token cannot see.
    ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    const value = await readBody(c, KV_LIMITS.maxValueBytes, "ERR_BODY_TOO_LARGE", `the value of key ${JSON.stringify(key.slice(0, 64))}`);
    const change = await ctx.write((tx) => putKv(tx, visibleTenant(tx, p, c.req.param("tenant")), ns, key, { value, expiration, metadata }, ctx.iso()));
    c.header(KV_HEADERS.seq, String(change.seq));
    return c.json({ seq: change.seq });
  });

  app.get(VALUE, (c) => {
    const p = c.get("principal");
    need(p, "kv");
    const ns = checkName("namespace", c.req.param("ns"));
    const key = keyParam(c, "GET");
    const row = ctx.store.read((tx): KvRow | undefined => getRow(tx, visibleTenant(tx, p, c.req.param("tenant")), ns, key, ctx.now()));
    if (row === undefined) throw notFound(`key ${JSON.stringify(key.slice(0, 64))} in KV namespace "${ns}"`);
    const headers: Record<string, string> = { "content-type": "application/octet-stream", "cache-control": "no-store", [KV_HEADERS.digest]: row.d, [KV_HEADERS.seq]: String(row.s) };
    if (row.m !== undefined) headers[KV_HEADERS.metadata] = encodeURIComponent(row.m);
    if (row.e !== undefined) headers[KV_HEADERS.expiration] = String(row.e);
    return new Response(row.v as Uint8Array<ArrayBuffer>, { headers });
  });

  app.delete(VALUE, async (c) => {
    const p = c.get("principal");
    need(p, "kv");
    const ns = checkName("namespace", c.req.param("ns"));
    const key = keyParam(c, "DELETE");
    const change = await ctx.write((tx) => deleteKv(tx, visibleTenant(tx, p, c.req.param("tenant")), ns, key, ctx.iso()));
    if (change !== null) c.header(KV_HEADERS.seq, String(change.seq));
    return c.json({ seq: change?.seq ?? null });
  });

  app.get("/tenants/:tenant/kv/:ns/keys", (c) => {
    const p = c.get("principal");
    need(p, "kv");
    const ns = checkName("namespace", c.req.param("ns"));
    const prefix = c.req.query("prefix") ?? "";
    rule(() => checkKeyLength("GET", prefix, "prefix"));
    const limit = num(c.req.query("limit")) ?? KV_LIMITS.maxListKeys;
    rule(() => checkListLimit(limit));
    const cursor = c.req.query("cursor");
    const after = cursor === undefined || cursor === "" ? undefined : Buffer.from(cursor, "base64url").toString("utf8");
    const list = ctx.store.read((tx): KvKeyList => {
      const base = nsPrefix(visibleTenant(tx, p, c.req.param("tenant")), ns);
      const from = after === undefined ? undefined : base + hexKey(after);
      const keys: KvKeyList["keys"] = [];
      const now = ctx.now();
      // Rows are read in pages: expired ones are skipped without counting.
      let next = from;
      for (;;) {
        const rows = tx.range<KvRow>("kv", { prefix: base + hexKey(prefix), ...(next === undefined ? {} : { from: next }), limit: limit + 2 });
        for (const { key, value } of rows) {
          if (key === from || key === next) continue;
          if (!isLive(value, now)) continue;
          const name = unhexKey(String(key).slice(base.length));
          if (keys.length === limit) return { keys, list_complete: false, cursor: Buffer.from(keys[keys.length - 1]!.name, "utf8").toString("base64url") };
          keys.push({ name, ...(value.e !== undefined ? { expiration: value.e } : {}), ...(value.m !== undefined ? { metadata: JSON.parse(value.m) as unknown } : {}) });
        }
        if (rows.length < limit + 2) return { keys, list_complete: true };
        next = String(rows[rows.length - 1]!.key);
      }
    });
    return c.json(list);
  });

  app.get("/kv/export", (c) => {
    const p = c.get("principal");
    need(p, "node");
    const after = c.req.query("after");
    const limit = Math.max(1, Math.min(num(c.req.query("limit")) ?? 1000, 1000));
    const page = ctx.store.read((tx): KvExportPage => {
      const rows = tx.range<KvRow>("kv", { prefix: "", ...(after === undefined || after === "" ? {} : { from: after }), limit: limit + 1 });
      const entries: KvExportPage["entries"] = [];
      const now = ctx.now();
      let bytes = 0;
      let last: string | undefined;
      for (const { key, value } of rows) {
        const k = String(key);
        if (k === after) continue;
        if (entries.length === limit || bytes > EXPORT_PAGE_BYTES) return { entries, cursor: last!, head: headSeq(tx) };
        last = k;
        if (!isLive(value, now)) continue;
        const [tenant, namespace, hex] = k.split("/") as [string, string, string];
        const w = wireOf(namespace, unhexKey(hex), value);
        bytes += w.base64?.length ?? 0;
        entries.push({ ...w, tenant, seq: value.s });
      }
      // A full range may have more after it (expired rows were skipped).
      return rows.length === limit + 1 && last !== undefined ? { entries, cursor: last, head: headSeq(tx) } : { entries, head: headSeq(tx) };
    });
    return c.json(page);
  });

  return app;
}
