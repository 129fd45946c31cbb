/**
 * The Workers Cache API on an edge node fed by a registry: a function's
 * `caches.default` is its distribution's cache, the one the distribution's
 * traffic fills, in both directions (as on Cloudflare); its `fetch()` to its
 * own host is answered from what it put; registry purges by tag reach put
 * entries; two distributions have separate defaults but share the tenant's
 * named caches; a scheduled handler's `caches.open` is the same tenant cache.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createManualClock } from "../../edge-nodes/cron/index.ts";
import { startFleet, startWebOrigin, type Fleet, type TestWebOrigin } from "../helpers/fleet.ts";

const MIN = 60_000;
// The registry checks fire times against its real clock: start the manual one at real time.
const clock = createManualClock(Date.now());
const logs: Array<Record<string, unknown>> = [];

/** /fn/<op>?url=&cache=&body=&tag= runs one Cache API call; anything else goes on through the node. */
const FUNCTION = `export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const cache = q.get("cache") ? await caches.open(q.get("cache")) : caches.default;
    const target = q.get("url");
    switch (new URL(request.url).pathname) {
      case "/fn/put": {
        const headers = { "cache-control": "max-age=600", "x-from": "function" };
        if (q.get("tag")) headers["cache-tag"] = q.get("tag");
        await cache.put(target, new Response(q.get("body"), { headers }));
        return new Response("put");
      }
      case "/fn/match": {
        const r = await cache.match(target);
        if (r === undefined) return new Response("miss", { status: 404 });
        return new Response(await r.text(), { headers: { "x-cf-cache-status": r.headers.get("cf-cache-status") } });
      }
      case "/fn/delete":
        return new Response(String(await cache.delete(target)));
      case "/fn/fetch": {
        const r = await fetch(target);
        return new Response(await r.text(), { headers: { "x-sub-cache": r.headers.get("x-verge-cache") ?? "none" } });
      }
    }
    return fetch(request);
  },
  async scheduled(controller) {
    const jobs = await caches.open("jobs");
    await jobs.put("http://jobs.test/last", new Response(String(controller.scheduledTime), { headers: { "cache-control": "max-age=600" } }));
  },
};
`;

let fleet: Fleet;
let origin: TestWebOrigin;

before(async () => {
  origin = await startWebOrigin((req, res) => {
    res.setHeader("cache-control", "max-age=600");
    res.end(`origin ${req.url}`);
  });
  fleet = await startFleet({ nodes: 1, nodeOptions: () => ({ cronClock: clock, log: (l) => logs.push(l as Record<string, unknown>) }) });
  await fleet.publish("cachefn", FUNCTION, { cpuMs: 2000, crons: ["* * * * *"] });
  const withFunction = (host: string) => ({
    hostnames: [host],
    origins: [{ id: "web", url: origin.url }],
    behaviors: [{ pathPattern: "/fn/*", originId: "web", functions: { "viewer-request": { function: "cachefn", alias: "live" } } }],
    defaultBehavior: { originId: "web", functions: {} },
  });
  await fleet.distribution("site", withFunction("site.test"));
  await fleet.distribution("other", withFunction("other.test"));
  await fleet.waitApplied();
});
after(async () => {
  await fleet?.close();
  await origin?.close();
});

const call = (host: string, op: string, params: Record<string, string>) => fleet.get(0, host, `/fn/${op}?${new URLSearchParams(params)}`);
const originCalls = (path: string) => origin.seen.filter((s) => s.url === path).length;

test("what a function puts in caches.default answers the distribution's traffic, without the origin", async () => {
  assert.equal((await call("site.test", "put", { url: "http://site.test/page", body: "from the function" })).body, "put");
  const r = await fleet.get(0, "site.test", "/page");
  assert.deepEqual([r.status, r.body, r.headers["x-verge-cache"], r.headers["x-from"]], [200, "from the function", "Hit", "function"]);
  assert.equal(originCalls("/page"), 0);
});

