/** Purges (`POST …/distributions/:d/purge`): validated, scoped, a `purge` change in the feed. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { applyChange, type Change, type Snapshot } from "../src/shared/protocol.ts";
import { bundle, startTestOrigin, type TestOrigin } from "./testing/harness.ts";

let origin: TestOrigin;
let acme: string;
before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme");
  const v = await origin.call("POST", "/v1/tenants/acme/functions/edge/versions", { token: acme, body: bundle("purge") });
  assert.equal(v.status, 201);
  const d = await origin.call("PUT", "/v1/tenants/acme/distributions/site", {
    token: acme,
    json: { hostnames: ["purge.example.com"], origins: [{ id: "web", url: "http://127.0.0.1:3000" }], defaultBehavior: { originId: "web" }, behaviors: [] },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
});
after(() => origin.close());

const purge = (json: unknown, token: string | null = acme, name = "site", tenant = "acme") => origin.call("POST", `/v1/tenants/${tenant}/distributions/${name}/purge`, { token, json });

test("a purge by prefix and one by tag are changes in the feed, keyed distribution/id", async () => {
  const node = await origin.token(null, ["node"]);
  const before: Snapshot = (await origin.call("GET", "/v1/snapshot", { token: node })).body;
  const byPrefix = await purge({ prefix: "/images/" });
  assert.equal(byPrefix.status, 202, JSON.stringify(byPrefix.body));
  assert.equal(byPrefix.body.seq, before.seq + 1);
  assert.equal(byPrefix.headers.get("x-verge-seq"), String(byPrefix.body.seq));
  const p = byPrefix.body.purge;
  assert.equal(p.distribution, "site");
  assert.equal(p.prefix, "/images/");
  assert.equal(p.tag, undefined);
  assert.match(p.id, /^[0-9a-f]{16}$/);
  assert.ok(!Number.isNaN(Date.parse(p.at)));
  assert.equal(p.by, "test admin");
  const byTag = await purge({ tag: "product-42" });
  assert.equal(byTag.status, 202);
  assert.notEqual(byTag.body.purge.id, p.id);

  const page = (await origin.call("GET", `/v1/feed?since=${before.seq}`, { token: node })).body as { changes: Change[] };
  assert.deepEqual(
    page.changes.map((c) => [c.seq, c.kind, c.key, c.op, c.tenant]),
    [
      [before.seq + 1, "purge", `site/${p.id}`, "put", "acme"],
      [before.seq + 2, "purge", `site/${byTag.body.purge.id}`, "put", "acme"],
    ],
  );
  assert.deepEqual(page.changes[0]!.value, p);
  // Not state: a follower's state is unchanged but for the seq.
  const state = structuredClone(before);
  for (const c of page.changes) applyChange(state, c);
  assert.deepEqual(state, { ...before, seq: before.seq + 2 });
  const after: Snapshot = (await origin.call("GET", "/v1/snapshot", { token: node })).body;
  assert.deepEqual(after, state);
  // Which nodes applied it, like any change.
  const status = await origin.call("GET", `/v1/changes/${byTag.body.seq}`, { token: acme });
  assert.equal(status.body.change.kind, "purge");
});

test("purge input is validated with field diagnostics", async () => {
  const cases: Array<[unknown, string[]]> = [
    [{}, ["prefix"]],
    [{ prefix: "/a", tag: "b" }, ["tag"]],
    [{ prefix: "images/" }, ["prefix"]],
    [{ prefix: "/has space" }, ["prefix"]],
    [{ tag: "" }, ["tag"]],
    [{ tag: "a,b" }, ["tag"]],
    [{ tag: 42 }, ["tag"]],
    [{ prefix: "/", extra: true }, ["extra"]],
    [[], ["body"]],
  ];
  for (const [json, paths] of cases) {
    const r = await purge(json);
    assert.equal(r.status, 400, JSON.stringify(json));
    assert.equal(r.body.error.code, "ERR_INVALID_REQUEST");
    assert.deepEqual(r.body.error.details.diagnostics.map((d: { path: string }) => d.path), paths, JSON.stringify(json));
    assert.match(r.body.error.message, /purge of distribution "site"/);
  }
  const notJson = await origin.call("POST", "/v1/tenants/acme/distributions/site/purge", { token: acme, body: "{", headers: { "content-type": "application/json" } });
  assert.equal(notJson.body.error.code, "ERR_INVALID_JSON");
});

test("unknown distributions answer 404; purging needs the deploy scope in the tenant", async () => {
  const missing = await purge({ prefix: "/" }, acme, "nope");
  assert.equal(missing.status, 404);
  assert.match(missing.body.error.message, /distribution "nope" in tenant "acme" not found/);
  const publisher = await origin.token("acme", ["publish", "read"]);
  assert.equal((await purge({ prefix: "/" }, publisher)).body.error.code, "ERR_MISSING_SCOPE");
  const deployer = await origin.token("acme", ["deploy"]);
  assert.equal((await purge({ prefix: "/" }, deployer)).status, 202);
  const other = await origin.tenant("other");
  const foreign = await purge({ prefix: "/" }, other);
  assert.equal(foreign.status, 404, "another tenant's distribution looks missing");
  const node = await origin.token(null, ["node"]);
  assert.equal((await purge({ prefix: "/" }, node)).body.error.code, "ERR_MISSING_SCOPE");
  assert.equal((await purge({ prefix: "/" }, null)).status, 401);
});
