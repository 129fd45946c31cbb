/**
 * Static assets: content-addressed blobs (sha256), uploaded per tenant, named
 * by functions' `config.assets` manifests, fetched by edge nodes.
 *
 * - `POST /v1/tenants/:t/assets/missing` `{ hashes }` -> `{ missing }`: what the
 *   tenant has not uploaded (publish scope), so a publish sends only new files.
 *   The answer is per tenant: whether another tenant has a file is never told.
 * - `PUT /v1/tenants/:t/assets/:hash`, body the bytes (at most 25 MiB): the
 *   sha256 is checked on receipt (`ERR_DIGEST_MISMATCH`); the bytes are stored
 *   once for every tenant, the tenant's upload recorded. Idempotent.
 * - `GET /v1/assets/:hash` (node scope): the bytes, for edge nodes.
 *
 * A function's config may name only files its tenant uploaded
 * ({@link missingAssets}, checked in the config's write transaction).
 */
import { Hono } from "hono";
import { createHash } from "node:crypto";
import { MAX_ASSET_BYTES, MAX_ASSET_COUNT, isAssetHash, type AssetManifest, type AssetsMissingResult } from "../../src/shared/assets/index.ts";
import type { FieldDiagnostic } from "../../src/shared/protocol.ts";
import { need, visibleTenant } from "../auth.ts";
import { readBody, readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, notFound, originError } from "../errors.ts";
import type { ReadTx } from "../store/store.ts";
import { preview } from "../validate/names.ts";

/** Content-addressed bytes never change. */
const IMMUTABLE = "private, max-age=31536000, immutable";

function checkHash(value: string): string {
  if (!isAssetHash(value)) throw originError("ERR_INVALID_NAME", `asset ${preview(value)} is invalid: expected its lowercase hex sha256 (64 characters)`);
  return value;
}

/** Files of `manifest` the tenant has not uploaded, as diagnostics at their paths (the first 20). */
export function missingAssets(tx: ReadTx, tenant: string, manifest: AssetManifest): FieldDiagnostic[] {
  const out: FieldDiagnostic[] = [];
  for (const [path, entry] of Object.entries(manifest)) {
    if (tx.get("assets", `${tenant}/${entry.hash}`) !== undefined) continue;
    if (out.length === 20) {
      out.push({ path: "config.assets.manifest", message: "more files are missing than listed" });
      break;
    }
    out.push({ path: `config.assets.manifest[${JSON.stringify(path.slice(0, 80))}]`, message: `not uploaded: PUT /v1/tenants/${tenant}/assets/${entry.hash} with the file's bytes first` });
  }
  return out;
}

export function assetRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.post("/tenants/:tenant/assets/missing", async (c) => {
    const p = c.get("principal");
    need(p, "publish");
    const body = (await readJson(c)) as { hashes?: unknown } | null;
    const hashes = body !== null && typeof body === "object" ? body.hashes : undefined;
    if (!Array.isArray(hashes) || hashes.length > MAX_ASSET_COUNT || !hashes.every(isAssetHash)) {
      throw invalid("ERR_INVALID_REQUEST", "the asset list", [{ path: "hashes", message: `expected an array of at most ${MAX_ASSET_COUNT} lowercase hex sha256 strings` }]);
    }
    const missing = ctx.store.read((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      return [...new Set(hashes)].filter((h) => tx.get("assets", `${tenant}/${h}`) === undefined);
    });
    return c.json({ missing } satisfies AssetsMissingResult);
  });

  app.put("/tenants/:tenant/assets/:hash", async (c) => {
    const p = c.get("principal");
    need(p, "publish");
    const hash = checkHash(c.req.param("hash"));
    // Check the tenant before reading a large body.
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    const bytes = await readBody(c, MAX_ASSET_BYTES, "ERR_BODY_TOO_LARGE", "the asset (25 MiB at most, Cloudflare's limit per file)");
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== hash) throw originError("ERR_DIGEST_MISMATCH", `the URL names asset ${hash} but the received bytes' sha256 is ${actual}: the file was changed or cut in transit`);
    const created = await ctx.write((tx) => {
      visibleTenant(tx, p, tenant);
      if (tx.get("assets", `${tenant}/${hash}`) !== undefined) return false;
      if (tx.getBlob(hash) === undefined) tx.putBlob(hash, bytes);
      tx.put("assets", `${tenant}/${hash}`, { size: bytes.byteLength, at: ctx.iso() });
      return true;
    });
    return c.json({ hash, size: bytes.byteLength }, created ? 201 : 200);
  });

  /** Asset bytes by hash for edge nodes (node scope): any tenant's. */
  app.get("/assets/:hash", (c) => {
    need(c.get("principal"), "node");
    const hash = checkHash(c.req.param("hash"));
    const bytes = ctx.store.read((tx) => tx.getBlob(hash));
    if (bytes === undefined) throw notFound(`asset ${hash.slice(0, 12)}…`);
    return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "cache-control": IMMUTABLE, etag: `"${hash}"`, "content-type": "application/octet-stream", "content-length": String(bytes.byteLength) } });
  });

  return app;
}
