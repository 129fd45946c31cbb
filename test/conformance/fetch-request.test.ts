/** Request inside the isolate (https://fetch.spec.whatwg.org/#request-class), with Workers' `cf`. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("Request: defaults, method normalization, url, headers, redirect, signal", async () => {
  const r = await evalGuest(`
    const req = new Request("https://example.com/a?b#c");
    const p = new Request("https://example.com/", { method: "post", body: "x" });
    return {
      method: req.method, url: req.url, redirect: req.redirect, body: req.body, bodyUsed: req.bodyUsed,
      signal: req.signal instanceof AbortSignal && !req.signal.aborted,
      methods: ["get", "Delete", "options", "put", "head", "patch", "CUSTOM"].map((m) => new Request("http://x/", { method: m }).method),
      post: [p.method, p.headers.get("content-type"), await p.text()],
      cf: [req.cf, new Request("http://x/", { cf: { cacheTtl: 5 } }).cf],
      other: [req.cache, req.integrity, req.keepalive, req.mode, req.credentials],
      tag: Object.prototype.toString.call(req),
    };
  `);
  assert.deepEqual(r, {
    method: "GET", url: "https://example.com/a?b#c", redirect: "follow", body: null, bodyUsed: false,
    signal: true,
    methods: ["GET", "DELETE", "OPTIONS", "PUT", "HEAD", "patch", "CUSTOM"],
    post: ["POST", "text/plain;charset=UTF-8", "x"],
    cf: [null, { cacheTtl: 5 }],
    other: ["default", "", false, "cors", "same-origin"],
    tag: "[object Request]",
  });
});

for (const [label, code] of [
  ["GET with a body", `new Request("http://x/", { body: "a" })`],
  ["HEAD with a body", `new Request("http://x/", { method: "HEAD", body: "a" })`],
  ["a GET copy of a request with a body", `new Request(new Request("http://x/", { method: "POST", body: "a" }), { method: "GET" })`],
  ["the CONNECT method", `new Request("http://x/", { method: "CONNECT" })`],
  ["the trace method", `new Request("http://x/", { method: "trace" })`],
  ["a method that is not a token", `new Request("http://x/", { method: "G T" })`],
  ["an invalid URL", `new Request("not a url")`],
  ["a relative URL", `new Request("/path")`],
  ["a URL with credentials", `new Request("http://user:pw@x/")`],
  ["a bad redirect mode", `new Request("http://x/", { redirect: "nope" })`],
  ["a signal that is not an AbortSignal", `new Request("http://x/", { signal: {} })`],
  ["no arguments", `new Request()`],
] as const) {
  test(`Request: ${label} is a TypeError`, async () => {
    await assert.rejects(evalGuest(code), { name: "TypeError" });
  });
}

test("Request: new Request(request, init) copies fields and moves the body", async () => {
  const r = await evalGuest(`
    const ac = new AbortController();
    const a = new Request("http://x/p", { method: "PUT", body: "data", headers: { "x-a": "1" }, redirect: "manual", signal: ac.signal, cf: { k: 1 } });
    const b = new Request(a, { headers: { "x-b": "2" } });
    let reuse;
    try { new Request(a); } catch (e) { reuse = e.constructor.name; }
    return {
      b: [b.method, b.url, [...b.headers], b.redirect, b.cf, b.signal === ac.signal],
      moved: [a.bodyUsed, b.bodyUsed, await b.text()],
      reuse,
    };
  `);
  assert.deepEqual(r, {
    b: ["PUT", "http://x/p", [["x-b", "2"]], "manual", { k: 1 }, true],
    moved: [true, false, "data"],
    reuse: "TypeError",
  });
});

test("Request: clone() tees the body; clone of a used request is a TypeError", async () => {
  const r = await evalGuest(`
    const a = new Request("http://x/", { method: "POST", body: "hello" });
    const b = a.clone();
    const s = new Request("http://x/", { method: "POST", body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array([49])); c.close(); } }) });
    void s.body;
    const s2 = s.clone();
    const texts = [await a.text(), await b.text(), await s.text(), await s2.text()];
    let err;
    try { a.clone(); } catch (e) { err = e.constructor.name; }
    return { texts, err, headers: [...b.headers] };
  `);
  assert.deepEqual(r, { texts: ["hello", "hello", "1", "1"], err: "TypeError", headers: [["content-type", "text/plain;charset=UTF-8"]] });
});

test("Request: the incoming request has immutable headers, manual redirect and a cf property", async () => {
  const r = await evalGuest(`return [request.method, request.url, request.redirect, request.bodyUsed, typeof request.headers.get]`);
  assert.deepEqual(r, ["GET", "http://guest.test/", "manual", false, "function"]);
});
