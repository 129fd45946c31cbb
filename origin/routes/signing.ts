/** Code-signing policy and trusted publisher keys, per tenant (admin scope). */
import { Hono } from "hono";
import type { SigningPolicy, SigningPolicyMode } from "../../src/shared/protocol.ts";
import { keyIdOf, parsePublicKey } from "../../src/shared/signing.ts";
import { need, visibleTenant } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid, notFound, originError } from "../errors.ts";
import { appendChange } from "../feed.ts";
import type { ReadTx, WriteTx } from "../store/store.ts";
import { Diagnostics } from "../validate/fields.ts";

const MODES: readonly SigningPolicyMode[] = ["off", "warn", "enforce"];

export function signingOf(tx: ReadTx, tenant: string): SigningPolicy {
  return tx.get<SigningPolicy>("signing", tenant) ?? { tenant, policy: "off", keys: [] };
}

function putSigning(tx: WriteTx, s: SigningPolicy, at: string): void {
  tx.put("signing", s.tenant, s);
  appendChange(tx, { tenant: s.tenant, kind: "signing", key: s.tenant, op: "put", value: s }, at);
}

export function signingRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  app.get("/tenants/:tenant/signing", (c) => {
    const p = c.get("principal");
    need(p, "read");
    return c.json(ctx.store.read((tx) => signingOf(tx, visibleTenant(tx, p, c.req.param("tenant")))));
  });

  /** `{ policy: "off" | "warn" | "enforce" }` */
  app.put("/tenants/:tenant/signing/policy", async (c) => {
    const p = c.get("principal");
    need(p, "admin");
    const body = await readJson(c);
    const d = new Diagnostics();
    const obj = d.object("body", body) ?? {};
    d.known("", obj, ["policy"]);
    if (!MODES.includes(obj.policy as SigningPolicyMode)) d.add("policy", `expected "off", "warn" or "enforce", found ${JSON.stringify(obj.policy) ?? "nothing"}`);
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", "signing policy", d.list);
    const next = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const s = { ...signingOf(tx, tenant), policy: obj.policy as SigningPolicyMode };
      if (s.policy === "enforce" && s.keys.length === 0) throw originError("ERR_INVALID_REQUEST", `tenant "${tenant}" has no trusted key: add one (POST .../signing/keys) before enforcing`);
      putSigning(tx, s, ctx.iso());
      return s;
    });
    return c.json(next);
  });

  /** `{ publicKey: <raw base64url | base64 | SPKI PEM>, name? }` */
  app.post("/tenants/:tenant/signing/keys", async (c) => {
    const p = c.get("principal");
    need(p, "admin");
    const body = await readJson(c);
    const d = new Diagnostics();
    const obj = d.object("body", body) ?? {};
    d.known("", obj, ["publicKey", "name"]);
    // A private key PEM would parse (its public half is derivable) but must not be accepted, or it
    // becomes the usual way to trust a key: it says so, and never echoes the key.
    const isPrivate = typeof obj.publicKey === "string" && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(obj.publicKey);
    const raw = typeof obj.publicKey === "string" && !isPrivate ? parsePublicKey(obj.publicKey) : null;
    if (isPrivate) d.add("publicKey", "expected an Ed25519 public key, found a private key PEM: send only the public key (verge keys generate prints it) and keep the private key with the publisher");
    else if (raw === null) d.add("publicKey", "expected an Ed25519 public key: 32 raw bytes as base64url/base64, or SPKI PEM");
    const name = obj.name === undefined ? "key" : d.string("name", obj.name, /^[\x20-\x7e]{1,64}$/, "a printable name of at most 64 characters");
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", "signing key", d.list);
    const result = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const s = signingOf(tx, tenant);
      const keyId = keyIdOf(raw!);
      const found = s.keys.find((k) => k.keyId === keyId);
      if (found !== undefined) return { key: found, created: false };
      const key = { keyId, publicKey: raw!, name: name!, addedAt: ctx.iso() };
      putSigning(tx, { ...s, keys: [...s.keys, key] }, key.addedAt);
      return { key, created: true };
    });
    return c.json(result.key, result.created ? 201 : 200);
  });

  app.delete("/tenants/:tenant/signing/keys/:keyId", async (c) => {
    const p = c.get("principal");
    need(p, "admin");
    const keyId = c.req.param("keyId");
    const next = await ctx.write((tx) => {
      const tenant = visibleTenant(tx, p, c.req.param("tenant"));
      const s = signingOf(tx, tenant);
      if (!s.keys.some((k) => k.keyId === keyId)) throw notFound(`key "${keyId.slice(0, 32)}" of tenant "${tenant}"`);
      const keys = s.keys.filter((k) => k.keyId !== keyId);
      if (s.policy === "enforce" && keys.length === 0) throw originError("ERR_INVALID_REQUEST", `removing the last trusted key of tenant "${tenant}" while it enforces signing would refuse every publish: set the policy to warn or off first`);
      putSigning(tx, { ...s, keys }, ctx.iso());
      return { ...s, keys };
    });
    return c.json(next);
  });

  return app;
}
