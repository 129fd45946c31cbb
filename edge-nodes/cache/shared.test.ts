/**
 * Two caches over one LMDB environment, as two worker processes of a node
 * have: whatever one stores, replaces or drops is what the other serves next,
 * even for a key it has just been hitting (and so knows the variants of).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { get, makeOrigin, ok, setup } from "./test-support.ts";

test("a key another process replaced, purged or evicted is served as it is now, not as this process last read it", async (t) => {
  const a = setup(t);
  const b = setup(t, { dir: a.dir, clock: a.clock });
  const origin = makeOrigin(ok("v1", { "cache-control": "max-age=600" }));
  await get(a, origin);
  for (let i = 0; i < 3; i++) assert.equal((await get(a, origin)).body, "v1");

  // b purges, then stores a new response under the same key: a sees both at once.
  assert.equal(await b.cache.purge({ distribution: "acme/site" }), 1);
  origin.answer(ok("v2", { "cache-control": "max-age=600" }));
  const after = await get(b, origin);
  assert.deepEqual([after.result, after.body], ["Miss", "v2"]);
  const seen = await get(a, origin);
  assert.deepEqual([seen.result, seen.body], ["Hit", "v2"]);

  // b purges again: a's next request is a miss that asks the origin.
  await b.cache.purge({ distribution: "acme/site", prefix: "/a" });
  origin.answer(ok("v3", { "cache-control": "max-age=600" }));
  const calls = origin.calls.length;
  const refilled = await get(a, origin);
  assert.deepEqual([refilled.result, refilled.body, origin.calls.length], ["Miss", "v3", calls + 1]);

  // A variant with Vary stored by b replaces a's no-Vary entry for the requests it matches.
  origin.answer(ok("gz", { "cache-control": "max-age=600", vary: "accept-encoding" }));
  a.clock.advance(601);
  await get(b, origin, { headers: { "accept-encoding": "gzip" } });
  const gz = await get(a, origin, { headers: { "accept-encoding": "gzip" } });
  assert.deepEqual([gz.result, gz.body], ["Hit", "gz"]);
});