/** Requests `path` until the node answers it from its cache (a fill commits once its body has been sent). */
async function untilHit(host: string, path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await fleet.get(0, host, path)).headers["x-verge-cache"] !== "Hit") {
    if (Date.now() > deadline) throw new Error(`${host}${path} was never answered from the cache`);
  }
}

test("what the distribution's traffic stored, a function's caches.default.match finds", async () => {
  const first = await fleet.get(0, "site.test", "/article");
  assert.deepEqual([first.body, first.headers["x-verge-cache"]], ["origin /article", "Miss"]);
  await untilHit("site.test", "/article");
  const m = await call("site.test", "match", { url: "http://site.test/article" });
  assert.deepEqual([m.status, m.body, m.headers["x-cf-cache-status"]], [200, "origin /article", "HIT"]);
  assert.equal(originCalls("/article"), 1);
});

test("delete removes the entry for the traffic too; the handler's own fetch() is answered from a put", async () => {
  await call("site.test", "put", { url: "http://site.test/gone", body: "soon gone" });
  assert.equal((await call("site.test", "delete", { url: "http://site.test/gone" })).body, "true");
  assert.equal((await call("site.test", "delete", { url: "http://site.test/gone" })).body, "false");
  const after = await fleet.get(0, "site.test", "/gone");
  assert.deepEqual([after.body, after.headers["x-verge-cache"]], ["origin /gone", "Miss"]);

  await call("site.test", "put", { url: "http://site.test/sub", body: "put for fetch" });
  const sub = await call("site.test", "fetch", { url: "http://site.test/sub" });
  assert.deepEqual([sub.body, sub.headers["x-sub-cache"]], ["put for fetch", "Hit"]);
  assert.equal(originCalls("/sub"), 0);
});

test("a registry purge by Cache-Tag drops what a function put", async () => {
  await call("site.test", "put", { url: "http://site.test/promo", body: "on sale", tag: "promo" });
  assert.equal((await fleet.get(0, "site.test", "/promo")).headers["x-verge-cache"], "Hit");
  const r = await fleet.registry.call("POST", `/v1/tenants/${fleet.tenant}/distributions/site/purge`, { token: fleet.tenantToken, json: { tag: "promo" } });
  assert.ok(r.status < 300, JSON.stringify(r.body));
  await fleet.waitApplied();
  assert.equal((await call("site.test", "match", { url: "http://site.test/promo" })).status, 404);
  const after = await fleet.get(0, "site.test", "/promo");
  assert.deepEqual([after.body, after.headers["x-verge-cache"]], ["origin /promo", "Miss"]);
});

test("two distributions: separate caches.default, one named cache per tenant", async () => {
  await call("other.test", "put", { url: "http://shared.test/x", body: "other's default" });
  await call("other.test", "put", { url: "http://shared.test/x", body: "tenant's named", cache: "common" });
  assert.equal((await call("other.test", "match", { url: "http://shared.test/x" })).body, "other's default");
  assert.equal((await call("site.test", "match", { url: "http://shared.test/x" })).status, 404);
  const named = await call("site.test", "match", { url: "http://shared.test/x", cache: "common" });
  assert.deepEqual([named.status, named.body], [200, "tenant's named"]);
});

test("a scheduled handler's caches.open is the tenant's named cache the fetch handlers see", async () => {
  const fire = Math.floor(Date.now() / MIN) * MIN + MIN;
  clock.set(fire + 250);
  const deadline = Date.now() + 15_000;
  let record: Record<string, unknown> | undefined;
  while ((record = logs.find((l) => l.msg === "scheduled" && l.scheduledTime === new Date(fire).toISOString())) === undefined) {
    if (Date.now() > deadline) throw new Error(`no scheduled record: ${JSON.stringify(logs.filter((l) => l.msg === "scheduled"))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(record.outcome, "ok", JSON.stringify(record));
  const m = await call("site.test", "match", { url: "http://jobs.test/last", cache: "jobs" });
  assert.deepEqual([m.status, m.body], [200, String(fire)]);
});
