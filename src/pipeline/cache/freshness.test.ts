import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCacheControl } from "./cache-control.ts";
import { DEFAULT_STALE_IF_ERROR, currentAge, isFresh, storeDecision, usableOnError, type StoreDecision } from "./freshness.ts";

const TTL = { min: 0, default: 100, max: 1000 };
const NOW = Date.UTC(2026, 0, 1);

function decide(headers: Record<string, string>, status = 200, ttl = TTL): StoreDecision {
  return storeDecision(new Headers(headers), status, ttl, NOW);
}
function ttlOf(headers: Record<string, string>, status = 200, ttl = TTL): number {
  const d = decide(headers, status, ttl);
  assert.ok(d.store, `expected to store, got ${JSON.stringify(d)}`);
  return d.ttl;
}

test("Cache-Control parsing: case, quotes, first occurrence wins", () => {
  const cc = parseCacheControl('Public, MAX-AGE=60, no-cache="set-cookie, x", max-age=5, s-maxage="30"');
  assert.equal(cc.get("max-age"), "60");
  assert.equal(cc.get("no-cache"), "set-cookie, x");
  assert.equal(cc.get("s-maxage"), "30");
  assert.equal(cc.get("public"), true);
});

test("TTL: s-maxage, then max-age, then Expires - Date, else the default; clamped to min..max", () => {
  assert.equal(ttlOf({ "cache-control": "max-age=50, s-maxage=70" }), 70);
  assert.equal(ttlOf({ "cache-control": "max-age=50" }), 50);
  assert.equal(ttlOf({ date: new Date(NOW).toUTCString(), expires: new Date(NOW + 300_000).toUTCString() }), 300);
  assert.equal(ttlOf({ expires: new Date(NOW + 40_000).toUTCString() }), 40, "no Date: from now");
  assert.equal(ttlOf({ expires: "0" }), 0, "an invalid Expires is in the past");
  assert.equal(ttlOf({}), 100, "default");
  assert.equal(ttlOf({ "cache-control": "max-age=5000" }), 1000, "clamped to max");
  assert.equal(ttlOf({ "cache-control": "max-age=5" }, 200, { min: 30, default: 100, max: 1000 }), 30, "clamped to min");
  assert.equal(ttlOf({ "cache-control": "max-age=abc" }), 100, "a malformed max-age is ignored");
  assert.equal(ttlOf({ "cache-control": "max-age=0" }), 0);
});

test("no-store and private are not stored while min TTL is 0; a positive min TTL caches them for min", () => {
  assert.deepEqual(decide({ "cache-control": "no-store" }), { store: false, reason: "no-store" });
  assert.deepEqual(decide({ "cache-control": "private, max-age=60" }), { store: false, reason: "private" });
  assert.equal(ttlOf({ "cache-control": "no-store" }, 200, { min: 20, default: 100, max: 1000 }), 20);
  assert.equal(ttlOf({ "cache-control": "private, max-age=600" }, 200, { min: 20, default: 100, max: 1000 }), 20);
});

test("no-cache is stored but never fresh (revalidated every time); with min TTL > 0 it is cached for min", () => {
  const d = decide({ "cache-control": "no-cache", etag: '"1"' });
  assert.ok(d.store && d.noCache && d.ttl === 0);
  assert.equal(isFresh({ storedAt: NOW, initialAge: 0, ttl: 0, noCache: true, staleIfError: 0 }, NOW), false);
  const m = decide({ "cache-control": "no-cache" }, 200, { min: 20, default: 100, max: 1000 });
  assert.ok(m.store && !m.noCache && m.ttl === 20);
});

test("status codes: CloudFront's cached set; 5xx, 206, 304 and others never; some only with an explicit max-age", () => {
  for (const s of [200, 203, 204, 300, 301, 302, 404, 405, 410, 414, 501]) assert.ok(decide({}, s).store, `${s} stored`);
  for (const s of [206, 304, 401, 429, 500, 502, 503, 504]) assert.equal(decide({ "cache-control": "max-age=60" }, s).store, false, `${s} not stored`);
  for (const s of [307, 308, 400, 403, 412, 415]) {
    assert.equal(decide({}, s).store, false, `${s} without max-age`);
    assert.ok(decide({ "cache-control": "max-age=60" }, s).store, `${s} with max-age`);
  }
});

test("Vary: * is never stored", () => {
  assert.deepEqual(decide({ vary: "Accept, *" }), { store: false, reason: "Vary: *" });
  assert.ok(decide({ vary: "accept-encoding" }).store);
});

test("stale-if-error window: the origin's, else a day; none under must-revalidate or no-cache", () => {
  const sie = (h: Record<string, string>): number => {
    const d = decide(h);
    assert.ok(d.store);
    return d.staleIfError;
  };
  assert.equal(sie({ "cache-control": "max-age=10, stale-if-error=30" }), 30);
  assert.equal(sie({ "cache-control": "max-age=10" }), DEFAULT_STALE_IF_ERROR);
  assert.equal(sie({ "cache-control": "max-age=10, must-revalidate" }), 0);
  assert.equal(sie({ "cache-control": "no-cache" }), 0);
  assert.equal(sie({ "cache-control": "no-cache, stale-if-error=60" }), 60);
});

test("age counts the origin's Age plus time in the cache; fresh while age < ttl", () => {
  const d = decide({ "cache-control": "max-age=100, stale-if-error=50", age: "30" });
  assert.ok(d.store);
  const entry = { storedAt: NOW, initialAge: d.initialAge, ttl: d.ttl, noCache: d.noCache, staleIfError: d.staleIfError };
  assert.equal(currentAge(entry, NOW + 10_500), 40);
  assert.ok(isFresh(entry, NOW + 69_000));
  assert.ok(!isFresh(entry, NOW + 70_000));
  assert.ok(usableOnError(entry, NOW + 120_000), "stale by 50 s");
  assert.ok(!usableOnError(entry, NOW + 121_000), "stale by 51 s");
});
