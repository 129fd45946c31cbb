/**
 * A worker process of evict.test.ts: fills the cache in the LMDB dir given as
 * argv[2] with 60 entries of its own (argv[3] names them), 8 at a time, under
 * a 20 000 byte cap, while a sibling process does the same.
 */
import { openEdgeStore } from "../store/index.ts";
import { createResponseCache } from "../../src/pipeline/cache/index.ts";
import { ALL_QUERY, TTL } from "./test-support.ts";

const [dir, name] = process.argv.slice(2) as [string, string];
const store = openEdgeStore({ path: dir });
const cache = createResponseCache({ store, maxBytes: 20_000 });

async function one(i: number): Promise<void> {
  const url = new URL(`https://example.com/${name}/${i}`);
  const request = new Request(url);
  const key = cache.key({ distribution: "acme/site", behavior: "default", host: url.hostname, url, headers: request.headers, policy: ALL_QUERY });
  const { response } = await cache.serve({
    key,
    request,
    path: url.pathname,
    distribution: "acme/site",
    ttl: TTL,
    fill: async () => new Response("y".repeat(500 + i * 10), { headers: { "cache-control": "max-age=600" } }),
  });
  await response.arrayBuffer();
}

for (let i = 0; i < 60; i += 8) {
  await Promise.all(Array.from({ length: 8 }, (_, j) => one(i + j)));
}
await cache.drain();
await store.close();
