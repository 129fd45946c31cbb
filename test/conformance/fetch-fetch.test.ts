/** fetch() from inside the isolate to a local HTTP server, through the host "fetch" op. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { evalGuest } from "../helpers/guest.ts";
import { listenDuringTests } from "../helpers/local-server.ts";

let base = "";
const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    switch (url.pathname) {
      case "/echo":
        res.setHeader("content-type", "application/json");
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }));
        return;
      case "/stream": {
        res.setHeader("content-type", "text/plain");
        let i = 0;
        const tick = () => {
          if (i === 3) return res.end();
          res.write(`part${i++};`);
          setTimeout(tick, 5);
        };
        tick();
        return;
      }
      case "/redirect":
        res.statusCode = 302;
        res.setHeader("location", "/echo");
        res.end();
        return;
      case "/no-content":
        res.statusCode = 204;
        res.end();
        return;
      case "/slow":
        setTimeout(() => res.end("late"), 2000);
        return;
      case "/slow-body":
        res.write("first;");
        setTimeout(() => res.end("late"), 2000);
        return;
      default:
        res.statusCode = 404;
        res.statusMessage = "Nope";
        res.end("missing");
    }
  });
});

listenDuringTests(server, (url) => (base = url));

test("fetch: GET with headers; response status, headers (immutable), json", async () => {
  const r = await evalGuest(`
    const res = await fetch("${base}/echo#frag", { headers: { "X-Test": "yes" } });
    const body = await res.json();
    let immutable;
    try { res.headers.set("x", "y"); } catch (e) { immutable = e.constructor.name; }
    return {
      status: res.status, ok: res.ok, url: res.url, redirected: res.redirected, type: res.headers.get("content-type"),
      cookies: res.headers.getSetCookie(), method: body.method, xTest: body.headers["x-test"], immutable,
    };
  `);
  assert.deepEqual(r, {
    status: 200, ok: true, url: `${base}/echo`, redirected: false, type: "application/json",
    cookies: ["a=1", "b=2"], method: "GET", xTest: "yes", immutable: "TypeError",
  });
});

test("fetch: POST bodies (string, FormData, stream) arrive with their Content-Type", async () => {
  const r = await evalGuest(`
    const post = async (body) => (await (await fetch("${base}/echo", { method: "POST", body })).json());
    const fd = new FormData(); fd.append("k", "v");
    const s = await post("text");
    const f = await post(fd);
    const st = await post(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([65, 66])); c.close(); } }));
    return [s.body, s.headers["content-type"], f.headers["content-type"].startsWith("multipart/form-data; boundary="), f.body.includes('name="k"'), st.body];
  `);
  assert.deepEqual(r, ["text", "text/plain;charset=UTF-8", true, true, "AB"]);
});

test("fetch: a Request object as input; statusText; 404", async () => {
  const r = await evalGuest(`
    const req = new Request("${base}/missing", { method: "PUT", body: "x" });
    const res = await fetch(req);
    return [res.status, res.statusText, res.ok, await res.text(), req.bodyUsed];
  `);
  assert.deepEqual(r, [404, "Nope", false, "missing", true]);
});

test("fetch: the response body streams from the host", async () => {
  const r = await evalGuest(`
    const res = await fetch("${base}/stream");
    const dec = new TextDecoder();
    let text = "";
    for await (const chunk of res.body) text += dec.decode(chunk, { stream: true });
    return [text, res.bodyUsed];
  `);
  assert.deepEqual(r, ["part0;part1;part2;", true]);
});

test("fetch: redirects are followed (url, redirected) or returned with redirect: manual", async () => {
  const r = await evalGuest(`
    const a = await fetch("${base}/redirect");
    const b = await fetch("${base}/redirect", { redirect: "manual" });
    return [a.status, a.url, a.redirected, b.status, b.headers.get("location")];
  `);
  assert.deepEqual(r, [200, `${base}/echo`, true, 302, "/echo"]);
});

test("fetch: HEAD and 204 responses have a null body", async () => {
  const r = await evalGuest(`
    const h = await fetch("${base}/echo", { method: "HEAD" });
    const n = await fetch("${base}/no-content");
    return [h.status, h.body, n.status, n.body, await n.text()];
  `);
  assert.deepEqual(r, [200, null, 204, null, ""]);
});

test("fetch: an aborted signal rejects with its reason, before and during the request", async () => {
  const r = await evalGuest(`
    const pre = new AbortController();
    pre.abort();
    const a = await fetch("${base}/echo", { signal: pre.signal }).then(() => "resolved", (e) => e.name);
    const during = new AbortController();
    const p = fetch("${base}/slow", { signal: during.signal });
    setTimeout(() => during.abort(new Error("custom reason")), 20);
    const b = await p.then(() => "resolved", (e) => e.message);
    return [a, b];
  `);
  assert.deepEqual(r, ["AbortError", "custom reason"]);
});

test("fetch: aborting after the head errors the body stream", async () => {
  const r = await evalGuest(`
    const ac = new AbortController();
    const res = await fetch("${base}/slow-body", { signal: ac.signal });
    const reader = res.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const rest = await reader.read().then(() => "read", (e) => e.name);
    return [first, rest];
  `);
  assert.deepEqual(r, ["first;", "AbortError"]);
});

test("fetch: request errors (bad URL, GET with body, used body) reject with TypeError", async () => {
  await assert.rejects(evalGuest(`await fetch("nope")`), { name: "TypeError" });
  await assert.rejects(evalGuest(`await fetch("${base}/echo", { body: "x" })`), { name: "TypeError" });
  await assert.rejects(
    evalGuest(`const r = new Request("${base}/echo", { method: "POST", body: "x" }); await r.text(); await fetch(r);`),
    { name: "TypeError" },
  );
});

test("fetch: the Workers proxy pattern new Response(upstream.body, upstream) gives mutable headers", async () => {
  const r = await evalGuest(`
    const up = await fetch(new Request("${base}/echo", { headers: { "x-in": "1" } }));
    const res = new Response(up.body, up);
    res.headers.set("x-proxied", "yes");
    const body = await res.json();
    return [res.status, res.headers.get("x-proxied"), res.headers.get("content-type"), body.headers["x-in"], up.bodyUsed];
  `);
  assert.deepEqual(r, [200, "yes", "application/json", "1", true]);
});

test("fetch: a Request's signal is used when fetch gets the Request", async () => {
  const r = await evalGuest(`
    const ac = new AbortController();
    const req = new Request("${base}/slow", { signal: ac.signal });
    const p = fetch(req);
    ac.abort();
    return await p.then(() => "resolved", (e) => e.name);
  `);
  assert.equal(r, "AbortError");
});
