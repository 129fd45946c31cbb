/**
 * The security list of issue 3: each hostile or mistaken request gets the
 * right status and a clear `{ error: { code, message, requestId } }`, and
 * stores nothing (the feed head, the snapshot and the bundle store are unchanged).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createStatement, digestOf, generateSigningKeyPair, signStatement } from "../src/shared/signing.ts";
import { bundle, startTestOrigin, type Reply, type TestOrigin } from "./testing/harness.ts";

let origin: TestOrigin;
let acme: string;
let other: string;
let node: string;
const keys = generateSigningKeyPair();
const MAX = 64 * 1024;

before(async () => {
  origin = await startTestOrigin({ maxBundleBytes: MAX, signatureMaxAgeMs: 60_000 });
  acme = await origin.tenant("acme");
  other = await origin.tenant("other");
  node = await origin.token(null, ["node"]);
  await origin.call("PUT", "/v1/tenants/acme/functions/fn", { token: acme, json: { config: {} } });
  await origin.call("POST", "/v1/tenants/acme/signing/keys", { token: acme, json: { publicKey: keys.publicKey } });
  const enforce = await origin.call("PUT", "/v1/tenants/acme/signing/policy", { token: acme, json: { policy: "enforce" } });
  assert.equal(enforce.status, 200);
});
after(() => origin.close());

const sig = (s: unknown) => Buffer.from(JSON.stringify(s)).toString("base64url");
const statement = (code: string, over: Record<string, unknown> = {}) => createStatement({ tenant: "acme", function: "fn", digest: digestOf(code), keyId: keys.keyId, ...over } as never);
const publish = (token: string, code: string, headers: Record<string, string> = {}, path = "/v1/tenants/acme/functions/fn/versions") =>
  origin.call("POST", path, { token, body: code, headers: { "content-type": "text/javascript", ...headers } });

/** Everything a write could have touched. */
async function state(): Promise<string> {
  const snap = await origin.call("GET", "/v1/snapshot", { token: node });
  const tokens = await origin.call("GET", "/v1/tokens");
  return JSON.stringify([snap.body, tokens.body.tokens.length]);
}

async function expectRefused(name: string, request: () => Promise<Reply>, status: number, code: string, message: RegExp, bundleCode?: string): Promise<void> {
  const before = await state();
  const r = await request();
  assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
  assert.deepEqual(Object.keys(r.body), ["error"], name);
  assert.equal(r.body.error.code, code, name);
  assert.match(r.body.error.message, message, name);
  assert.equal(r.body.error.requestId, r.headers.get("x-verge-request-id"), name);
  assert.equal(await state(), before, `${name}: stored nothing`);
  if (bundleCode !== undefined) {
    const b = await origin.call("GET", `/v1/bundles/${digestOf(bundleCode)}`, { token: node });
    assert.equal(b.status, 404, `${name}: no bundle stored`);
  }
}

