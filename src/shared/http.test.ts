import assert from "node:assert/strict";
import { test } from "node:test";
import { headersInit, partsOf, partsResponse } from "./http.ts";

test("headersInit: a plain object, repeated lines joined, values trimmed; names that reach Object's prototype stay plain values", () => {
  const init = headersInit([["content-type", "text/plain"], ["x-a", "1"], ["x-a", " 2 "], ["constructor", "c"], ["set-cookie", "a=1"]]);
  assert.ok(!(init instanceof Headers));
  assert.deepEqual({ ...init }, { "content-type": "text/plain", "x-a": "1, 2", constructor: "c", "set-cookie": "a=1" });
});

test("headersInit: two Set-Cookie lines, or __proto__, keep each line in a Headers", () => {
  const cookies = headersInit([["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
  assert.ok(cookies instanceof Headers);
  assert.deepEqual(cookies.getSetCookie(), ["a=1", "b=2"]);
  assert.ok(headersInit([["__proto__", "x"]]) instanceof Headers);
});

test("headersInit: a name or value the HTTP writer would refuse throws at once, as Headers does", () => {
  assert.throws(() => headersInit([["bad name", "x"]]), TypeError);
  assert.throws(() => headersInit([["x", "a\r\nb"]]), TypeError);
  assert.throws(() => headersInit([["x", "€"]]), TypeError);
});

test("partsResponse: the Response reads as made, and partsOf gives the parts back; a null-body status drops the body", async () => {
  const body = new TextEncoder().encode("hello");
  const res = partsResponse({ status: 200, statusText: "OK", headers: [["x-a", "1"]], body });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-a"), "1");
  assert.equal(partsOf(res)?.body, body);
  assert.equal(await res.text(), "hello");
  const empty = partsResponse({ status: 304, statusText: "", headers: [], body });
  assert.equal(partsOf(empty)?.body, null);
  assert.equal(empty.body, null);
  assert.equal(partsOf(new Response("x")), undefined);
});
