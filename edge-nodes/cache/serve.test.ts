import { test } from "node:test";
import assert from "node:assert/strict";
import { hasCode } from "../../src/shared/errors.ts";
import { createResponseCache } from "../../src/pipeline/cache/index.ts";
import { get, makeOrigin, ok, setup } from "./test-support.ts";

test("a miss fills and stores; the next request is a Hit with Age and the stored headers", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("hello", { "cache-control": "max-age=60", "content-type": "text/plain", "x-origin": "1" }));
  const miss = await get(h, origin);
  assert.equal(miss.result, "Miss");
  assert.equal(miss.body, "hello");
  h.clock.advance(7);
  const hit = await get(h, origin);
  assert.equal(hit.result, "Hit");
  assert.equal(hit.body, "hello");
  assert.equal(hit.headers.get("age"), "7");
  assert.equal(hit.headers.get("content-type"), "text/plain");
  assert.equal(hit.headers.get("x-origin"), "1");
  assert.equal(origin.calls.length, 1);
  assert.deepEqual(origin.calls[0], {}, "a plain miss sends no conditionals");
  const s = h.cache.stats();
  assert.equal(s.entries, 1);
  assert.ok(s.bytes > 5);
  assert.equal(s.hits, 1);
  assert.equal(s.misses, 1);
});

test("an entry expires after its TTL (the behavior's default when the origin says nothing)", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("v1"));
  await get(h, origin, { ttl: { min: 0, default: 30, max: 100 } });
  h.clock.advance(29);
  assert.equal((await get(h, origin, { ttl: { min: 0, default: 30, max: 100 } })).result, "Hit");
  h.clock.advance(1);
  origin.answer(ok("v2"));
  const after = await get(h, origin, { ttl: { min: 0, default: 30, max: 100 } });
  assert.equal(after.result, "Miss");
  assert.equal(after.body, "v2");
  assert.equal(origin.calls.length, 2);
});

test("max-age is clamped to the behavior's max TTL", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("x", { "cache-control": "max-age=86400" }));
  const ttl = { min: 0, default: 10, max: 60 };
  await get(h, origin, { ttl });
  h.clock.advance(61);
  assert.equal((await get(h, origin, { ttl })).result, "Miss");
});

test("no-store and private are not stored; with a positive min TTL they are, for min", async (t) => {
  const h = setup(t);
  for (const cc of ["no-store", "private"]) {
    const origin = makeOrigin(ok("x", { "cache-control": cc }));
    assert.equal((await get(h, origin, { path: `/${cc}` })).result, "Miss");
    assert.equal((await get(h, origin, { path: `/${cc}` })).result, "Miss");
    assert.equal(origin.calls.length, 2, cc);
  }
  const origin = makeOrigin(ok("x", { "cache-control": "no-store" }));
  const ttl = { min: 10, default: 20, max: 30 };
  await get(h, origin, { path: "/min", ttl });
  h.clock.advance(9);
  assert.equal((await get(h, origin, { path: "/min", ttl })).result, "Hit");
  h.clock.advance(1);
  assert.equal((await get(h, origin, { path: "/min", ttl })).result, "Miss");
});

test("5xx and other uncacheable statuses are not stored; 404 is", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("down", { "cache-control": "max-age=60" }, 503));
  assert.equal((await get(h, origin, { path: "/e" })).status, 503);
  assert.equal((await get(h, origin, { path: "/e" })).result, "Miss");
  assert.equal(origin.calls.length, 2);
  const missing = makeOrigin(ok("nope", {}, 404));
  await get(h, missing, { path: "/n" });
  const again = await get(h, missing, { path: "/n" });
  assert.equal(again.result, "Hit");
  assert.equal(again.status, 404);
  assert.equal(again.body, "nope");
  const redirect = makeOrigin(ok("", { location: "/x" }, 307));
  await get(h, redirect, { path: "/r" });
  assert.equal((await get(h, redirect, { path: "/r" })).result, "Miss", "307 without Cache-Control");
});