test("a signed publish passes, to show the refusals below are for their reason", async () => {
  const code = bundle("good");
  const r = await publish(acme, code, { "x-verge-signature": sig(signStatement(statement(code), keys.privateKey)) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

test("authentication and scopes", async () => {
  await expectRefused("no token", () => origin.call("GET", "/v1/tenants/acme/functions", { token: null }), 401, "ERR_UNAUTHORIZED", /Authorization: Bearer/);
  await expectRefused("unknown token", () => origin.call("GET", "/v1/tenants/acme/functions", { token: "vrg_nope" }), 401, "ERR_UNAUTHORIZED", /not valid/);
  const doomed = await origin.token("acme", ["publish"]);
  const list = await origin.call("GET", "/v1/tokens", { token: acme });
  const id = list.body.tokens.find((t: { name: string; revokedAt: string | null }) => t.name === "test publish" && t.revokedAt === null).id;
  assert.equal((await origin.call("DELETE", `/v1/tokens/${id}`, { token: acme })).status, 200);
  const code = bundle("revoked");
  await expectRefused("revoked token", () => publish(doomed, code), 401, "ERR_TOKEN_REVOKED", /was revoked/, code);
  const reader = await origin.token("acme", ["read"]);
  await expectRefused("missing scope", () => publish(reader, code), 403, "ERR_MISSING_SCOPE", /lacks the "publish" scope/, code);
  await expectRefused("tenant token creating tenants", () => origin.call("POST", "/v1/tenants", { token: acme, json: { name: "evil" } }), 403, "ERR_MISSING_SCOPE", /operator/);
});

test("another tenant's names answer 404, for reads and writes", async () => {
  const code = bundle("cross");
  await expectRefused("read other tenant", () => origin.call("GET", "/v1/tenants/acme/functions/fn", { token: other }), 404, "ERR_NOT_FOUND", /tenant "acme" not found/);
  await expectRefused("publish into other tenant", () => publish(other, code), 404, "ERR_NOT_FOUND", /tenant "acme" not found/, code);
  await expectRefused("alias in other tenant", () => origin.call("PUT", "/v1/tenants/acme/functions/fn/aliases/x", { token: other, json: { version: digestOf(bundle("good")) } }), 404, "ERR_NOT_FOUND", /not found/);
  await expectRefused("token for other tenant", () => origin.call("POST", "/v1/tokens", { token: other, json: { tenant: "acme", scopes: ["admin"] } }), 404, "ERR_NOT_FOUND", /tenant "acme"/);
  const missing = await origin.call("GET", "/v1/tenants/nosuch/functions", { token: other });
  assert.deepEqual([missing.status, missing.body.error.message], [404, 'tenant "nosuch" not found'], "same answer as for a tenant that exists");
});

test("signing: unsigned under enforce, tampered bundle, wrong key, expired or replayed statements", async () => {
  const code = bundle("s1");
  await expectRefused("unsigned under enforce", () => publish(acme, code), 403, "ERR_SIGNATURE_REQUIRED", /enforces code signing/, code);
  const tampered = code.replace("s1", "s2");
  await expectRefused("tampered bundle", () => publish(acme, tampered, { "x-verge-signature": sig(signStatement(statement(code), keys.privateKey)) }), 400, "ERR_DIGEST_MISMATCH", /changed after signing/, tampered);
  await expectRefused("digest header mismatch", () => publish(acme, tampered, { "x-verge-digest": digestOf(code) }), 400, "ERR_DIGEST_MISMATCH", /changed or cut in transit/, tampered);
  const stranger = generateSigningKeyPair();
  await expectRefused("untrusted key", () => publish(acme, code, { "x-verge-signature": sig(signStatement(statement(code, { keyId: stranger.keyId }), stranger.privateKey)) }), 403, "ERR_UNTRUSTED_KEY", /not a trusted key/, code);
  await expectRefused("trusted key id, wrong private key", () => publish(acme, code, { "x-verge-signature": sig(signStatement(statement(code), stranger.privateKey)) }), 400, "ERR_SIGNATURE_INVALID", /does not verify/, code);
  const old = statement(code, { time: new Date(Date.now() - 3_600_000).toISOString() });
  await expectRefused("expired statement", () => publish(acme, code, { "x-verge-signature": sig(signStatement(old, keys.privateKey)) }), 400, "ERR_SIGNATURE_EXPIRED", /older than 60 s/, code);
  await expectRefused("statement for another function", () => publish(acme, code, { "x-verge-signature": sig(signStatement(statement(code, { function: "other" }), keys.privateKey)) }), 400, "ERR_SIGNATURE_INVALID", /statement\.function/, code);
  await expectRefused("garbage signature header", () => publish(acme, code, { "x-verge-signature": "!!!" }), 400, "ERR_SIGNATURE_INVALID", /x-verge-signature/, code);
});

test("names: longer than LMDB's key limit, path traversal, odd characters", async () => {
  const long = "a".repeat(2000);
  const code = bundle("names");
  await expectRefused("long function name", () => publish(acme, code, {}, `/v1/tenants/acme/functions/${long}/versions`), 400, "ERR_INVALID_NAME", /function name "a{40}…" \(2000 chars\) is invalid/, code);
  await expectRefused("long tenant name", () => origin.call("POST", "/v1/tenants", { json: { name: long } }), 400, "ERR_INVALID_NAME", /tenant name/);
  await expectRefused("long alias name", () => origin.call("PUT", `/v1/tenants/acme/functions/fn/aliases/${long}`, { token: acme, json: { version: digestOf(bundle("good")) } }), 400, "ERR_INVALID_NAME", /alias name/);
  await expectRefused("long distribution name", () => origin.call("PUT", `/v1/tenants/acme/distributions/${long}`, { token: acme, json: {} }), 400, "ERR_INVALID_NAME", /distribution name/);
  await expectRefused("long secret name", () => origin.call("PUT", `/v1/tenants/acme/functions/fn/secrets/${long}`, { token: acme, json: { value: "x" } }), 400, "ERR_INVALID_REQUEST", /invalid secret name/);
  await expectRefused("traversal", () => publish(acme, code, {}, "/v1/tenants/acme/functions/..%2F..%2Fetc/versions"), 400, "ERR_INVALID_NAME", /"\.\.\/\.\.\/etc"/, code);
  await expectRefused("NUL", () => origin.call("PUT", "/v1/tenants/acme/functions/a%00b", { token: acme, json: {} }), 400, "ERR_INVALID_NAME", /function name/);
  await expectRefused("uppercase and dots", () => origin.call("PUT", "/v1/tenants/acme/functions/Fn.js", { token: acme, json: {} }), 400, "ERR_INVALID_NAME", /lowercase/);
  await expectRefused("bad digest", () => origin.call("GET", "/v1/tenants/acme/functions/fn/versions/..%2Fx", { token: acme }), 400, "ERR_INVALID_NAME", /sha256/);
});

test("oversized bundles are refused, with or without a content-length", async () => {
  const big = `export default { fetch() {} };\n//${"x".repeat(MAX)}`;
  await expectRefused("declared too large", () => publish(acme, big), 413, "ERR_BUNDLE_TOO_LARGE", new RegExp(`limit is ${MAX} bytes`), big);
  const streamed = async (): Promise<Reply> => {
    const bytes = new TextEncoder().encode(big);
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const res = await fetch(`${origin.url}/v1/tenants/acme/functions/fn/versions`, { method: "POST", body, duplex: "half", headers: { authorization: `Bearer ${acme}` } } as RequestInit);
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
  await expectRefused("chunked too large", streamed, 413, "ERR_BUNDLE_TOO_LARGE", /over the limit/, big);
});

test("malformed JSON and bad documents", async () => {
  const raw = (body: string) => () => origin.call("PUT", "/v1/tenants/acme/functions/fn", { token: acme, body, headers: { "content-type": "application/json" } });
  await expectRefused("malformed JSON", raw(`{"config": {"env": {"A": "hunter2"`), 400, "ERR_INVALID_JSON", /not valid JSON/);
  const r = await raw(`{"config": {"env": {"A": "hunter2"`)();
  assert.ok(!r.body.error.message.includes("hunter2"), "the body is not echoed");
  await expectRefused("empty body", raw(""), 400, "ERR_INVALID_JSON", /empty body/);
  await expectRefused("JSON array", raw("[]"), 400, "ERR_INVALID_REQUEST", /body: expected an object/);
  await expectRefused("bundle that does not parse", () => publish(acme, "export default {"), 400, "ERR_BUNDLE_SYNTAX", /does not parse as an ES module/);
  await expectRefused("bundle without handler", () => origin.call("POST", "/v1/tenants/other/functions/f/versions", { token: other, body: "export const x = 1;" }), 400, "ERR_NO_HANDLER", /found exports \[x\]/);
  await expectRefused("unknown route", () => origin.call("GET", "/v1/nothing", { token: acme }), 404, "ERR_NOT_FOUND", /no route/);
});
