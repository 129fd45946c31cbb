/**
 * The dispatcher's side of the fetch contract: an incoming request whose body
 * is a host stream (requestFromData), and responses handed back as whole bytes
 * or as a guest stream (responseToData).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../src/runtime/sandbox.ts";
import { resolveLimits } from "../../src/shared/limits.ts";
import { createHostServices } from "../../src/runtime/services.ts";

let counter = 0;

async function run(handler: string, body: AsyncIterable<Uint8Array> | null, method = "POST") {
  const services = createHostServices({ fetch: { allowPrivateAddresses: true } });
  const sandbox = new Sandbox({
    source: { id: `incoming-${++counter}`, code: `export default { async fetch(request, env, ctx) { ${handler} } };`, format: "esm" },
    limits: resolveLimits({ cpuMs: 5_000, wallMs: 20_000 }),
    env: {},
    bindings: {},
    services,
  });
  try {
    const outcome = await sandbox.invoke(
      { kind: "fetch", request: { method, url: "http://guest.test/in?q=1", headers: [["content-type", "text/plain"], ["x-a", "1"]], body: null }, cf: { colo: "TST" } },
      body,
    );
    if (outcome.kind !== "response") throw (outcome as { error?: unknown }).error ?? new Error(outcome.kind);
    const { body: out, ...head } = outcome.response;
    const chunks: Uint8Array[] = [];
    let kind = "null";
    if (out instanceof Uint8Array) {
      kind = "bytes";
      chunks.push(out);
    } else if (out !== null) {
      kind = "stream";
      for await (const c of out) chunks.push(c);
    }
    await outcome.finished;
    return { head, kind, text: Buffer.concat(chunks).toString("utf8") };
  } finally {
    sandbox.dispose();
    await services.close();
  }
}

async function* parts(...texts: string[]) {
  for (const t of texts) yield new TextEncoder().encode(t);
}

test("incoming request: method, url, cf, headers, streamed body read with text()", async () => {
  const r = await run(
    `return Response.json({ m: request.method, u: request.url, cf: request.cf, h: [...request.headers], t: await request.text(), used: request.bodyUsed });`,
    parts("hel", "", "lo"),
  );
  assert.equal(r.kind, "bytes");
  assert.deepEqual(JSON.parse(r.text), {
    m: "POST", u: "http://guest.test/in?q=1", cf: { colo: "TST" }, h: [["content-type", "text/plain"], ["x-a", "1"]], t: "hello", used: true,
  });
  assert.deepEqual(r.head.headers, [["content-type", "application/json"]]);
});

test("incoming request: the body streams through to the response (echo)", async () => {
  const r = await run(`return new Response(request.body, { headers: { "x-echo": "1" } });`, parts("a", "b", "c"));
  assert.equal(r.kind, "stream");
  assert.equal(r.text, "abc");
  assert.deepEqual(r.head.headers, [["x-echo", "1"]]);
});

test("incoming request: body read with a BYOB reader", async () => {
  const r = await run(
    `const reader = request.body.getReader({ mode: "byob" }); let out = "";
     for (;;) { const { done, value } = await reader.read(new Uint8Array(2)); if (done) break; out += new TextDecoder().decode(value) + "|"; }
     return new Response(out);`,
    parts("abcde"),
  );
  assert.equal(r.text, "ab|cd|e|");
});

test("incoming request: new Request(request, init) moves the host stream body", async () => {
  const r = await run(`const copy = new Request(request, { headers: { "x-b": "2" } }); return new Response(await copy.text() + ":" + request.bodyUsed);`, parts("x", "y"));
  assert.equal(r.text, "xy:true");
});

test("response as whole bytes (string, Blob, Uint8Array) takes the fast path; status and statusText pass through", async () => {
  for (const body of [`"text"`, `new Blob(["text"])`, `new TextEncoder().encode("text")`]) {
    const r = await run(`return new Response(${body}, { status: 201, statusText: "Made" });`, null, "GET");
    assert.equal(r.kind, "bytes");
    assert.equal(r.text, "text");
    assert.equal(r.head.status, 201);
    assert.equal(r.head.statusText, "Made");
  }
});

test("response whose body was touched (.body) or is a stream goes out as a stream; null body is null", async () => {
  const a = await run(`const r = new Response("abc"); void r.body; return r;`, null, "GET");
  assert.deepEqual([a.kind, a.text], ["stream", "abc"]);
  const b = await run(`return new Response(null, { status: 204 });`, null, "GET");
  assert.deepEqual([b.kind, b.head.status], ["null", 204]);
});

test("a response whose body was already read is an error for the dispatcher", async () => {
  await assert.rejects(run(`const r = new Response("abc"); await r.text(); return r;`, null, "GET"), /TypeError|Body has already been used/);
});

test("a fake Response is refused", async () => {
  await assert.rejects(run(`return Object.create(Response.prototype);`, null, "GET"), /must return a Response/);
});
