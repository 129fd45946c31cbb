/**
 * A fresh hit with no viewer-response function is answered from the cache's
 * `lookup`, straight from the stored parts: the viewer must get what the
 * `serve` path gives, header for header.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import { createMemoryCacheStore, createResponseCache } from "./cache/index.ts";
import type { ResponseCache } from "./types.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, startOrigin, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((_req, res) =>
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=600", via: "1.1 origin-proxy", "x-verge-request-id": "from-origin", etag: '"e1"' }).end("stored body"),
  );
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

test("a hit answered by lookup carries the same status, headers and body as one answered by serve", async () => {
  const cache = createResponseCache({ store: createMemoryCacheStore() });
  const withoutLookup: ResponseCache = { key: cache.key, serve: cache.serve, purge: cache.purge, stats: cache.stats };
  const fast = createTestEdge(runtime, { cache });
  const slow = createTestEdge(runtime, { cache: withoutLookup });
  for (const edge of [fast, slow]) edge.state.putDistribution(testDistribution({ originUrl: origin.url }));
  try {
    const miss = await fast.request("/page?x=1");
    assert.equal(miss.headers.get("x-verge-cache"), "Miss");
    await miss.text();
    await cache.drain();
    for (const method of ["GET", "HEAD"]) {
      const a = await fast.request("/page?x=1", { method });
      const b = await slow.request("/page?x=1", { method });
      const shown = (r: Response) => [...r.headers].filter(([n]) => n !== "x-verge-request-id");
      assert.equal(a.status, b.status);
      assert.deepEqual(shown(a), shown(b), method);
      assert.equal(a.headers.get("x-verge-cache"), "Hit");
      assert.equal(a.headers.get("via"), "1.1 origin-proxy, 1.1 edge-test (verge)");
      assert.match(a.headers.get("x-verge-request-id")!, /==$/);
      assert.notEqual(a.headers.get("x-verge-request-id"), b.headers.get("x-verge-request-id"));
      assert.equal(await a.text(), method === "GET" ? "stored body" : "");
      assert.equal(await b.text(), method === "GET" ? "stored body" : "");
    }
    const record = (await fast.record(), await fast.record());
    assert.equal(record.cache, "Hit");
    assert.equal(record.bytesOut, "stored body".length);
    assert.equal(cache.stats().hits, 4);
  } finally {
    await fast.close();
    await slow.close();
  }
});
