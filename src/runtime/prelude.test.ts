/**
 * The prelude's lazy parts (prelude.ts, guest/core/lazy.ts): an isolate loads a
 * part only when its code reaches it, a part loaded after user code changed the
 * global still gives the platform's own classes, and a part asked for while it
 * is being set up is refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "./sandbox.ts";
import { createHostServices } from "./services.ts";
import { loadPrelude } from "./prelude.ts";
import { resolveLimits } from "../shared/limits.ts";
import { fileURLToPath } from "node:url";

const services = createHostServices();
let n = 0;

async function run(topLevel: string, body: string): Promise<{ value: unknown; heap: number }> {
  const code = `${topLevel}
export default { async fetch(request) {
  let value;
  try { value = await (async () => { ${body}\n })(); } catch (e) { value = { error: String(e && e.name), message: String(e && e.message) }; }
  return new Response(JSON.stringify(value === undefined ? null : value));
} };`;
  const sb = new Sandbox({ source: { id: `lazy-${++n}`, code, format: "esm" }, limits: resolveLimits({ cpuMs: 5_000 }), env: {}, bindings: {}, services });
  try {
    const out = await sb.invoke({ kind: "fetch", request: { method: "POST", url: "http://lazy.test/", headers: [["content-type", "text/plain"]], body: new TextEncoder().encode("posted") } });
    if (out.kind !== "response") throw new Error(out.kind === "error" ? out.error.message : out.kind);
    const body = out.response.body;
    const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : "";
    await out.finished;
    return { value: JSON.parse(text) as unknown, heap: sb.heapBytes };
  } finally {
    sb.dispose();
  }
}

test("the eager part is a fraction of the prelude; the lazy parts are separate scripts", () => {
  const prelude = loadPrelude();
  assert.ok(prelude.code.length > 10_000);
  assert.ok(prelude.code.length < 100_000, `eager part is ${prelude.code.length} bytes`);
  assert.doesNotMatch(prelude.code, /highWaterMark/, "streams (web-streams-polyfill) are not in the eager part");
});

test("globals of lazy parts work on first read, from the bundle's top level or a request", async () => {
  const { value } = await run(
    "const early = typeof ReadableStream;",
    `const c = new AbortController();
     c.abort();
     const rs = new Response("x").body;
     return [early, typeof URLPattern, c.signal.aborted, String(AbortController), Object.prototype.toString.call(c),
       rs instanceof ReadableStream, typeof crypto.subtle.digest, structuredClone({ a: [1] }), await new Blob(["ab"]).text(), await request.text()];`,
  );
  assert.deepEqual(value, ["function", "function", true, "function AbortController() { [native code] }", "[object AbortController]", true, "function", { a: [1] }, "ab", "posted"]);
});

test("a part loaded after user code replaced globals still uses the platform's own classes", async () => {
  const { value } = await run(
    `globalThis.Event = class Fake {}; globalThis.EventTarget = class FakeTarget {}; globalThis.self = globalThis; globalThis.DOMException = class FakeDOMException {};`,
    `const c = new AbortController();
     const signal = c.signal;
     let seen = 0;
     signal.addEventListener("abort", () => seen++);
     c.abort();
     const reader = new ReadableStream({ start(ctl) { ctl.error(new TypeError("x")); } }).getReader();
     const err = await reader.read().then(() => null, (e) => e.name);
     return [signal instanceof globalThis.EventTarget, Object.getPrototypeOf(Object.getPrototypeOf(signal)).constructor.name, seen, err];`,
  );
  assert.deepEqual(value, [false, "EventTarget", 1, "TypeError"]);
});

test("a part asked for while it is being set up is a TypeError, not a crash", async () => {
  // web-streams-polyfill's module top level calls Object.defineProperty: a replaced one runs user
  // code in the middle of the part's evaluation, and that code asks for the part again.
  const { value } = await run(
    `const define = Object.defineProperty;
     let inner = "not reached";
     Object.defineProperty = function (o, k, d) {
       if (inner === "not reached") { try { inner = typeof ReadableStream; } catch (e) { inner = e.name + ": " + e.message; } }
       return define(o, k, d);
     };`,
    `const rs = new ReadableStream(); return [typeof rs.getReader, inner];`,
  );
  assert.deepEqual(value, ["function", "TypeError: streams is not available while it is being set up"]);
});

test("an isolate that never reaches a lazy part has a smaller heap than one that loads them all", async () => {
  const plain = await run("", `return 1;`);
  const all = await run("void [ReadableStream, AbortController, Blob, crypto.subtle, URLPattern, CompressionStream]; structuredClone(1);", `return 1;`);
  assert.equal(plain.value, 1);
  assert.equal(all.value, 1);
  assert.ok(all.heap > plain.heap, `heap with every part ${all.heap}, without ${plain.heap}`);
});

test("a process's first isolate runs the request path before the function is in it: the prelude's code cache is refreshed from that, not from the function's first call", async () => {
  // A prelude object of its own (the directory named without its trailing slash), as in a fresh process.
  const prelude = loadPrelude(fileURLToPath(new URL("./guest", import.meta.url)));
  assert.equal(prelude.refreshed, false);
  const code = `export default { fetch() { return new Response("ok"); } };`;
  const sb = new Sandbox({ source: { id: `fresh-${++n}`, code, format: "esm" }, limits: resolveLimits({}), env: {}, bindings: {}, services, prelude });
  try {
    assert.equal(prelude.refreshed, true, "warmed at construction, before any invocation");
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: "http://fresh.test/", headers: [], body: null } });
    assert.equal(out.kind, "response");
    await (out as { finished: Promise<unknown> }).finished;
  } finally {
    sb.dispose();
  }
  const second = new Sandbox({ source: { id: `fresh-${++n}`, code, format: "esm" }, limits: resolveLimits({}), env: {}, bindings: {}, services, prelude });
  second.dispose();
});
