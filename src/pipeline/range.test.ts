/**
 * A byte range through the pipeline: the origin is asked for the whole body
 * (so it can be stored), and the viewer gets its range from the cache.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import { createMemoryCacheStore, createResponseCache } from "./cache/index.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, startOrigin, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((_req, res) =>
    res.writeHead(200, { "content-type": "text/plain", "content-length": "10", "cache-control": "max-age=600", etag: '"e1"' }).end("0123456789"),
  );
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

test("a ranged GET: the origin gets no Range or If-Range, the viewer a 206 on the Miss and on the Hit after it", async () => {
  const cache = createResponseCache({ store: createMemoryCacheStore() });
  const edge = createTestEdge(runtime, { cache });
  edge.state.putDistribution(testDistribution({ originUrl: origin.url }));
  try {
    const miss = await edge.request("/video", { headers: { range: "bytes=4-6", "if-range": '"e1"' } });
    assert.deepEqual([miss.status, miss.headers.get("x-verge-cache"), miss.headers.get("content-range"), await miss.text()], [206, "Miss", "bytes 4-6/10", "456"]);
    const sent = origin.seen.at(-1)!;
    assert.equal(sent.headers.range, undefined);
    assert.equal(sent.headers["if-range"], undefined);
    assert.equal((await edge.record()).status, 206);
    await cache.drain();
    const hit = await edge.request("/video", { headers: { range: "bytes=8-" } });
    assert.deepEqual([hit.status, hit.headers.get("x-verge-cache"), hit.headers.get("content-range"), await hit.text()], [206, "Hit", "bytes 8-9/10", "89"]);
    assert.equal(origin.seen.length, 1);
  } finally {
    await edge.close();
  }
});
