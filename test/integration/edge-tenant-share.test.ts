/**
 * A tenant's share of an edge node's isolates (maxIsolatesPerTenant), over real HTTP: tenant
 * acme's long requests hold every isolate of its share (each waits on an origin that answers
 * when the test says), its next request is answered 503 ERR_TENANT_THROTTLED with a log line,
 * and tenant beta's request on the same node is answered 200, from the room acme could not take.
 * /_verge/metrics shows the isolates and the refusal per tenant.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { startFleet, startWebOrigin, type Fleet, type TestWebOrigin } from "../helpers/fleet.ts";
import { until } from "../helpers/until.ts";

let fleet: Fleet;
let origin: TestWebOrigin;
const held: ServerResponse[] = [];
const logs: Array<Record<string, unknown>> = [];

/** Passes the request on to the origin: the invocation (and its isolate) lasts until the origin answers. */
const PASS = `export default { fetch: (request) => fetch(request) };`;
const HELLO = `export default { fetch: () => new Response("beta answered") };`;

before(async () => {
  origin = await startWebOrigin((req, res) => {
    if (req.url?.startsWith("/hold/")) held.push(res);
    else res.writeHead(200, { "cache-control": "no-store" }).end(`origin ${req.url}`);
  });
  // 3 isolates in the node's one process, at most 2 of them one tenant's.
  fleet = await startFleet({ nodes: 1, nodeOptions: () => ({ maxIsolates: 3, maxIsolatesPerTenant: 2, log: (line) => void logs.push(line as Record<string, unknown>) }) });
  await fleet.publish("pass", PASS);
  const behavior = (fn: string) => ({ originId: "web", functions: { "viewer-request": { function: fn, alias: "live", includeBody: false } } });
  await fleet.distribution("site", {
    hostnames: ["acme.test"],
    origins: [{ id: "web", url: origin.url, connectTimeoutMs: 1000, readTimeoutMs: 30_000 }],
    behaviors: [],
    defaultBehavior: behavior("pass"),
  });
  // A second tenant, through the registry's API as its own token.
  const registry = fleet.registry;
  const beta = { token: await registry.tenant("beta", ["publish", "deploy", "read", "admin"]) };
  for (const [method, path, options] of [
    ["PUT", "/v1/tenants/beta/functions/hello", { json: { config: {} } }],
    ["POST", "/v1/tenants/beta/functions/hello/versions", { body: new TextEncoder().encode(HELLO), headers: { "content-type": "text/javascript" } }],
  ] as const) {
    const r = await registry.call(method, path, { ...beta, ...options });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    if (method === "POST") {
      const a = await registry.call("PUT", "/v1/tenants/beta/functions/hello/aliases/live", { ...beta, json: { version: r.body.digest } });
      assert.ok(a.status < 300, JSON.stringify(a.body));
    }
  }
  const d = await registry.call("PUT", "/v1/tenants/beta/distributions/site", {
    ...beta,
    json: { hostnames: ["beta.test"], origins: [{ id: "web", url: origin.url, connectTimeoutMs: 1000, readTimeoutMs: 30_000 }], behaviors: [], defaultBehavior: behavior("hello") },
  });
  assert.ok(d.status < 300, JSON.stringify(d.body));
  await fleet.waitApplied(Number(d.headers.get("x-verge-seq")));
});

after(async () => {
  for (const res of held.splice(0)) res.end();
  await fleet?.close();
  await origin?.close();
});

test("a tenant whose long requests hold its share of the isolates gets 503 ERR_TENANT_THROTTLED; another tenant's request on the node is answered 200", { timeout: 60_000 }, async () => {
  const first = fleet.get(0, "acme.test", "/hold/1");
  const second = fleet.get(0, "acme.test", "/hold/2");
  // Both invocations are waiting on the origin: acme holds 2 isolates, both busy.
  await until("the origin holds acme's two requests", async () => (held.length === 2 ? true : undefined));

  const refused = await fleet.get(0, "acme.test", "/hold/3");
  assert.equal(refused.status, 503);
  assert.equal(refused.headers["x-verge-error"], "ERR_TENANT_THROTTLED");
  assert.equal(JSON.parse(refused.body).error.code, "ERR_TENANT_THROTTLED");
  assert.equal(held.length, 2, "the refused request did not reach the origin");
  const line = await until("the refusal's log line", async () => logs.find((l) => l.code === "ERR_TENANT_THROTTLED"));
  assert.equal(line.status, 503);
  assert.match(String(line.message), /tenant acme is at its share of this process's isolates \(2 of 3, max 2 per tenant\)/);
  assert.equal(line.distribution, "acme/site");

  // Without the share, acme's third request would have taken the node's last isolate and this one would have been refused.
  const other = await fleet.get(0, "beta.test", "/");
  assert.equal(other.status, 200);
  assert.equal(other.body, "beta answered");

  const metrics = await (await fetch(`${fleet.nodes[0]!.url}/_verge/metrics`)).text();
  assert.match(metrics, /verge_tenant_isolates\{tenant="acme"[^}]*\} 2\n/);
  assert.match(metrics, /verge_tenant_isolates\{tenant="beta"[^}]*\} 1\n/);
  assert.match(metrics, /verge_tenant_share_refusals\{tenant="acme"[^}]*\} 1\n/);
  assert.match(metrics, /verge_tenant_share_refusals\{tenant="beta"[^}]*\} 0\n/);

  for (const res of held.splice(0)) res.writeHead(200, { "cache-control": "no-store" }).end("origin answered");
  assert.deepEqual([(await first).status, (await second).status], [200, 200]);
  // Its isolates are idle again: acme is served, at its share, by one of them.
  const again = await fleet.get(0, "acme.test", "/again");
  assert.deepEqual([again.status, again.body], [200, "origin /again"]);
});
