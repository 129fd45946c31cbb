/**
 * Versions: immutable, named by the bundle's sha256 (issue 3). Publishing is
 * one write transaction — bundle bytes, version record, change — so a crash
 * leaves all of it or none, and a retry of the same bundle finds the version
 * already there and returns it unchanged.
 *
 * `POST /v1/tenants/:t/functions/:f/versions`, body: the bundle bytes;
 * headers `x-verge-digest: <hex sha256>` (optional integrity check) and
 * `x-verge-signature: <base64url JSON SignedStatement>` (optional).
 */
import { Hono } from "hono";
import type { FunctionConfig, SigningPolicy, SignatureStatus, VersionInfo } from "../../src/shared/protocol.ts";
import { assetsDigest, markedAssetsDigest } from "../../src/shared/assets/index.ts";
import { digestOf, statementShapeProblem, verifyStatement, type SignedStatement } from "../../src/shared/signing.ts";
import { need, visibleTenant } from "../auth.ts";
import { readBody } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { notFound, originError } from "../errors.ts";
import { appendChange } from "../feed.ts";
import type { ReadTx } from "../store/store.ts";
import { checkBundle } from "../validate/bundle.ts";
import { checkDigest, checkName } from "../validate/names.ts";
import { ensureFunction, getFunction } from "./functions.ts";
import { signingOf } from "./signing.ts";

/** Cache headers for content-addressed bytes: they never change. */
const IMMUTABLE = "private, max-age=31536000, immutable";

function parseSignature(header: string | undefined): SignedStatement | null {
  if (header === undefined || header === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    throw originError("ERR_SIGNATURE_INVALID", "x-verge-signature: expected base64url of a JSON signed statement { statement, signature }");
  }
  const problem = statementShapeProblem(value);
  if (problem !== null) throw originError("ERR_SIGNATURE_INVALID", `x-verge-signature: ${problem}`);
  return value as SignedStatement;
}

/**
 * Judges a signature under the tenant's policy. Integrity (a statement for
 * another digest) is always refused; a bad signature from a trusted key is
 * always refused; missing or untrusted signatures follow the policy.
 */
function judgeSignature(signing: SigningPolicy, signed: SignedStatement | null, expected: { tenant: string; function: string; digest: string }, ctx: OriginContext): { status: SignatureStatus; flagged: boolean } {
  if (signed !== null && signed.statement.digest !== expected.digest) {
    throw originError("ERR_DIGEST_MISMATCH", `the signed statement is for bundle ${signed.statement.digest.slice(0, 12)}… but the uploaded bundle is ${expected.digest.slice(0, 12)}…: the bundle was changed after signing`);
  }
  const key = signed === null ? undefined : signing.keys.find((k) => k.keyId === signed.statement.keyId);
  if (signed !== null && key !== undefined) {
    const check = verifyStatement(signed, key.publicKey, expected, { maxAgeMs: ctx.signatureMaxAgeMs, now: ctx.now() });
    if (check.ok) return { status: "verified", flagged: false };
    throw originError(check.problem === "expired" ? "ERR_SIGNATURE_EXPIRED" : "ERR_SIGNATURE_INVALID", `signature refused: ${check.reason}`);
  }
  const status: SignatureStatus = signed === null ? "unsigned" : "untrusted-key";
  if (signing.policy === "enforce") {
    if (signed === null) throw originError("ERR_SIGNATURE_REQUIRED", `tenant "${expected.tenant}" enforces code signing: sign the bundle (verge publish --key <private key>) with one of its trusted keys`);
    throw originError("ERR_UNTRUSTED_KEY", `key ${signed.statement.keyId.slice(0, 32)} is not a trusted key of tenant "${expected.tenant}"; trusted: [${signing.keys.map((k) => k.keyId).join(", ")}]`);
  }
  return { status, flagged: signing.policy === "warn" };
}

/**
 * A version snapshots the function's config; with static assets, the bundle must name them
 * (its last line, `verge publish` adds it), so the assets a version serves are the ones it was
 * built and signed with, and new assets make a new version.
 */
function checkAssetsMarker(config: FunctionConfig, bytes: Uint8Array, fn: string): void {
  const named = markedAssetsDigest(new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.byteLength - 200))));
  if (config.assets === undefined) {
    if (named !== undefined) throw originError("ERR_INVALID_REQUEST", `the bundle names static assets ${named.slice(0, 12)}… but function "${fn}" has none in its config: set config.assets first (verge publish --config does both)`);
    return;
  }
  const expected = assetsDigest(config.assets);
  if (named !== expected) {
    throw originError("ERR_INVALID_REQUEST", `function "${fn}" has static assets ${expected.slice(0, 12)}… in its config, but the bundle ${named === undefined ? "names none" : `names ${named.slice(0, 12)}…`}: end the bundle with the line "//# verge-assets=${expected}" (verge publish --config adds it)`);
  }
}

export function getVersion(tx: ReadTx, tenant: string, fn: string, digest: string): VersionInfo {
  const v = tx.get<VersionInfo>("versions", `${tenant}/${fn}/${checkDigest(digest)}`);
  if (v === undefined) throw notFound(`version ${digest.slice(0, 12)}… of function "${fn}"`);
  return v;
}

