/**
 * The Workers Cache API's host half (cache-api.ts) without an isolate: the put
 * rules, byte ranges, streamed bodies and the object limit, scopes and keys.
 * The guest's side, on every target, is test/conformance/caches.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Distribution } from "../../shared/protocol.ts";
import { createCacheApi, putDecision, tenantScope, urlKey } from "./cache-api.ts";
import { parseRanges } from "./range.ts";
import { createResponseCache } from "./cache.ts";
import { createMemoryCacheStore } from "./store.ts";
import { distributionScope } from "../caches.ts";

const NOW = Date.UTC(2026, 0, 1);

function decide(headers: Record<string, string> | Array<[string, string]>, status = 200): string {
  const d = putDecision(new Headers(headers), status, NOW);
  return d.store ? `ttl ${d.ttl}` : `no (${d.reason})`;
}

test("putDecision: explicit lifetimes, Cloudflare's Edge TTL, and what is never kept", () => {
  assert.equal(decide({ "cache-control": "max-age=600" }), "ttl 600");
  assert.equal(decide({ "cache-control": "s-maxage=30, max-age=600" }), "ttl 30");
  assert.equal(decide({ expires: new Date(NOW + 90_000).toUTCString(), date: new Date(NOW).toUTCString() }), "ttl 90");
  assert.equal(decide({ expires: "0" }), "no (no lifetime)");
  // No Cache-Control or Expires: Edge TTL by status.
  assert.equal(decide({}), "ttl 7200");
  assert.equal(decide({}, 301), "ttl 7200");
  assert.equal(decide({}, 302), "ttl 1200");
  assert.equal(decide({}, 404), "ttl 180");
  assert.equal(decide({}, 410), "ttl 180");
  assert.equal(decide({}, 203), "no (no lifetime)");
  assert.equal(decide({}, 201), "no (status 201 is not cached)");
  assert.equal(decide({ "cache-control": "max-age=600" }, 500), "no (status 500 is not cached)");
  assert.equal(decide({ "cache-control": "max-age=600" }, 307), "ttl 600");
  assert.equal(decide({}, 307), "no (status 307 without max-age)");
  for (const cc of ["no-store", "private", "no-cache, max-age=60", "max-age=0"]) assert.match(decide({ "cache-control": cc }), /^no /, cc);
  assert.equal(decide({ "cache-control": "max-age=60", age: "60" }), "no (no lifetime)");
  assert.equal(decide({ "cache-control": "max-age=60", "set-cookie": "a=1" }), "no (Set-Cookie)");
  assert.equal(decide({ "cache-control": "public, max-age=60", "set-cookie": "a=1" }), "no (Set-Cookie)");
});

test("putDecision: private / no-cache naming fields store the response without them", () => {
  const d = putDecision(new Headers([["cache-control", 'private="Set-Cookie, X-Secret", max-age=60'], ["set-cookie", "a=1"], ["x-secret", "s"], ["x-kept", "k"]]), 200, NOW);
  assert.ok(d.store);
  assert.deepEqual([...d.headers].map(([n]) => n), ["cache-control", "x-kept"]);
  assert.equal(d.headers.get("cache-control"), 'private="Set-Cookie, X-Secret", max-age=60', "Cache-Control is stored as given");
  assert.equal(decide({ "cache-control": "no-cache=Set-Cookie, max-age=60", "set-cookie": "a=1" }), "ttl 60");
  assert.equal(decide({ "cache-control": "private=X-Other, max-age=60", "set-cookie": "a=1" }), "no (Set-Cookie)");
  // A field list a header name cannot be is ignored, not thrown on.
  assert.equal(decide({ "cache-control": 'private="(bad)", max-age=60' }), "ttl 60");
});

test("parseRanges: RFC 9110 byte ranges, clamped; malformed or unsatisfiable ones are unsatisfiable; other units ignored", () => {
  assert.deepEqual(parseRanges("bytes=0-4", 10), [[0, 4]]);
  assert.deepEqual(parseRanges("bytes=6-", 10), [[6, 9]]);
  assert.deepEqual(parseRanges("bytes=-3", 10), [[7, 9]]);
  assert.deepEqual(parseRanges("bytes=-30", 10), [[0, 9]]);
  assert.deepEqual(parseRanges("bytes=8-100", 10), [[8, 9]]);
  assert.deepEqual(parseRanges("bytes = 0-1, 5-6", 10), [[0, 1], [5, 6]]);
  assert.deepEqual(parseRanges("bytes=0-1, 20-30", 10), [[0, 1]]);
  assert.equal(parseRanges("bytes=10-", 10), "unsatisfiable");
  assert.equal(parseRanges("bytes=-0", 10), "unsatisfiable");
  assert.equal(parseRanges("bytes=4-2", 10), "unsatisfiable");
  assert.equal(parseRanges("bytes=a-b", 10), "unsatisfiable");
  assert.equal(parseRanges("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRanges("items=0-1", 10), undefined);
});

function setup(options: { maxObjectBytes?: number } = {}) {
  const cache = createResponseCache({ store: createMemoryCacheStore(), now: () => NOW, ...options });
  return { cache, api: createCacheApi({ cache, scope: tenantScope("acme"), now: () => NOW }) };
}

const req = (url: string, headers: Array<[string, string]> = []) => ({ url, headers });
const res = (body: string | null, headers: Array<[string, string]> = [["cache-control", "max-age=600"]], status = 200) => ({
  status,
  statusText: "",
  headers,
  body: body === null ? null : new TextEncoder().encode(body),
});

/** A streamed body that records whether it was read to the end or closed early. */
function streamed(chunks: string[]) {
  const state = { read: 0, closed: false };
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => (state.read < chunks.length ? { done: false, value: new TextEncoder().encode(chunks[state.read++]!) } : { done: true, value: undefined }),
      return: async () => {
        state.closed = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return { body, state };
}

test("put reads a streamed body to its end and stores it; match answers with HIT, Age, Content-Length and the reason phrase", async () => {
  const { api } = setup();
  const s = streamed(["ab", "cd"]);
  assert.equal(await api.put(null, req("https://x.test/s"), { status: 200, statusText: "", headers: [["cache-control", "max-age=60"], ["content-length", "99"]], body: s.body }), true);
  assert.equal(s.state.read, 2);
  const hit = await api.match(null, req("https://x.test/s"));
  assert.deepEqual(hit && [hit.status, hit.statusText, hit.headers, new TextDecoder().decode(hit.body!)], [
    200,
    "OK",
    [["cache-control", "max-age=60"], ["age", "0"], ["cf-cache-status", "HIT"], ["content-length", "4"]],
    "abcd",
  ]);
});

test("put of a body over the object limit reads no further, closes it, and stores nothing; nor does a refused one get read", async () => {
  const { api } = setup({ maxObjectBytes: 5 });
  const big = streamed(["abc", "def", "ghi"]);
  assert.equal(await api.put(null, req("https://x.test/big"), { ...res(null), body: big.body }), false);
  assert.deepEqual(big.state, { read: 2, closed: true });
  assert.equal(await api.match(null, req("https://x.test/big")), undefined);
  const refused = streamed(["a"]);
  assert.equal(await api.put(null, req("https://x.test/ns"), { ...res(null, [["cache-control", "no-store"]]), body: refused.body }), false);
  assert.equal(refused.state.read, 0);
  assert.equal(await api.put(null, req("https://x.test/304"), res(null, [], 304)), false);
});

test("put checks again what the guest refuses: 206 and Vary: * are TypeErrors", async () => {
  const { api } = setup();
  await assert.rejects(api.put(null, req("https://x.test/p"), res("x", [], 206)), { name: "TypeError", message: "Cannot cache response to a range request (206 Partial Content)." });
  await assert.rejects(api.put(null, req("https://x.test/p"), res("x", [["Vary", "accept, *"]])), { name: "TypeError", message: "Cannot cache response with 'Vary: *' header." });
  await assert.rejects(api.put(null, req("https://x.test/p"), res("x", [], 99)), TypeError);
});

test("named caches and the default are separate scopes, keyed by the exact URL (query order, scheme, port)", async () => {
  const { api } = setup();
  await api.put(null, req("https://x.test/q?a=1&b=2"), res("default"));
  await api.put("one", req("https://x.test/q?a=1&b=2"), res("one"));
  const body = async (name: string | null, url: string) => {
    const r = await api.match(name, req(url));
    return r === undefined ? "miss" : new TextDecoder().decode(r.body!);
  };
  assert.equal(await body(null, "https://x.test/q?a=1&b=2"), "default");
  assert.equal(await body("one", "https://x.test/q?a=1&b=2"), "one");
  assert.equal(await body("two", "https://x.test/q?a=1&b=2"), "miss");
  assert.equal(await body(null, "https://x.test/q?b=2&a=1"), "miss");
  assert.equal(await body(null, "http://x.test/q?a=1&b=2"), "miss");
  assert.equal(await body(null, "https://x.test:8443/q?a=1&b=2"), "miss");
  assert.equal(await body(null, "https://X.TEST/q?a=1&b=2#frag"), "default");
  assert.equal(urlKey(new URL("https://x.test/a#b")), urlKey(new URL("https://x.test/a")));
  assert.equal(await api.delete("one", req("https://x.test/q?a=1&b=2")), true);
  assert.equal(await body(null, "https://x.test/q?a=1&b=2"), "default");
});

test("distributionScope: caches.default keys a request as the distribution's traffic does (behavior by path, host without port, its key policy)", () => {
  const cache = createResponseCache({ store: createMemoryCacheStore() });
  const none = { behavior: "none" as const, items: [] };
  const dist = {
    tenant: "acme",
    name: "site",
    hostnames: ["shop.example"],
    origins: [{ id: "web", url: "http://127.0.0.1:1" }],
    behaviors: [{ pathPattern: "/api/*", originId: "web", cacheKey: { queryStrings: { behavior: "allowList", items: ["page"] }, headers: none, cookies: none }, ttl: { min: 0, default: 60, max: 600 }, functions: {} }],
    defaultBehavior: { originId: "web", cacheKey: { queryStrings: none, headers: { behavior: "allowList", items: ["accept-language"] }, cookies: none }, ttl: { min: 0, default: 60, max: 600 }, functions: {} },
  } as unknown as Distribution;
  const scope = distributionScope(cache, dist);
  const h = new Headers({ "accept-language": "fr" });
  const api = scope.default(new URL("https://Shop.Example:8443/api/list?page=2&utm=x"), h);
  assert.equal(api.distribution, "acme/site");
  assert.equal(api.key, cache.key({ distribution: "acme/site", behavior: "/api/*", host: "shop.example", url: new URL("http://shop.example/api/list?page=2"), headers: new Headers(), policy: dist.behaviors[0]!.cacheKey }));
  const other = scope.default(new URL("http://shop.example/about?x=1"), h);
  assert.equal(other.key, cache.key({ distribution: "acme/site", behavior: "default", host: "shop.example", url: new URL("http://shop.example/about"), headers: h, policy: dist.defaultBehavior.cacheKey }));
  assert.notEqual(other.key, scope.default(new URL("http://shop.example/about"), new Headers({ "accept-language": "de" })).key);
  assert.equal(scope.named("x"), "acme#cache:x");
});
