/**
 * The cache's direct API (the Workers Cache API's storage) over LMDB, with two
 * caches over one environment as two worker processes of a node have them:
 * what one puts or deletes is what the other finds next, and it shares the
 * entries the other's traffic stored.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ALL_QUERY, get, makeOrigin, ok, setup } from "./test-support.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

test("put, get and delete across two caches over one LMDB environment, and with the other's traffic", async (t) => {
  const a = setup(t);
  const b = setup(t, { dir: a.dir, clock: a.clock });
  const none = new Headers();
  const slot = { distribution: "acme/site", key: "k", request: none };
  assert.equal(a.cache.get(slot), undefined);
  const stored = { ...slot, path: "/k", status: 200, statusText: "OK", headers: new Headers({ "cache-control": "max-age=60" }), body: new TextEncoder().encode("v1"), ttl: 60, staleIfError: 0 };
  assert.equal(await a.cache.put(stored), true);
  assert.equal(text(b.cache.get(slot)?.body), "v1");
  // b replaces it, then deletes it: a, which has read the key, sees each change at once.
  assert.equal(await b.cache.put({ ...stored, body: new TextEncoder().encode("v2") }), true);
  assert.equal(text(a.cache.get(slot)?.body), "v2");
  assert.equal(await b.cache.delete(slot), true);
  assert.equal(a.cache.get(slot), undefined);
  assert.equal(await a.cache.delete(slot), false);

  // a's traffic stores a response; b's direct API finds it under the same key, and b's put answers a's traffic.
  const origin = makeOrigin(ok("from origin", { "cache-control": "max-age=600" }));
  await get(a, origin, { path: "/page" });
  const url = new URL("https://example.com/page");
  const key = b.cache.key({ distribution: "acme/site", behavior: "default", host: "example.com", url, headers: none, policy: ALL_QUERY });
  assert.equal(text(b.cache.get({ distribution: "acme/site", key, request: none })?.body), "from origin");
  await b.cache.put({ ...stored, key, path: "/page", body: new TextEncoder().encode("from put"), ttl: 600 });
  const hit = await get(a, origin, { path: "/page" });
  assert.deepEqual([hit.result, hit.body, origin.calls.length], ["Hit", "from put", 1]);
});
