import { test } from "node:test";
import assert from "node:assert/strict";
import { get, makeOrigin, ok, setup } from "./test-support.ts";
import { varyMatches, varyNames, varyValues } from "../../src/pipeline/cache/vary.ts";

test("Vary names are lowercased, deduplicated and sorted; values compared per name", () => {
  assert.deepEqual(varyNames("Accept-Language, accept-encoding ,ACCEPT-LANGUAGE"), ["accept-encoding", "accept-language"]);
  const names = ["accept-encoding", "x-a"];
  const stored = varyValues(new Headers({ "accept-encoding": "gzip,  br" }), names);
  assert.deepEqual(stored, ["gzip,br", null]);
  assert.ok(varyMatches(new Headers({ "Accept-Encoding": "gzip, br" }), names, stored));
  assert.ok(!varyMatches(new Headers({ "accept-encoding": "gzip" }), names, stored));
  assert.ok(!varyMatches(new Headers({ "accept-encoding": "gzip, br", "x-a": "" }), names, stored), "absent is not empty");
  assert.ok(!varyMatches(new Headers(), ["*"], []));
});

test("an entry with Vary answers only requests with the same values; several variants per key", async (t) => {
  const h = setup(t);
  const origin = makeOrigin((_c) => ok("fr-body", { "cache-control": "max-age=60", vary: "Accept-Language" }));
  const fr = { headers: { "accept-language": "fr" } };
  const de = { headers: { "accept-language": "de" } };
  assert.equal((await get(h, origin, fr)).result, "Miss");
  assert.equal((await get(h, origin, fr)).result, "Hit");
  origin.answer(ok("de-body", { "cache-control": "max-age=60", vary: "Accept-Language" }));
  const deMiss = await get(h, origin, de);
  assert.equal(deMiss.result, "Miss", "other value: not a hit");
  const deHit = await get(h, origin, de);
  assert.equal(deHit.result, "Hit");
  assert.equal(deHit.body, "de-body");
  const frHit = await get(h, origin, fr);
  assert.equal(frHit.result, "Hit", "the fr variant is still there");
  assert.equal(frHit.body, "fr-body");
  assert.equal((await get(h, origin)).result, "Miss", "no Accept-Language is a value of its own");
  assert.equal(origin.calls.length, 3);
  assert.equal(h.cache.stats().entries, 3);
});

test("Vary: * is never a hit", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(ok("x", { "cache-control": "max-age=60", vary: "*" }));
  await get(h, origin);
  assert.equal((await get(h, origin)).result, "Miss");
  assert.equal(origin.calls.length, 2);
  assert.equal(h.cache.stats().entries, 0);
});