test("only GET and HEAD are cached; other methods are Bypass and always fill", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("x", { "cache-control": "max-age=60" }));
  assert.equal((await get(h, origin, { method: "POST" })).result, "Bypass");
  assert.equal((await get(h, origin, { method: "POST" })).result, "Bypass");
  assert.equal((await get(h, origin, { method: "DELETE" })).result, "Bypass");
  assert.equal(origin.calls.length, 3);
  assert.equal(h.cache.stats().entries, 0);
});

test("HEAD is answered from a GET entry, without a body; a HEAD miss is not stored", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("", { "cache-control": "max-age=60", "content-length": "5" }));
  const headMiss = await get(h, origin, { method: "HEAD" });
  assert.equal(headMiss.result, "Miss");
  assert.equal(h.cache.stats().entries, 0, "nothing stored from a HEAD");
  origin.answer(ok("hello", { "cache-control": "max-age=60" }));
  await get(h, origin);
  const head = await get(h, origin, { method: "HEAD" });
  assert.equal(head.result, "Hit");
  assert.equal(head.body, "");
  assert.equal(head.response.body, null);
  assert.equal(origin.calls.length, 2);
});

test("bodies over maxObjectBytes stream through uncached, declared or not", async (t) => {
  const h = setup(t, { maxObjectBytes: 8 });
  const big = "x".repeat(20);
  const declared = makeOrigin(ok(big, { "cache-control": "max-age=60", "content-length": "20" }));
  assert.equal((await get(h, declared, { path: "/d" })).body, big);
  assert.equal((await get(h, declared, { path: "/d" })).result, "Miss");
  const chunked = makeOrigin(
    () =>
      new Response(
        new ReadableStream({
          start(c) {
            for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode("xxxxx"));
            c.close();
          },
        }),
        { headers: { "cache-control": "max-age=60" } },
      ),
  );
  assert.equal((await get(h, chunked, { path: "/c" })).body, big);
  assert.equal((await get(h, chunked, { path: "/c" })).result, "Miss");
  const small = makeOrigin(ok("12345678", { "cache-control": "max-age=60" }));
  await get(h, small, { path: "/s" });
  assert.equal((await get(h, small, { path: "/s" })).result, "Hit", "exactly the limit is stored");
});

test("an origin body that breaks mid-way is not stored", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(
    () =>
      new Response(
        new ReadableStream({
          pull(c) {
            c.enqueue(new TextEncoder().encode("part"));
            c.error(new Error("connection reset"));
          },
        }),
        { headers: { "cache-control": "max-age=60" } },
      ),
  );
  const first = await h.cache.serve({
    key: "k",
    request: new Request("https://example.com/a"),
    path: "/a",
    distribution: "acme/site",
    ttl: { min: 0, default: 60, max: 60 },
    fill: (c) => origin.fill(c),
  });
  await assert.rejects(first.response.text(), /connection reset/);
  assert.equal(h.cache.stats().entries, 0);
});

test("Set-Cookie reaches the viewer of the miss but is not stored", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("x", { "cache-control": "max-age=60", "set-cookie": "s=1" }));
  assert.equal((await get(h, origin)).headers.get("set-cookie"), "s=1");
  const hit = await get(h, origin);
  assert.equal(hit.result, "Hit");
  assert.equal(hit.headers.get("set-cookie"), null);
});

test("entries survive a restart: a new cache over the same LMDB dir hits", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("persisted", { "cache-control": "max-age=60" }));
  await get(h, origin);
  await h.store.close();
  const again = setup(t, { dir: h.dir, clock: h.clock });
  const hit = await get(again, origin);
  assert.equal(hit.result, "Hit");
  assert.equal(hit.body, "persisted");
  assert.equal(again.cache.stats().entries, 1);
});

test("bad options and TTLs are refused with ERR_INVALID_OPTIONS", async (t) => {
  const h = setup(t);
  assert.throws(() => createResponseCache({ store: h.store, maxBytes: -1 }), (e) => hasCode(e, "ERR_INVALID_OPTIONS") && /maxBytes/.test(e.message));
  assert.throws(() => createResponseCache({ store: {} as never }), (e) => hasCode(e, "ERR_INVALID_OPTIONS"));
  await assert.rejects(
    get(h, makeOrigin(ok("x")), { ttl: { min: 10, default: 5, max: 1 } }),
    (e) => hasCode(e, "ERR_INVALID_OPTIONS") && /min <= max/.test(e.message),
  );
});
