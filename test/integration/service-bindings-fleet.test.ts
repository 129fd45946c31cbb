/**
 * Service bindings on an edge node, over real HTTP: a registry and one edge
 * node; the function on the distribution calls another function of the tenant
 * through `env.AUTH.fetch()` (run on the node, in its own isolate, never over
 * the network), sees the target's new version once published, and a service
 * that calls itself ends at the per-request invocation limit with a clear error.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startFleet, type Fleet } from "../helpers/fleet.ts";

const HOST = "svc.example.com";

const FRONT = `export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    try {
      if (u.pathname === "/loop") return await env.LOOP.fetch("http://loop.internal/");
      if (u.pathname === "/missing") return await env.GONE.fetch("http://gone.internal/");
      if (u.pathname === "/ws") { const r = await env.WS.fetch("http://ws.internal/", { headers: { upgrade: "websocket" } }); return new Response("got " + r.status + " " + (r.webSocket === null ? "no socket" : "a socket")); }
      const r = await env.AUTH.fetch("http://auth.internal/check" + u.search, { method: "POST", body: "token-123", headers: { "x-user": "ada" } });
      return new Response("front got: " + r.status + " " + r.headers.get("x-auth") + " " + await r.text());
    } catch (e) {
      return new Response(e.name + ": " + e.message, { status: 502 });
    }
  },
};`;

const auth = (tag: string) => `export default {
  async fetch(request, env) {
    return new Response("${tag} " + request.method + " " + new URL(request.url).pathname + " " + request.headers.get("x-user") + " " + await request.text(), { status: 201, headers: { "x-auth": "${tag}" } });
  },
};`;

/** A target that answers with a WebSocket, which a service binding cannot carry here. */
const WS_TARGET = `export default {
  async fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

/** A service bound to itself: each call makes another, until the chain ends. */
const LOOP = `export default {
  async fetch(request, env) {
    const depth = Number(new URL(request.url).searchParams.get("d") ?? "0");
    const r = await env.SELF.fetch("http://loop.internal/?d=" + (depth + 1));
    return new Response(await r.text(), { status: r.status });
  },
};`;

let fleet: Fleet;
before(async () => {
  fleet = await startFleet({ nodes: 1 });
  await fleet.publish("auth-worker", auth("v1"));
  await fleet.publish("looper", LOOP, { services: { SELF: "looper" } });
  await fleet.publish("ws-target", WS_TARGET);
  await fleet.publish("front", FRONT, { services: { AUTH: "auth-worker", LOOP: "looper", GONE: "no-such-fn", WS: "ws-target" } });
  await fleet.distribution("site", { hostnames: [HOST], origins: [{ id: "web", url: "http://127.0.0.1:9" }], defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "front", alias: "live" } } }, behaviors: [] });
  await fleet.waitApplied();
});
after(() => fleet?.close());

test("env.AUTH.fetch() runs the tenant's auth-worker on the node and returns its Response", async () => {
  const r = await fleet.get(0, HOST, "/?q=1");
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, "front got: 201 v1 v1 POST /check ada token-123");
});

test("a new version of the target is what the next request runs", async () => {
  await fleet.publish("auth-worker", auth("v2"));
  await fleet.waitApplied();
  const r = await fleet.get(0, HOST, "/");
  assert.equal(r.body, "front got: 201 v2 v2 POST /check ada token-123");
});

test("a service calling itself ends at 32 invocations per request with a clear error", async () => {
  const r = await fleet.get(0, HOST, "/loop");
  assert.equal(r.status, 502, r.body);
  assert.equal(r.body, 'Error: env.SELF.fetch() to service "looper": this request has run 32 Workers invocations (the first and 31 service binding calls), the limit per request; a service that calls itself, or a cycle of services, ends here');
});

test("a binding to a function the tenant does not have fails the call, naming it", async () => {
  const r = await fleet.get(0, HOST, "/missing");
  assert.equal(r.status, 502);
  assert.equal(r.body, 'Error: env.GONE.fetch() to service "no-such-fn": tenant "acme" has no function "no-such-fn" on this edge node');
});

test("a target that answers with a WebSocket fails the call, naming it (its connection is dropped, not left open)", async () => {
  const r = await fleet.get(0, HOST, "/ws");
  assert.equal(r.status, 502, r.body);
  assert.match(r.body, /^Error: env\.WS\.fetch\(\) to service "ws-target" failed: .*WebSocket/);
});

test("the registry checks service bindings", async () => {
  const bad = await fleet.registry.call("PUT", "/v1/tenants/acme/functions/bad", { token: fleet.tenantToken, json: { config: { env: { AUTH: "x" }, services: { AUTH: "auth-worker", "bad-name": "x", OK: "Not_A_Name" } } } });
  assert.equal(bad.status, 400);
  const text = JSON.stringify(bad.body);
  assert.match(text, /config\.services\.AUTH.*is also a var in config\.env/);
  assert.match(text, /config\.services\.OK.*expected the name of a function of this tenant/);
  assert.match(text, /config\.services\.bad-name/);
});
