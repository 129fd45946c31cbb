import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_STALE_IF_ERROR } from "../../src/pipeline/cache/index.ts";
import { get, makeOrigin, ok, setup } from "./test-support.ts";

const LM = "Tue, 01 Jan 2030 00:00:00 GMT";

test("a stale entry with an ETag is revalidated; a 304 refreshes TTL and headers and serves the stored body (RefreshHit)", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("body-1", { "cache-control": "max-age=10", etag: '"v1"', "content-type": "text/plain", "x-gen": "1" }));
  await get(h, origin);
  h.clock.advance(11);
  origin.answer(new Response(null, { status: 304, headers: { "cache-control": "max-age=100", etag: '"v1"', "x-gen": "2" } }));
  const refreshed = await get(h, origin);
  assert.equal(refreshed.result, "RefreshHit");
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.body, "body-1");
  assert.equal(refreshed.headers.get("x-gen"), "2", "headers updated from the 304");
  assert.equal(refreshed.headers.get("content-type"), "text/plain", "content headers kept");
  assert.equal(refreshed.headers.get("age"), "0");
  assert.deepEqual(origin.calls[1], { "if-none-match": '"v1"' });
  h.clock.advance(99);
  const hit = await get(h, origin);
  assert.equal(hit.result, "Hit", "the 304's max-age=100 applies from the revalidation");
  assert.equal(hit.headers.get("x-gen"), "2");
  assert.equal(origin.calls.length, 2);
});

test("Last-Modified is sent as If-Modified-Since; both validators when there are both", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("x", { "cache-control": "max-age=1", "last-modified": LM }));
  await get(h, origin, { path: "/lm" });
  h.clock.advance(2);
  origin.answer(new Response(null, { status: 304 }));
  assert.equal((await get(h, origin, { path: "/lm" })).result, "RefreshHit");
  assert.deepEqual(origin.calls[1], { "if-modified-since": LM });
  origin.answer(ok("y", { "cache-control": "max-age=1", "last-modified": LM, etag: 'W/"e"' }));
  await get(h, origin, { path: "/both" });
  h.clock.advance(2);
  await get(h, origin, { path: "/both" });
  assert.deepEqual(origin.calls.at(-1), { "if-none-match": 'W/"e"', "if-modified-since": LM });
});

test("a 200 to a revalidation replaces the entry (Miss)", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("old", { "cache-control": "max-age=10", etag: '"1"' }));
  await get(h, origin);
  h.clock.advance(11);
  origin.answer(ok("new", { "cache-control": "max-age=10", etag: '"2"' }));
  const res = await get(h, origin);
  assert.equal(res.result, "Miss");
  assert.equal(res.body, "new");
  const hit = await get(h, origin);
  assert.equal(hit.result, "Hit");
  assert.equal(hit.body, "new");
  assert.equal(h.cache.stats().entries, 1, "replaced, not added");
});

test("no-cache is stored but revalidated on every request", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("nc", { "cache-control": "no-cache", etag: '"n"' }));
  assert.equal((await get(h, origin)).result, "Miss");
  origin.answer(new Response(null, { status: 304 }));
  for (let i = 0; i < 3; i++) {
    const r = await get(h, origin);
    assert.equal(r.result, "RefreshHit");
    assert.equal(r.body, "nc");
  }
  assert.equal(origin.calls.length, 4);
  assert.ok(origin.calls.slice(1).every((c) => c["if-none-match"] === '"n"'));
});

test("a 304 that now says no-store serves the validated body once and drops the entry", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("x", { "cache-control": "max-age=1", etag: '"1"' }));
  await get(h, origin);
  h.clock.advance(2);
  origin.answer(new Response(null, { status: 304, headers: { "cache-control": "no-store" } }));
  const r = await get(h, origin);
  assert.equal(r.result, "RefreshHit");
  assert.equal(r.body, "x");
  assert.equal(h.cache.stats().entries, 0);
});

