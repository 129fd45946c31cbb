/**
 * R2 buckets of a tenant. Scope `r2` (implied by `admin`, and by `node`: an edge
 * node runs every operation of its functions' R2 bindings here, origin/r2.ts).
 * A bucket exists from its first put. Keys travel in the query (`?key=`), so any
 * key, the empty one and those with "/" included, has one spelling. Bodies stream
 * both ways; the object's metadata rides in `x-verge-r2-object` (base64url JSON,
 * src/shared/r2-wire.ts). R2's own errors keep R2's message (`put: … (10037)`).
 *
 * - `GET    /v1/tenants/:t/r2` — buckets
 * - `GET    /v1/tenants/:t/r2/:bucket/objects?prefix&delimiter&cursor&startAfter&limit&include` — a list page (JSON)
 * - `GET    /v1/tenants/:t/r2/:bucket/object?key=` — the bytes (206 for a part); header
 *   `x-verge-r2-get: { range?, onlyIf? }`; 412 with the metadata when `onlyIf` fails;
 *   with `&metadata`: `{ object }` only (R2's head)
 * - `PUT    /v1/tenants/:t/r2/:bucket/object?key=` — body: the bytes; header `x-verge-r2-put`
 *   (httpMetadata, customMetadata, checksum, onlyIf, storageClass) or just a `content-type`;
 *   `{ object }`, `{ object: null }` when `onlyIf` fails
 * - `DELETE /v1/tenants/:t/r2/:bucket/object?key=` and `POST …/:bucket/delete` `{ keys }` — `{}`
 * - multipart: `POST …/:bucket/uploads?key=` (header `x-verge-r2-put`) — `{ uploadId }`;
 *   `PUT …/uploads/:id/parts/:n?key=` (body: the part) — `{ partNumber, etag }`;
 *   `POST …/uploads/:id/complete?key=` `{ parts: [{ partNumber, etag }] }` — `{ object }`;
 *   `DELETE …/uploads/:id?key=` — `{}`
 */
import { Hono, type Context } from "hono";
import { R2_BUCKET_NAME, R2_CODES, checkR2Key } from "../../src/shared/r2-rules.ts";
import { R2_HEADERS, decodeHeaderJson, encodeHeaderJson, isRecord, parseConditional, parseListOptions, parsePutOptions, parseRange } from "../../src/shared/r2-wire.ts";
import { need, visibleTenant } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { notFound, originError } from "../errors.ts";
import { createRegistryR2, type R2BucketInfo } from "../r2.ts";

/** R2's errors and the argument checks' TypeErrors become 400s (413 past the size cap) with their message. */
async function rule<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    if (message.endsWith(`(${R2_CODES.entityTooLarge})`)) throw originError("ERR_BODY_TOO_LARGE", message);
    if (err instanceof TypeError || /\(\d+\)$/.test(message)) throw originError("ERR_INVALID_REQUEST", message);
    throw err;
  }
}

