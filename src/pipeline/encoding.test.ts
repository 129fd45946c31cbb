/**
 * `Vary: Accept-Encoding` through the cache: the viewer's header is normalised
 * (headers.ts) before the cache matches variants and before the origin sees
 * it, so browsers that list their codings differently share one variant.
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
  origin = await startOrigin((req, res) =>
    res.writeHead(200, { "cache-control": "max-age=600", vary: "Accept-Encoding" }).end(`encoded as ${req.headers["accept-encoding"] ?? "identity"}`),
  );
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

test("viewers' Accept-Encoding lists share a variant per normalised value; the origin gets the normalised value", async () => {
  const cache = createResponseCache({ store: createMemoryCacheStore() });
  const edge = createTestEdge(runtime, { cache });
  edge.state.putDistribution(testDistribution({ originUrl: origin.url }));
  const get = async (acceptEncoding: string | null) => {
    const r = await edge.request("/app.js", acceptEncoding === null ? {} : { headers: { "accept-encoding": acceptEncoding } });
    const out = [r.headers.get("x-verge-cache"), await r.text()];
    await cache.drain();
    return out;
  };
  try {
    assert.deepEqual(await get("gzip, deflate, br, zstd"), ["Miss", "encoded as br,gzip"]);
    assert.deepEqual(await get("br, gzip"), ["Hit", "encoded as br,gzip"]);
    assert.deepEqual(await get("gzip;q=1.0, identity; q=0.5, *;q=0"), ["Miss", "encoded as gzip"]);
    assert.deepEqual(await get("gzip"), ["Hit", "encoded as gzip"]);
    assert.deepEqual(await get("deflate"), ["Miss", "encoded as identity"]);
    assert.deepEqual(await get(null), ["Hit", "encoded as identity"]);
    assert.deepEqual(origin.seen.map((s) => s.headers["accept-encoding"] ?? null), ["br,gzip", "gzip", null]);
  } finally {
    await edge.close();
  }
});
