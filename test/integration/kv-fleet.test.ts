/**
 * Workers KV in a fleet (issue 5): a registry and two edge nodes following
 * it. A function on node A writes (through the registry) and reads its own
 * write at once; node B reads the value once the feed delivered it; a node
 * started cold later has every value (the KV export); deletes replicate;
 * expiration is honoured by the nodes' own clocks.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startFleet, type Fleet } from "../helpers/fleet.ts";

const HOST = "kv.example.com";
const WORKER = `export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const k = u.searchParams.get("k");
    if (u.pathname === "/put") {
      await env.STORE.put(k, u.searchParams.get("v"), { expirationTtl: 3600, metadata: { node: u.searchParams.get("node") } });
      // Read-your-writes on the writing node.
      return new Response(await env.STORE.get(k));
    }
    if (u.pathname === "/get") return Response.json(await env.STORE.getWithMetadata(k, "text"));
    if (u.pathname === "/delete") { await env.STORE.delete(k); return Response.json(await env.STORE.get(k)); }
    if (u.pathname === "/list") return Response.json(await env.STORE.list({ prefix: u.searchParams.get("prefix") ?? undefined }));
    return new Response("?", { status: 404 });
  },
};
`;

let fleet: Fleet;
before(async () => {
  fleet = await startFleet({ nodes: 2 });
  await fleet.publish("kv-app", WORKER, { kvNamespaces: { STORE: "app-data" } });
  await fleet.distribution("site", { hostnames: [HOST], origins: [{ id: "web", url: "http://127.0.0.1:9" }], defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "kv-app", alias: "live" } } }, behaviors: [] });
  await fleet.waitApplied();
});
after(() => fleet?.close());

const q = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("a write on node A is read at once on A, and on B after the feed delivers it; metadata and expiration travel", async () => {
  const put = await fleet.get(0, HOST, q("/put", { k: "greeting/1", v: "hello from A", node: "a" }));
  assert.equal(put.status, 200, put.body);
  assert.equal(put.body, "hello from A");
  await fleet.waitApplied();
  const b = await fleet.get(1, HOST, q("/get", { k: "greeting/1" }));
  assert.deepEqual(JSON.parse(b.body), { value: "hello from A", metadata: { node: "a" }, cacheStatus: null });
  const listed = JSON.parse((await fleet.get(1, HOST, q("/list", { prefix: "greeting/" }))).body);
  assert.equal(listed.keys.length, 1);
  assert.equal(listed.keys[0].name, "greeting/1");
  assert.ok(listed.keys[0].expiration > Date.now() / 1000 + 3500);
  // The registry has it too, under the tenant's namespace.
  const reg = await fleet.registry.call("GET", "/v1/tenants/acme/kv/app-data/values/greeting%2F1", { token: fleet.tenantToken });
  assert.equal(reg.body, "hello from A");
});

test("a big value (past the feed's inline size) replicates by digest; a delete on B replicates to A", async () => {
  const big = "x".repeat(70 * 1024);
  const r = await fleet.registry.call("PUT", "/v1/tenants/acme/kv/app-data/values/big", { token: fleet.tenantToken, body: big });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await fleet.waitApplied();
  assert.equal(JSON.parse((await fleet.get(0, HOST, q("/get", { k: "big" }))).body).value.length, big.length);
  const del = await fleet.get(1, HOST, q("/delete", { k: "big" }));
  assert.equal(del.body, "null");
  await fleet.waitApplied();
  assert.equal(JSON.parse((await fleet.get(0, HOST, q("/get", { k: "big" }))).body).value, null);
});

test("nodes hide an entry once its expiration passed (by their own clock)", async () => {
  // A node token may set any future expiration (a node's binding has checked the 60 s minimum already).
  const exp = Math.floor(Date.now() / 1000) + 2;
  const r = await fleet.registry.call("PUT", `/v1/tenants/acme/kv/app-data/values/short?expiration=${exp}`, { token: fleet.nodeToken, body: "brief" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await fleet.waitApplied();
  for (const i of [0, 1]) {
    await eventually(`node ${i} hides the expired key`, async () => JSON.parse((await fleet.get(i, HOST, q("/get", { k: "short" }))).body).value, (v) => v === null);
    const keys = JSON.parse((await fleet.get(i, HOST, q("/list", {}))).body).keys.map((k: { name: string }) => k.name);
    assert.ok(!keys.includes("short"));
  }
  assert.ok(Date.now() / 1000 >= exp, "hidden only once the second passed");
});

test("a node started cold later has the same KV contents as the nodes that followed the feed", async () => {
  await fleet.get(0, HOST, q("/put", { k: "greeting/2", v: "second", node: "a" }));
  await fleet.waitApplied();
  const listOf = async (i: number) => JSON.parse((await fleet.get(i, HOST, q("/list", {}))).body);
  const expected = await listOf(0);
  assert.deepEqual(await listOf(1), expected);
  await fleet.startNode(2);
  await fleet.waitApplied();
  assert.deepEqual(await listOf(2), expected);
  assert.deepEqual(JSON.parse((await fleet.get(2, HOST, q("/get", { k: "greeting/1" }))).body).value, "hello from A");
  assert.equal(JSON.parse((await fleet.get(2, HOST, q("/get", { k: "big" }))).body).value, null);
});
