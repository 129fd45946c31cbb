/**
 * The response cache over the in-memory store the harness and `verge dev` use:
 * the same cache code as an edge node's (whose LMDB-backed tests are in
 * edge-nodes/cache/), so hits, Vary, eviction and purge behave alike.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryCacheStore, createResponseCache } from "./index.ts";
import type { CacheServeOptions } from "../types.ts";

const TTL = { min: 0, default: 60, max: 3600 };
let now = Date.UTC(2026, 0, 1);

function setup(maxBytes?: number) {
  const store = createMemoryCacheStore();
  const cache = createResponseCache({ store, now: () => now, ...(maxBytes === undefined ? {} : { maxBytes }) });
  let fills = 0;
  const serve = async (path: string, headers: Record<string, string> = {}, answer?: () => Response) => {
    const request = { method: "GET", headers: new Headers(headers) };
    const o: CacheServeOptions = {
      key: `k:${path}`,
      request,
      path,
      distribution: "t/d",
      ttl: TTL,
      fill: async () => {
        fills++;
        return answer?.() ?? new Response(`body of ${path} #${fills}`, { headers: { "cache-control": "max-age=60" } });
      },
    };
    const { response, result } = await cache.serve(o);
    return { result, body: await response.text() };
  };
  return { store, cache, serve, fills: () => fills };
}

test("memory store: a miss fills, the next request hits with the stored body, expiry refills", async () => {
  const { serve, fills, cache } = setup();
  assert.deepEqual(await serve("/a"), { result: "Miss", body: "body of /a #1" });
  await cache.drain();
  assert.deepEqual(await serve("/a"), { result: "Hit", body: "body of /a #1" });
  now += 61_000;
  assert.equal((await serve("/a")).result, "Miss");
  assert.equal(fills(), 2);
  assert.equal(cache.stats().entries, 1);
});

test("memory store: Vary keeps one variant per header value", async () => {
  const { serve, cache } = setup();
  const vary = () => new Response("v", { headers: { "cache-control": "max-age=60", vary: "accept-language" } });
  assert.equal((await serve("/v", { "accept-language": "fr" }, vary)).result, "Miss");
  await cache.drain();
  assert.equal((await serve("/v", { "accept-language": "de" }, vary)).result, "Miss");
  await cache.drain();
  assert.equal((await serve("/v", { "accept-language": "fr" }, vary)).result, "Hit");
  assert.equal((await serve("/v", { "accept-language": "de" }, vary)).result, "Hit");
});

test("memory store: the size cap evicts the least recently used entry; purge by prefix", async () => {
  // Each entry is ~1.5 KB with its headers and record overhead: two fit under 4 KiB.
  const { serve, cache } = setup(4096);
  const big = () => new Response("x".repeat(1200), { headers: { "cache-control": "max-age=60" } });
  for (const p of ["/p/1", "/p/2", "/q/3"]) {
    await serve(p, {}, big);
    await cache.drain();
  }
  assert.ok(cache.stats().bytes <= 4096, `bytes ${cache.stats().bytes} within the cap`);
  assert.equal(cache.stats().evictions, 1);
  assert.equal((await serve("/q/3", {}, big)).result, "Hit");
  assert.equal((await serve("/p/2", {}, big)).result, "Hit");
  assert.equal(await cache.purge({ distribution: "t/d", prefix: "/p/" }), 1);
  assert.equal((await serve("/q/3", {}, big)).result, "Hit", "other paths stay");
  assert.equal((await serve("/p/2", {}, big)).result, "Miss", "purged");
});

test("memory store: stored values are frozen copies, bodies are copied both ways", () => {
  const store = createMemoryCacheStore();
  const meta = store.table<{ a: { b: number } }>("cache-meta");
  const v = { a: { b: 1 } };
  meta.putSync("k", v);
  v.a.b = 2;
  const got = meta.get("k")!;
  assert.equal(got.a.b, 1);
  assert.ok(Object.isFrozen(got.a));
  const bytes = store.bytes("cache-body");
  const body = new Uint8Array([1, 2, 3]);
  bytes.putSync("b", body);
  body[0] = 9;
  const read = bytes.get("b")!;
  assert.equal(read[0], 1);
  read[1] = 9;
  assert.equal(bytes.get("b")![1], 2);
  assert.deepEqual([...meta.range({ prefix: "k" })].map((r) => r.key), ["k"]);
});
