/**
 * The cache's direct API (get / put / delete beside serve), over the memory
 * store: freshness by the injected clock, Vary variants, the size cap and LRU,
 * purges, and entries shared with `serve` in both directions. The same code
 * over LMDB across two caches is in edge-nodes/cache/direct.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CacheKeyPolicy } from "../../shared/protocol.ts";
import { createMemoryCacheStore } from "./store.ts";
import { createResponseCache } from "./cache.ts";
import type { StoreRequest } from "../types.ts";

const T0 = Date.UTC(2026, 0, 1);
function setup(options: { maxBytes?: number; maxObjectBytes?: number } = {}) {
  let t = T0;
  const store = createMemoryCacheStore();
  const cache = createResponseCache({ store, now: () => t, ...options });
  return { cache, store, advance: (s: number) => void (t += s * 1000) };
}

const noHeaders = new Headers();
function item(key: string, body: string, more: Partial<StoreRequest> = {}): StoreRequest {
  return {
    distribution: "acme/site",
    key,
    request: noHeaders,
    path: `/${key}`,
    status: 200,
    statusText: "OK",
    headers: new Headers({ "content-type": "text/plain" }),
    body: new TextEncoder().encode(body),
    ttl: 60,
    staleIfError: 0,
    ...more,
  };
}
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const slot = (key: string, request: { get(n: string): string | null } = noHeaders) => ({ distribution: "acme/site", key, request });

test("put then get: the stored response with its age; stale after its ttl; hits and misses counted", async () => {
  const { cache, advance } = setup();
  assert.equal(await cache.put(item("k", "hello", { headers: new Headers({ etag: '"e"', "set-cookie": "a=1", connection: "close", "x-a": "1" }) })), true);
  advance(10);
  const got = cache.get(slot("k"));
  assert.equal(text(got?.body), "hello");
  assert.equal(got?.age, 10);
  assert.equal(got?.etag, '"e"');
  // Set-Cookie and hop-by-hop headers are never stored.
  assert.deepEqual(got?.headers.map(([n]) => n), ["etag", "x-a"]);
  advance(50);
  assert.equal(cache.get(slot("k")), undefined, "stale at its ttl");
  assert.equal(cache.get(slot("other")), undefined);
  const stats = cache.stats();
  assert.deepEqual([stats.hits, stats.misses, stats.entries], [1, 2, 1]);
});

test("a response's own Age counts against its ttl", async () => {
  const { cache, advance } = setup();
  await cache.put(item("aged", "x", { headers: new Headers({ age: "50" }), ttl: 60 }));
  assert.equal(cache.get(slot("aged"))?.age, 50);
  advance(10);
  assert.equal(cache.get(slot("aged")), undefined);
});

test("Vary: each variant answers its own request values; a put replaces the variant its request matched; delete removes them all", async () => {
  const { cache } = setup();
  const html = new Headers({ accept: "text/html" });
  const json = new Headers({ accept: "application/json" });
  const vary = new Headers({ vary: "Accept" });
  await cache.put(item("v", "html", { request: html, headers: vary }));
  await cache.put(item("v", "json", { request: json, headers: vary }));
  assert.equal(text(cache.get(slot("v", html))?.body), "html");
  assert.equal(text(cache.get(slot("v", json))?.body), "json");
  assert.equal(cache.get(slot("v", new Headers())), undefined);
  await cache.put(item("v", "html2", { request: html, headers: vary }));
  assert.equal(text(cache.get(slot("v", html))?.body), "html2");
  assert.equal(cache.stats().entries, 2);
  assert.equal(await cache.put(item("star", "x", { headers: new Headers({ vary: "*" }) })), false);
  assert.equal(await cache.delete({ distribution: "acme/site", key: "v" }), true);
  assert.equal(cache.stats().entries, 0);
  assert.equal(await cache.delete({ distribution: "acme/site", key: "v" }), false);
});

test("delete of a key that is not stored writes nothing (other processes keep their variant lists)", async () => {
  const { cache, store } = setup();
  await cache.put(item("a", "x"));
  const generation = () => store.table<number>("cache-meta").get("s/generation");
  const before = generation();
  assert.equal(await cache.delete({ distribution: "acme/site", key: "nope" }), false);
  assert.equal(generation(), before);
  assert.equal(await cache.delete({ distribution: "acme/site", key: "a" }), true);
  assert.equal(generation(), (before ?? 0) + 1);
});

test("scopes are separate: the same key in two distributions is two entries", async () => {
  const { cache } = setup();
  await cache.put(item("k", "one"));
  await cache.put(item("k", "two", { distribution: "acme#cache:x" }));
  assert.equal(text(cache.get(slot("k"))?.body), "one");
  assert.equal(text(cache.get({ distribution: "acme#cache:x", key: "k", request: noHeaders })?.body), "two");
  assert.equal(await cache.delete({ distribution: "acme#cache:x", key: "k" }), true);
  assert.equal(text(cache.get(slot("k"))?.body), "one");
});

test("the object limit and the size cap: too big is not stored; past the cap the least recently used go first", async () => {
  const { cache, advance } = setup({ maxBytes: 3000, maxObjectBytes: 1000 });
  assert.equal(await cache.put(item("big", "x".repeat(1001))), false);
  assert.equal(cache.get(slot("big")), undefined);
  for (const k of ["a", "b", "c"]) {
    assert.equal(await cache.put(item(k, "x".repeat(700), { ttl: 600 })), true);
    advance(1);
  }
  assert.ok(cache.get(slot("a")) !== undefined, "a hit makes a the most recently used");
  advance(1);
  await cache.put(item("d", "x".repeat(700), { ttl: 600 }));
  assert.ok(cache.stats().bytes <= 3000);
  assert.equal(cache.get(slot("b")), undefined, "b, the least recently used, was evicted");
  assert.ok(cache.get(slot("a")) !== undefined);
  assert.ok(cache.get(slot("d")) !== undefined);
});

test("purge by path prefix and by Cache-Tag removes what put stored", async () => {
  const { cache } = setup();
  await cache.put(item("p1", "x", { path: "/blog/1" }));
  await cache.put(item("p2", "x", { path: "/shop/2", headers: new Headers({ "cache-tag": "sale, shoes" }) }));
  await cache.put(item("p3", "x", { path: "/shop/3" }));
  assert.equal(await cache.purge({ distribution: "acme/site", prefix: "/blog/" }), 1);
  assert.equal(await cache.purge({ distribution: "acme/site", tag: "shoes" }), 1);
  assert.equal(cache.get(slot("p1")), undefined);
  assert.equal(cache.get(slot("p2")), undefined);
  assert.ok(cache.get(slot("p3")) !== undefined);
});

const POLICY: CacheKeyPolicy = { queryStrings: { behavior: "all", items: [] }, headers: { behavior: "none", items: [] }, cookies: { behavior: "none", items: [] } };

test("serve and the direct API share entries both ways", async () => {
  const { cache } = setup();
  const url = new URL("https://shop.example/page");
  const key = cache.key({ distribution: "acme/site", behavior: "default", host: "shop.example", url, headers: noHeaders, policy: POLICY });
  const ttl = { min: 0, default: 60, max: 3600 };
  let fills = 0;
  const fill = async () => {
    fills++;
    return new Response("from origin", { headers: { "cache-control": "max-age=600" } });
  };
  // Traffic stores; the direct API finds it.
  const first = await cache.serve({ key, request: new Request(url), path: "/page", distribution: "acme/site", ttl, fill });
  await first.response.text();
  await cache.drain();
  assert.equal(text(cache.get(slot(key))?.body), "from origin");
  // The direct API stores; traffic is answered with it, without a fill.
  await cache.put(item(key, "from put", { ttl: 600 }));
  const second = await cache.serve({ key, request: new Request(url), path: "/page", distribution: "acme/site", ttl, fill });
  assert.deepEqual([second.result, await second.response.text(), fills], ["Hit", "from put", 1]);
  // delete, and traffic fills again.
  await cache.delete({ distribution: "acme/site", key });
  const third = await cache.serve({ key, request: new Request(url), path: "/page", distribution: "acme/site", ttl, fill });
  assert.deepEqual([third.result, await third.response.text(), fills], ["Miss", "from origin", 2]);
});
