import { test } from "node:test";
import assert from "node:assert/strict";
import { get, makeOrigin, ok, setup, type Harness, type Origin } from "./test-support.ts";

async function seed(h: Harness, origin: Origin, entries: Array<{ path: string; distribution?: string; tags?: string }>) {
  for (const e of entries) {
    origin.answer(ok(e.path, { "cache-control": "max-age=600", ...(e.tags === undefined ? {} : { "cache-tag": e.tags }) }));
    await get(h, origin, { path: e.path, ...(e.distribution === undefined ? {} : { distribution: e.distribution }) });
  }
}

test("purge by prefix drops that distribution's entries under the path, and only those", async (t) => {
  const h = setup(t);
  const origin = makeOrigin();
  await seed(h, origin, [{ path: "/img/a.png" }, { path: "/img/b/c.png" }, { path: "/css/site.css" }, { path: "/img/a.png", distribution: "acme/other" }]);
  const before = h.cache.stats();
  assert.equal(before.entries, 4);
  assert.equal(await h.cache.purge({ distribution: "acme/site", prefix: "/img/" }), 2);
  const after = h.cache.stats();
  assert.equal(after.entries, 2);
  assert.ok(after.bytes < before.bytes);
  origin.answer(ok("refetched", { "cache-control": "max-age=600" }));
  assert.equal((await get(h, origin, { path: "/img/a.png" })).result, "Miss");
  assert.equal((await get(h, origin, { path: "/css/site.css" })).result, "Hit");
  assert.equal((await get(h, origin, { path: "/img/a.png", distribution: "acme/other" })).result, "Hit", "other distribution untouched");
  assert.equal(await h.cache.purge({ distribution: "acme/site", prefix: "/nothing" }), 0);
});

test("purge by Cache-Tag drops entries whose comma-separated tags name it exactly", async (t) => {
  const h = setup(t);
  const origin = makeOrigin();
  await seed(h, origin, [
    { path: "/p/1", tags: "product-1, home" },
    { path: "/p/2", tags: "product-2,homepage" },
    { path: "/", tags: "home" },
    { path: "/x", tags: "home", distribution: "acme/other" },
  ]);
  assert.equal(await h.cache.purge({ distribution: "acme/site", tag: "home" }), 2);
  origin.answer(ok("again", { "cache-control": "max-age=600" }));
  assert.equal((await get(h, origin, { path: "/p/1" })).result, "Miss");
  assert.equal((await get(h, origin, { path: "/" })).result, "Miss");
  assert.equal((await get(h, origin, { path: "/p/2" })).result, "Hit", "homepage is not home");
  assert.equal((await get(h, origin, { path: "/x", distribution: "acme/other" })).result, "Hit");
});

test("purge with prefix and tag drops either; with neither, the whole distribution", async (t) => {
  const h = setup(t);
  const origin = makeOrigin();
  await seed(h, origin, [{ path: "/a/1" }, { path: "/b/1", tags: "t" }, { path: "/c/1" }, { path: "/z", distribution: "acme/other" }]);
  assert.equal(await h.cache.purge({ distribution: "acme/site", prefix: "/a/", tag: "t" }), 2);
  assert.equal(await h.cache.purge({ distribution: "acme/site" }), 1);
  assert.equal(h.cache.stats().entries, 1);
});

test("a purged entry's body is gone from LMDB too", async (t) => {
  const h = setup(t);
  const origin = makeOrigin();
  await seed(h, origin, [{ path: "/a" }]);
  const count = () => [...h.store.bytes("cache-body").range()].length;
  assert.equal(count(), 1);
  await h.cache.purge({ distribution: "acme/site", prefix: "/" });
  assert.equal(count(), 0);
});
