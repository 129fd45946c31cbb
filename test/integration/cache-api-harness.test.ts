/**
 * The Workers Cache API through the `Verge` harness: without `upstream`, one
 * cache in memory per instance (kept across dispatches, separate between
 * instances); with `upstream`, a Workers handler's `caches.default` is the
 * pipeline's response cache, shared with the traffic as on an edge node; a
 * Lambda@Edge handler there gets the instance's own cache.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Verge } from "../../src/index.ts";
import { startWebOrigin, type TestWebOrigin } from "../helpers/fleet.ts";

/** ?op=put|match|delete&url=&body= */
const WORKER = `export default { async fetch(request) {
  const q = new URL(request.url).searchParams;
  const target = q.get("url");
  switch (q.get("op")) {
    case "put": await caches.default.put(target, new Response(q.get("body"), { headers: { "cache-control": "max-age=600" } })); return new Response("put");
    case "match": { const r = await caches.default.match(target); return r === undefined ? new Response("miss", { status: 404 }) : new Response(await r.text()); }
    case "delete": return new Response(String(await caches.default.delete(target)));
  }
  return fetch(request);
} };`;

let origin: TestWebOrigin;
before(async () => {
  origin = await startWebOrigin((req, res) => {
    res.setHeader("cache-control", "max-age=600");
    res.end(`origin ${req.url}`);
  });
});
after(() => origin?.close());

const op = (v: Verge, params: Record<string, string>, host = "site.test") => v.dispatchFetch(`http://${host}/?${new URLSearchParams(params)}`);

test("without upstream: the cache lives as long as the instance, one per instance", async () => {
  // A generous CPU budget: the first call of a cold child on a loaded machine can pass 50 ms.
  const a = new Verge({ modules: true, script: WORKER, limits: { cpuMs: 2000 } });
  const b = new Verge({ modules: true, script: WORKER, limits: { cpuMs: 2000 } });
  try {
    assert.equal(await (await op(a, { op: "put", url: "http://x.test/k", body: "in a" })).text(), "put");
    assert.equal(await (await op(a, { op: "match", url: "http://x.test/k" })).text(), "in a");
    assert.equal((await op(b, { op: "match", url: "http://x.test/k" })).status, 404);
    await a.setOptions({ modules: true, script: `${WORKER}\n// v2`, limits: { cpuMs: 2000 } });
    assert.equal(await (await op(a, { op: "match", url: "http://x.test/k" })).text(), "in a", "kept across setOptions");
    assert.equal(await (await op(a, { op: "delete", url: "http://x.test/k" })).text(), "true");
    assert.equal((await op(a, { op: "match", url: "http://x.test/k" })).status, 404);
  } finally {
    await a.dispose();
    await b.dispose();
  }
});

test("with upstream: caches.default is the distribution's cache, shared with its traffic both ways", async () => {
  const verge = new Verge({
    modules: true,
    script: WORKER,
    limits: { cpuMs: 2000 },
    upstream: origin.url,
    distribution: { behaviors: [{ pathPattern: "/static/*", function: false }] },
  });
  try {
    await op(verge, { op: "put", url: "http://site.test/static/put", body: "from the function" });
    const hit = await verge.dispatchFetch("http://site.test/static/put");
    assert.deepEqual([await hit.text(), hit.headers.get("x-verge-cache")], ["from the function", "Hit"]);
    assert.equal(origin.seen.filter((s) => s.url === "/static/put").length, 0);

    const miss = await verge.dispatchFetch("http://site.test/static/origin");
    assert.deepEqual([await miss.text(), miss.headers.get("x-verge-cache")], ["origin /static/origin", "Miss"]);
    // A fill commits once its body has been sent: ask again until the traffic is answered from the cache.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const again = await verge.dispatchFetch("http://site.test/static/origin");
      await again.arrayBuffer();
      if (again.headers.get("x-verge-cache") === "Hit") break;
      assert.ok(Date.now() < deadline, "the origin's response was never answered from the cache");
    }
    assert.equal(await (await op(verge, { op: "match", url: "http://site.test/static/origin" })).text(), "origin /static/origin");

    assert.equal(await (await op(verge, { op: "delete", url: "http://site.test/static/put" })).text(), "true");
    const refilled = await verge.dispatchFetch("http://site.test/static/put");
    assert.deepEqual([await refilled.text(), refilled.headers.get("x-verge-cache")], ["origin /static/put", "Miss"]);
  } finally {
    await verge.dispose();
  }
});

test("with upstream, a Lambda@Edge handler's caches work too (the instance's own cache)", async () => {
  const verge = new Verge({
    script: `exports.handler = async (event) => {
      const request = event.Records[0].cf.request;
      await caches.default.put("http://lambda.test/seen", new Response(request.uri, { headers: { "cache-control": "max-age=600" } }));
      const seen = await (await caches.default.match("http://lambda.test/seen")).text();
      request.headers["x-seen"] = [{ key: "x-seen", value: seen }];
      return request;
    };`,
    upstream: origin.url,
    limits: { cpuMs: 2000 },
  });
  try {
    const r = await verge.dispatchFetch("http://site.test/lambda");
    assert.equal(await r.text(), "origin /lambda");
    assert.equal(origin.seen.findLast((s) => s.url === "/lambda")!.headers["x-seen"], "/lambda");
  } finally {
    await verge.dispose();
  }
});
