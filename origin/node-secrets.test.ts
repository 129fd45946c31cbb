/** Secret values for edge nodes (`GET …/secrets/values`): node tokens only, values never logged or shown elsewhere. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startTestOrigin, type TestOrigin } from "./testing/harness.ts";

let origin: TestOrigin;
let acme: string;
const VALUE = "s3cr3t-value-for-node-test";
before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme");
  assert.equal((await origin.call("PUT", "/v1/tenants/acme/functions/auth", { token: acme, json: { config: { env: { MODE: "prod" } } } })).status, 201);
  for (const [name, value] of [["API_KEY", VALUE], ["DB_PASSWORD", "another value ✓"]]) {
    assert.equal((await origin.call("PUT", `/v1/tenants/acme/functions/auth/secrets/${name}`, { token: acme, json: { value } })).status, 200);
  }
});
after(() => origin.close());

const values = (token: string | null, tenant = "acme", fn = "auth") => origin.call("GET", `/v1/tenants/${tenant}/functions/${fn}/secrets/values`, { token });

test("a node token reads the plain values of any tenant's function", async () => {
  const node = await origin.token(null, ["node"]);
  const r = await values(node);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { tenant: "acme", function: "auth", secrets: { API_KEY: VALUE, DB_PASSWORD: "another value ✓" } });
  assert.equal(r.headers.get("cache-control"), "no-store");
  assert.ok(!origin.logs.some((l) => l.includes(VALUE)), "values never logged");

  await origin.call("PUT", "/v1/tenants/acme/functions/plain", { token: acme, json: {} });
  assert.deepEqual((await values(node, "acme", "plain")).body.secrets, {});
  // A deleted secret is gone from the values too.
  await origin.call("DELETE", "/v1/tenants/acme/functions/auth/secrets/DB_PASSWORD", { token: acme });
  assert.deepEqual((await values(node)).body.secrets, { API_KEY: VALUE });
  await origin.call("PUT", "/v1/tenants/acme/functions/auth/secrets/DB_PASSWORD", { token: acme, json: { value: "another value ✓" } });
});

test("every other token is refused: tenant admin, operator admin, read; unknown names are 404", async () => {
  for (const token of [acme, await origin.token("acme", ["read", "publish", "deploy"]), await origin.token(null, ["admin"]), await origin.token(null, ["read"])]) {
    const r = await values(token);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, "ERR_MISSING_SCOPE");
    assert.ok(!JSON.stringify(r.body).includes(VALUE));
  }
  assert.equal((await values(null)).status, 401);
  const node = await origin.token(null, ["node"]);
  assert.equal((await values(node, "acme", "ghost")).status, 404);
  assert.equal((await values(node, "nobody", "auth")).status, 404);
  assert.equal((await values(node, "acme", "Bad Name")).body.error.code, "ERR_INVALID_NAME");
  // A tenant token cannot be given the node scope.
  const tok = await origin.call("POST", "/v1/tokens", { token: acme, json: { tenant: "acme", scopes: ["node"], name: "sneaky" } });
  assert.equal(tok.status, 400);
});

test("a registry with another secret key fails without leaking anything", async () => {
  const first = await startTestOrigin({ keepDir: true });
  await first.tenant("acme");
  await first.call("PUT", "/v1/tenants/acme/functions/auth", { json: {} });
  assert.equal((await first.call("PUT", "/v1/tenants/acme/functions/auth/secrets/API_KEY", { json: { value: VALUE } })).status, 200);
  const node = await first.token(null, ["node"]);
  await first.close();
  const second = await startTestOrigin({ dataDir: first.dataDir, secretKey: "a-different-key" });
  try {
    const r = await second.call("GET", "/v1/tenants/acme/functions/auth/secrets/values", { token: node });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, "ERR_INTERNAL");
    const all = JSON.stringify(r.body) + second.logs.join("\n");
    assert.ok(!all.includes(VALUE));
    assert.ok(second.logs.some((l) => l.includes("cannot be opened")), second.logs.join("\n"));
  } finally {
    await second.close();
  }
});