test("viewer conditionals that match a fresh entry get a 304 from the cache", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("body", { "cache-control": "max-age=60", etag: '"abc"', "last-modified": LM, "content-type": "text/plain" }));
  await get(h, origin);
  const inm = await get(h, origin, { headers: { "if-none-match": 'W/"zzz", "abc"' } });
  assert.equal(inm.status, 304);
  assert.equal(inm.result, "Hit");
  assert.equal(inm.body, "");
  assert.equal(inm.headers.get("etag"), '"abc"');
  assert.equal(inm.headers.get("content-type"), null);
  assert.equal((await get(h, origin, { headers: { "if-none-match": '"other"' } })).status, 200);
  assert.equal((await get(h, origin, { headers: { "if-none-match": "*" } })).status, 304);
  assert.equal((await get(h, origin, { headers: { "if-modified-since": LM } })).status, 304);
  assert.equal((await get(h, origin, { headers: { "if-modified-since": "Mon, 31 Dec 2029 00:00:00 GMT" } })).status, 200);
  assert.equal(
    (await get(h, origin, { headers: { "if-none-match": '"other"', "if-modified-since": LM } })).status,
    200,
    "If-None-Match wins over If-Modified-Since",
  );
  assert.equal(origin.calls.length, 1, "all answered by the cache");
});

test("stale-if-error: a throwing or 5xx origin gets the stale entry (StaleHit) within the window", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("good", { "cache-control": "max-age=10" }));
  await get(h, origin);
  h.clock.advance(60);
  origin.answer(new Error("ECONNREFUSED"));
  const thrown = await get(h, origin);
  assert.equal(thrown.result, "StaleHit");
  assert.equal(thrown.body, "good");
  assert.equal(thrown.headers.get("age"), "60");
  for (const status of [500, 502, 503, 504]) {
    origin.answer(ok("error page", {}, status));
    const r = await get(h, origin);
    assert.equal(r.result, "StaleHit", String(status));
    assert.equal(r.body, "good");
  }
  origin.answer(ok("bad request", {}, 400));
  assert.equal((await get(h, origin)).status, 400, "a 4xx is an answer, not an outage");
});

test("stale-if-error: past the default window (a day) the error goes through", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("good", { "cache-control": "max-age=10" }));
  await get(h, origin);
  h.clock.advance(10 + DEFAULT_STALE_IF_ERROR);
  origin.answer(ok("oops", {}, 503));
  assert.equal((await get(h, origin)).result, "StaleHit", "at the edge of the window");
  h.clock.advance(1);
  const late = await get(h, origin);
  assert.equal(late.result, "Miss");
  assert.equal(late.status, 503);
  origin.answer(new Error("ECONNREFUSED"));
  await assert.rejects(get(h, origin), /ECONNREFUSED/);
});

test("stale-if-error: the origin's own window, and none under must-revalidate", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("a", { "cache-control": "max-age=10, stale-if-error=30" }));
  await get(h, origin, { path: "/sie" });
  origin.answer(ok("b", { "cache-control": "max-age=10, must-revalidate" }));
  await get(h, origin, { path: "/mr" });
  h.clock.advance(40);
  origin.answer(ok("down", {}, 502));
  assert.equal((await get(h, origin, { path: "/sie" })).result, "StaleHit");
  assert.equal((await get(h, origin, { path: "/mr" })).status, 502);
  h.clock.advance(1);
  assert.equal((await get(h, origin, { path: "/sie" })).status, 502);
});

test("a stale entry with validators falls back on its stale copy when revalidation fails", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("v", { "cache-control": "max-age=1", etag: '"1"' }));
  await get(h, origin);
  h.clock.advance(5);
  origin.answer(new Error("timeout"));
  const r = await get(h, origin);
  assert.equal(r.result, "StaleHit");
  assert.deepEqual(origin.calls[1], { "if-none-match": '"1"' });
});