export function versionRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.post("/tenants/:tenant/functions/:fn/versions", async (c) => {
    const p = c.get("principal");
    need(p, "publish");
    const fnName = checkName("function", c.req.param("fn"));
    // Check the tenant before reading a large body.
    const tenant = ctx.store.read((tx) => visibleTenant(tx, p, c.req.param("tenant")));
    try {
      const bytes = await readBody(c, ctx.maxBundleBytes, "ERR_BUNDLE_TOO_LARGE", "the bundle");
      if (bytes.byteLength === 0) throw originError("ERR_BUNDLE_SYNTAX", "the bundle is empty: send the bundle's bytes as the request body");
      const digest = digestOf(bytes);
      const claimed = c.req.header("x-verge-digest")?.replace(/^sha256[=:]/, "");
      if (claimed !== undefined && claimed !== digest) {
        throw originError("ERR_DIGEST_MISMATCH", `x-verge-digest says ${claimed.slice(0, 64)} but the received bundle's sha256 is ${digest}: the bundle was changed or cut in transit`);
      }
      const signed = parseSignature(c.req.header("x-verge-signature"));
      const { dialect } = checkBundle(bytes);
      const result = await ctx.write((tx) => {
        visibleTenant(tx, p, tenant);
        const existing = tx.get<VersionInfo>("versions", `${tenant}/${fnName}/${digest}`);
        if (existing !== undefined) return { version: existing, created: false };
        const judged = judgeSignature(signingOf(tx, tenant), signed, { tenant, function: fnName, digest }, ctx);
        const at = ctx.iso();
        const fn = ensureFunction(tx, tenant, fnName, at);
        checkAssetsMarker(fn.config, bytes, fnName);
        const version: VersionInfo = {
          tenant,
          function: fnName,
          digest,
          size: bytes.byteLength,
          dialect,
          config: fn.config,
          publisher: { tokenId: p.tokenId, name: p.name },
          createdAt: at,
          signature: signed,
          signatureStatus: judged.status,
          flagged: judged.flagged,
        };
        if (tx.getBundle(digest) === undefined) tx.putBundle(digest, bytes);
        tx.put("versions", `${tenant}/${fnName}/${digest}`, version);
        appendChange(tx, { tenant, kind: "version", key: `${fnName}/${digest}`, op: "put", value: version }, at);
        return { version, created: true };
      });
      ctx.metrics.publishes[result.created ? "created" : "existing"]++;
      if (result.version.flagged) ctx.log(`publish ${tenant}/${fnName}@${digest.slice(0, 12)} flagged: signature ${result.version.signatureStatus} under policy warn`);
      c.header("location", `/v1/tenants/${tenant}/functions/${fnName}/versions/${digest}`);
      return c.json(result.version, result.created ? 201 : 200);
    } catch (err) {
      ctx.metrics.publishes.refused++;
      throw err;
    }
  });

  app.get("/tenants/:tenant/functions/:fn/versions", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const versions = ctx.store.read((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const fn = getFunction(tx, tenant, c.req.param("fn"));
      return tx.range<VersionInfo>("versions", { prefix: `${tenant}/${fn.name}/` }).map((e) => e.value);
    });
    versions.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return c.json({ versions });
  });

  app.get("/tenants/:tenant/functions/:fn/versions/:digest", (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json(ctx.store.read((tx) => getVersion(tx, visibleTenant(tx, p, c.req.param("tenant")), checkName("function", c.req.param("fn")), c.req.param("digest"))));
  });

  /** The bundle bytes of one of the tenant's versions. */
  app.get("/tenants/:tenant/functions/:fn/versions/:digest/bundle", (c) => {
    const p = c.get("principal");
    need(p, "read");
    const bytes = ctx.store.read((tx) => {
      const v = getVersion(tx, visibleTenant(tx, p, c.req.param("tenant")), checkName("function", c.req.param("fn")), c.req.param("digest"));
      return tx.getBundle(v.digest);
    });
    if (bytes === undefined) throw originError("ERR_INTERNAL", "the version exists but its bundle does not");
    return bundleResponse(c.req.param("digest"), bytes, c.req.header("if-none-match"));
  });

  /** Bundles by digest for edge nodes (node scope): any tenant's. */
  app.get("/bundles/:digest", (c) => {
    need(c.get("principal"), "node");
    const digest = checkDigest(c.req.param("digest"));
    const bytes = ctx.store.read((tx) => tx.getBundle(digest));
    if (bytes === undefined) throw notFound(`bundle ${digest.slice(0, 12)}…`);
    return bundleResponse(digest, bytes, c.req.header("if-none-match"));
  });

  return app;
}

function bundleResponse(digest: string, bytes: Uint8Array, ifNoneMatch: string | undefined): Response {
  const etag = `"${digest}"`;
  const headers = { "cache-control": IMMUTABLE, etag, "x-verge-digest": digest };
  if (ifNoneMatch === etag) return new Response(null, { status: 304, headers });
  return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { ...headers, "content-type": "text/javascript; charset=utf-8", "content-length": String(bytes.byteLength) } });
}