export function r2Routes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();
  const r2 = createRegistryR2(ctx.store, { now: ctx.now });
  const BUCKET = "/tenants/:tenant/r2/:bucket";

  /** The tenant the token may act in, and the bucket named in the path (checked). */
  function target(c: Context<OriginEnv>): { tenant: string; bucket: string } {
    const p = c.get("principal");
    need(p, "r2");
    const bucket = c.req.param("bucket") ?? "";
    if (!R2_BUCKET_NAME.test(bucket)) throw originError("ERR_INVALID_NAME", `bucket name ${JSON.stringify(bucket.slice(0, 80))} is invalid: expected 3–63 lowercase letters, digits or "-", starting and ending with a letter or digit`);
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant") ?? ""));
    return { tenant, bucket };
  }

  function keyOf(c: Context<OriginEnv>, op: string): Promise<string> {
    const key = c.req.query("key");
    if (key === undefined) throw originError("ERR_INVALID_REQUEST", `expected the object's key in the query (?key=...)`);
    return rule(() => {
      checkR2Key(op, key);
      return key;
    });
  }

  app.get("/tenants/:tenant/r2", (c) => {
    const p = c.get("principal");
    need(p, "r2");
    const buckets = ctx.store.read((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      return tx.range<R2BucketInfo>("r2-buckets", { prefix: `${tenant}/` }).map((e) => e.value);
    });
    return c.json({ buckets });
  });

  app.get(`${BUCKET}/objects`, async (c) => {
    const { tenant, bucket } = target(c);
    const q = c.req.query();
    const raw = {
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      ...(q.prefix !== undefined ? { prefix: q.prefix } : {}),
      ...(q.delimiter !== undefined ? { delimiter: q.delimiter } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      ...(q.startAfter !== undefined ? { startAfter: q.startAfter } : {}),
      include: (q.include ?? "").split(",").filter((s) => s !== ""),
    };
    const options = await rule(() => parseListOptions(raw));
    return c.json(await rule(() => r2.bucket(tenant, bucket).list(options)));
  });

  app.get(`${BUCKET}/object`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "get");
    const store = r2.bucket(tenant, bucket);
    if (c.req.query("metadata") !== undefined) {
      const object = await store.head(key);
      if (object === null) throw notFound(`object ${JSON.stringify(key.slice(0, 64))} in R2 bucket "${bucket}"`);
      return c.json({ object });
    }
    const opts = await rule(() => decodeHeaderJson(R2_HEADERS.get, c.req.header(R2_HEADERS.get)));
    const o = isRecord(opts) ? opts : {};
    const range = await rule(() => parseRange(o.range));
    const onlyIf = await rule(() => parseConditional(o.onlyIf));
    const found = await rule(() => store.get(key, { ...(range !== undefined ? { range } : {}), ...(onlyIf !== undefined ? { onlyIf } : {}) }));
    if (found === null) throw notFound(`object ${JSON.stringify(key.slice(0, 64))} in R2 bucket "${bucket}"`);
    const headers: Record<string, string> = {
      "cache-control": "no-store",
      "content-type": found.object.httpMetadata.contentType ?? "application/octet-stream",
      etag: `"${found.object.etag}"`,
      [R2_HEADERS.object]: encodeHeaderJson(found.object),
      [R2_HEADERS.range]: `${found.range.offset},${found.range.length}`,
    };
    if (found.body === null) return new Response(null, { status: 412, headers });
    const partial = found.range.length < found.object.size;
    return new Response(ReadableStream.from(found.body), { status: partial ? 206 : 200, headers: { ...headers, "content-length": String(found.range.length) } });
  });

  app.put(`${BUCKET}/object`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "put");
    const given = await rule(() => decodeHeaderJson(R2_HEADERS.put, c.req.header(R2_HEADERS.put)));
    const contentType = c.req.header("content-type");
    const raw = given ?? (contentType === undefined ? {} : { httpMetadata: { contentType } });
    const options = await rule(() => parsePutOptions(raw));
    const body = c.req.raw.body === null ? null : (c.req.raw.body as unknown as AsyncIterable<Uint8Array>);
    const object = await rule(() => r2.bucket(tenant, bucket).put(key, body, options));
    return c.json({ object });
  });

  app.delete(`${BUCKET}/object`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "delete");
    await r2.bucket(tenant, bucket).delete([key]);
    return c.json({});
  });

  app.post(`${BUCKET}/delete`, async (c) => {
    const { tenant, bucket } = target(c);
    const body = await readJson(c);
    const keys = isRecord(body) && Array.isArray(body.keys) ? body.keys : undefined;
    if (keys === undefined || !keys.every((k): k is string => typeof k === "string")) throw originError("ERR_INVALID_REQUEST", "expected { keys: [string, ...] }");
    await rule(() => {
      for (const k of keys) checkR2Key("delete", k);
    });
    await r2.bucket(tenant, bucket).delete(keys);
    return c.json({});
  });

  app.post(`${BUCKET}/uploads`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "createMultipartUpload");
    const given = await rule(() => decodeHeaderJson(R2_HEADERS.put, c.req.header(R2_HEADERS.put)));
    const { httpMetadata, customMetadata, storageClass } = await rule(() => parsePutOptions(given ?? {}));
    return c.json({ uploadId: await r2.bucket(tenant, bucket).createMultipart(key, { httpMetadata, customMetadata, storageClass }) });
  });

  app.put(`${BUCKET}/uploads/:id/parts/:n`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "uploadPart");
    const n = Number(c.req.param("n"));
    const body = c.req.raw.body === null ? null : (c.req.raw.body as unknown as AsyncIterable<Uint8Array>);
    return c.json(await rule(() => r2.bucket(tenant, bucket).uploadPart(key, c.req.param("id") ?? "", n, body)));
  });

  app.post(`${BUCKET}/uploads/:id/complete`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "completeMultipartUpload");
    const body = await readJson(c);
    const parts = isRecord(body) && Array.isArray(body.parts) ? body.parts : undefined;
    if (parts === undefined || !parts.every((p) => isRecord(p) && typeof p.partNumber === "number" && typeof p.etag === "string")) throw originError("ERR_INVALID_REQUEST", "expected { parts: [{ partNumber, etag }, ...] }");
    return c.json({ object: await rule(() => r2.bucket(tenant, bucket).completeMultipart(key, c.req.param("id") ?? "", parts as Array<{ partNumber: number; etag: string }>)) });
  });

  app.delete(`${BUCKET}/uploads/:id`, async (c) => {
    const { tenant, bucket } = target(c);
    const key = await keyOf(c, "abortMultipartUpload");
    await rule(() => r2.bucket(tenant, bucket).abortMultipart(key, c.req.param("id") ?? ""));
    return c.json({});
  });

  return app;
}
