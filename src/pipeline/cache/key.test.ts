import { test } from "node:test";
import assert from "node:assert/strict";
import type { CacheKeyPolicy, KeyList } from "../../shared/protocol.ts";
import type { CacheKeyInput } from "../types.ts";
import { cacheKey, parseCookies } from "./key.ts";

const none: KeyList = { behavior: "none", items: [] };
const policy = (p: Partial<CacheKeyPolicy>): CacheKeyPolicy => ({ queryStrings: none, headers: none, cookies: none, ...p });

function key(url: string, p: Partial<CacheKeyPolicy> = {}, headers: Record<string, string> = {}, extra: Partial<CacheKeyInput> = {}): string {
  const u = new URL(url);
  return cacheKey({ distribution: "acme/site", behavior: "default", host: u.hostname, url: u, headers: new Headers(headers), policy: policy(p), ...extra });
}

test("the key is sha256 hex over distribution, behavior, host and path", () => {
  const k = key("https://example.com/a");
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(k, key("https://example.com/a"));
  assert.notEqual(k, key("https://example.com/b"), "path");
  assert.notEqual(k, key("https://example.com/A"), "path is case-sensitive");
  assert.notEqual(k, key("https://other.com/a"), "host");
  assert.equal(k, key("https://example.com/a", {}, {}, { host: "EXAMPLE.com" }), "host is case-insensitive");
  assert.notEqual(k, key("https://example.com/a", {}, {}, { distribution: "acme/other" }), "distribution");
  assert.notEqual(k, key("https://example.com/a", {}, {}, { behavior: "/img/*" }), "behavior");
});

test("query strings: none, all (order-insensitive), allowList, allExcept; names case-sensitive", () => {
  assert.equal(key("https://e.com/a?x=1"), key("https://e.com/a?y=2"), "none ignores the query");
  const all: Partial<CacheKeyPolicy> = { queryStrings: { behavior: "all", items: [] } };
  assert.equal(key("https://e.com/a?x=1&y=2", all), key("https://e.com/a?y=2&x=1", all), "order does not matter");
  assert.notEqual(key("https://e.com/a?x=1", all), key("https://e.com/a?x=2", all));
  assert.notEqual(key("https://e.com/a?x=1", all), key("https://e.com/a?X=1", all), "names are case-sensitive");
  assert.equal(key("https://e.com/a?x=%41", all), key("https://e.com/a?x=A", all), "decoded values");
  const allow: Partial<CacheKeyPolicy> = { queryStrings: { behavior: "allowList", items: ["x"] } };
  assert.equal(key("https://e.com/a?x=1&utm=a", allow), key("https://e.com/a?utm=b&x=1", allow));
  assert.notEqual(key("https://e.com/a?x=1", allow), key("https://e.com/a?x=2", allow));
  const except: Partial<CacheKeyPolicy> = { queryStrings: { behavior: "allExcept", items: ["utm"] } };
  assert.equal(key("https://e.com/a?x=1&utm=a", except), key("https://e.com/a?utm=b&x=1", except));
  assert.notEqual(key("https://e.com/a?x=1&y=1", except), key("https://e.com/a?x=1", except));
});

test("headers: names case-insensitive, absent differs from empty", () => {
  const allow: Partial<CacheKeyPolicy> = { headers: { behavior: "allowList", items: ["Accept-Language"] } };
  const u = "https://e.com/a";
  assert.equal(key(u, allow, { "accept-language": "fr" }), key(u, allow, { "ACCEPT-LANGUAGE": "fr", "user-agent": "x" }));
  assert.notEqual(key(u, allow, { "accept-language": "fr" }), key(u, allow, { "accept-language": "de" }));
  assert.notEqual(key(u, allow, {}), key(u, allow, { "accept-language": "" }));
  assert.equal(key(u, {}, { "accept-language": "fr" }), key(u, {}, { "accept-language": "de" }), "none ignores headers");
  const except: Partial<CacheKeyPolicy> = { headers: { behavior: "allExcept", items: ["User-Agent"] } };
  assert.equal(key(u, except, { "user-agent": "a", x: "1" }), key(u, except, { "user-agent": "b", x: "1" }));
  assert.notEqual(key(u, except, { x: "1" }), key(u, except, { x: "2" }));
});

test("cookies: names case-sensitive, order-insensitive, by list", () => {
  const u = "https://e.com/a";
  const allow: Partial<CacheKeyPolicy> = { cookies: { behavior: "allowList", items: ["session"] } };
  assert.equal(key(u, allow, { cookie: "session=1; theme=dark" }), key(u, allow, { cookie: "theme=light;session=1" }));
  assert.notEqual(key(u, allow, { cookie: "session=1" }), key(u, allow, { cookie: "session=2" }));
  assert.equal(key(u, allow, { cookie: "Session=1" }), key(u, allow, { cookie: "Session=2" }), "Session is not session");
  const all: Partial<CacheKeyPolicy> = { cookies: { behavior: "all", items: [] } };
  assert.equal(key(u, all, { cookie: "a=1; b=2" }), key(u, all, { cookie: "b=2; a=1" }));
  assert.notEqual(key(u, all, { cookie: "a=1" }), key(u, all, { cookie: "a=1; b=2" }));
  const except: Partial<CacheKeyPolicy> = { cookies: { behavior: "allExcept", items: ["tracking"] } };
  assert.equal(key(u, except, { cookie: "a=1; tracking=x" }), key(u, except, { cookie: "tracking=y; a=1" }));
  assert.equal(key(u, {}, { cookie: "a=1" }), key(u, {}, { cookie: "a=2" }), "none ignores cookies");
  // The Cookie header never enters the key through the header list.
  const hdrAll: Partial<CacheKeyPolicy> = { headers: { behavior: "allExcept", items: [] } };
  assert.equal(key(u, hdrAll, { cookie: "a=1" }), key(u, hdrAll, { cookie: "a=2" }));
});

test("cookie parsing", () => {
  assert.deepEqual(parseCookies(" a=1 ; b = x=y ;; c"), [["a", "1"], ["b", "x=y"], ["c", ""]]);
  assert.deepEqual(parseCookies(null), []);
});
