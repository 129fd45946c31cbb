/**
 * `lookup`: the synchronous Hit the pipeline tries before `serve`. It answers
 * exactly the requests `serve` would answer as a plain Hit, the same way, and
 * leaves everything else (misses, stale entries, viewer 304s, collapsing) to
 * `serve`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CacheServeOptions } from "../../src/pipeline/types.ts";
import { ALL_QUERY, TTL, get, makeOrigin, ok, setup, type Harness } from "./test-support.ts";

function ask(h: Harness, init: { path?: string; method?: string; headers?: Record<string, string> } = {}): Omit<CacheServeOptions, "fill"> {
  const url = new URL(`https://example.com${init.path ?? "/a"}`);
  const request = new Request(url, { method: init.method ?? "GET", headers: init.headers ?? {} });
  const key = h.cache.key({ distribution: "acme/site", behavior: "default", host: "example.com", url, headers: request.headers, policy: ALL_QUERY });
  return { key, request, path: url.pathname, distribution: "acme/site", ttl: TTL };
}

test("lookup answers a fresh entry as serve's Hit does (parts, Age, counted), and nothing else", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("hello", { "cache-control": "max-age=60", "content-type": "text/plain", etag: '"v1"' }));
  assert.equal(h.cache.lookup!(ask(h)), undefined, "nothing stored yet");
  await get(h, origin);
  h.clock.advance(5);
  const hit = h.cache.lookup!(ask(h))!;
  assert.equal(hit.result, "Hit");
  assert.equal(hit.status, 200);
  assert.equal(new TextDecoder().decode(hit.body!), "hello");
  assert.equal(hit.age, "5");
  assert.deepEqual(hit.headers, [...hit.stored, ["age", "5"]]);
  assert.ok(Object.isFrozen(hit.stored));
  const served = await get(h, origin);
  assert.deepEqual([...served.headers], [...new Headers(hit.headers)], "the same headers as serve's Hit");
  assert.equal(h.cache.stats().hits, 2);
  assert.equal(h.cache.lookup!(ask(h, { method: "HEAD" }))!.body, null, "HEAD: no body");
  assert.equal(h.cache.lookup!(ask(h, { method: "POST" })), undefined);
  assert.equal(h.cache.lookup!(ask(h, { headers: { "if-none-match": '"v1"' } })), undefined, "a viewer 304 is serve's");
  assert.equal(h.cache.lookup!(ask(h, { path: "/other" })), undefined);
  h.clock.advance(60);
  assert.equal(h.cache.lookup!(ask(h)), undefined, "stale: serve revalidates");
});

test("lookup leaves a key to serve while this process is filling it (request collapsing)", async (t) => {
  const h = setup(t);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const origin = makeOrigin(ok("v1", { "cache-control": "max-age=60" }));
  await get(h, origin);
  h.clock.advance(61);
  origin.answer(async () => {
    await gate;
    return ok("v2", { "cache-control": "max-age=60" });
  });
  const refilling = get(h, origin);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.cache.lookup!(ask(h)), undefined);
  release();
  assert.equal((await refilling).body, "v2");
  assert.equal(h.cache.lookup!(ask(h))!.result, "Hit");
});
