/** Response inside the isolate (https://fetch.spec.whatwg.org/#response-class). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("Response: defaults and init", async () => {
  const r = await evalGuest(`
    const a = new Response();
    const b = new Response("x", { status: 404, statusText: "Nope", headers: [["x-a", "1"]] });
    return {
      a: [a.status, a.statusText, a.ok, a.type, a.url, a.redirected, a.body, a.bodyUsed, [...a.headers]],
      b: [b.status, b.statusText, b.ok, [...b.headers]],
      webSocket: a.webSocket,
      tag: Object.prototype.toString.call(a),
    };
  `);
  assert.deepEqual(r, {
    a: [200, "", true, "default", "", false, null, false, []],
    b: [404, "Nope", false, [["content-type", "text/plain;charset=UTF-8"], ["x-a", "1"]]],
    webSocket: null,
    tag: "[object Response]",
  });
});

for (const status of [0, 100, 199, 600, 1000]) {
  test(`Response: status ${status} is a RangeError`, async () => {
    await assert.rejects(evalGuest(`new Response(null, { status: ${status} })`), { name: "RangeError" });
  });
}

for (const status of [204, 205, 304]) {
  test(`Response: a body with null-body status ${status} is a TypeError (no body is fine)`, async () => {
    await assert.rejects(evalGuest(`new Response("x", { status: ${status} })`), { name: "TypeError" });
    assert.equal(await evalGuest(`return new Response(null, { status: ${status} }).status`), status);
  });
}

test("Response: a statusText with CR LF is a TypeError", async () => {
  await assert.rejects(evalGuest(`new Response(null, { statusText: "a\\r\\nb" })`), { name: "TypeError" });
});

test("Response.json()", async () => {
  const r = await evalGuest(`
    const a = Response.json({ a: 1 });
    const b = Response.json([1], { status: 201, headers: { "content-type": "application/vnd+json" } });
    return [a.status, a.headers.get("content-type"), await a.json(), b.status, b.headers.get("content-type"), await b.text()];
  `);
  assert.deepEqual(r, [200, "application/json", { a: 1 }, 201, "application/vnd+json", "[1]"]);
  await assert.rejects(evalGuest(`Response.json(undefined)`), { name: "TypeError" });
  await assert.rejects(evalGuest(`Response.json(1n)`), { name: "TypeError" });
  await assert.rejects(evalGuest(`Response.json({}, { status: 204 })`), { name: "TypeError" });
});

test("Response.redirect() and Response.error()", async () => {
  const r = await evalGuest(`
    const a = Response.redirect("https://example.com/x");
    const b = Response.redirect("https://example.com/y", 307);
    const e = Response.error();
    return [a.status, a.headers.get("location"), b.status, e.status, e.type, e.ok, e.body, e.statusText];
  `);
  assert.deepEqual(r, [302, "https://example.com/x", 307, 0, "error", false, null, ""]);
  await assert.rejects(evalGuest(`Response.redirect("https://example.com/", 200)`), { name: "RangeError" });
  await assert.rejects(evalGuest(`Response.redirect("not a url")`), { name: "TypeError" });
});

test("Response: clone() of bytes and of streams; clone of a used body is a TypeError", async () => {
  const r = await evalGuest(`
    const a = new Response("abc", { status: 201, headers: { x: "1" } });
    const b = a.clone();
    const s = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([65])); c.enqueue(new Uint8Array([66])); c.close(); } }));
    const s2 = s.clone();
    const out = [b.status, b.headers.get("x"), await a.text(), await b.text(), await s.text(), await s2.text()];
    let err;
    try { a.clone(); } catch (e) { err = e.constructor.name; }
    // Reading one clone's bytes does not change the other's.
    const c = new Response(new Uint8Array([1, 2]));
    const d = c.clone();
    const cb = await c.bytes();
    cb[0] = 9;
    return { out, err, d: [...(await d.bytes())] };
  `);
  assert.deepEqual(r, { out: [201, "1", "abc", "abc", "AB", "AB"], err: "TypeError", d: [1, 2] });
});

test("Response: body is a byte stream readable with a BYOB reader", async () => {
  const r = await evalGuest(`
    const res = new Response("hello");
    const reader = res.body.getReader({ mode: "byob" });
    const { value } = await reader.read(new Uint8Array(3));
    return [...value];
  `);
  assert.deepEqual(r, [104, 101, 108]);
});

test("Response: the handler can answer with a streamed body", async () => {
  const r = await evalGuest(`
    const { readable, writable } = new TransformStream();
    const w = writable.getWriter();
    w.write(new TextEncoder().encode("st")).then(() => w.write(new TextEncoder().encode("ream"))).then(() => w.close());
    return await new Response(readable).text();
  `);
  assert.equal(r, "stream");
});
