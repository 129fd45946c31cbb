/**
 * A service binding between two Workers, in Miniflare 4 (`workers: [caller, other]`,
 * `serviceBindings: { OTHER: "other" }`: workerd runs both) and on a verge edge pipeline
 * (the caller's binding names the tenant's function "other"): the same requests, and what
 * the caller sees must match. The differential suite (differential.test.ts) runs one Worker
 * with the function form of `serviceBindings`, so two real Workers are compared here.
 *
 * What is compared: the target's answer (status, body), and when the target fails, the
 * caller's rejected fetch: the error's class, name, message, own keys and `remote` (the
 * stack is each runtime's own).
 *
 * Run: npm run build:prelude && node --no-node-snapshot --test test/differential/service-workers.test.ts
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { createHostServices, createRuntime, type Runtime } from "../../src/runtime/index.ts";
import { testDistribution } from "../../src/pipeline/testing.ts";
import { createTestEdge, type TestEdge } from "../../src/pipeline/testing-edge.ts";

const CALLER = `export default {
  async fetch(request, env) {
    try {
      const r = await env.OTHER.fetch("https://other.test" + new URL(request.url).pathname, { method: "POST", body: "hello", headers: { "x-from": "caller" } });
      return Response.json({ status: r.status, statusText: r.statusText, type: r.headers.get("content-type"), seen: r.headers.get("x-seen"), body: await r.text() });
    } catch (e) {
      return Response.json({ rejected: true, name: e.name, message: e.message, keys: Object.keys(e), remote: e.remote, ctor: e.constructor.name, isError: e instanceof Error });
    }
  },
};`;

const OTHER = `class MyErr extends Error { constructor(m) { super(m); this.name = "MyErr"; } }
export default {
  async fetch(request) {
    const p = new URL(request.url).pathname;
    if (p === "/echo") return new Response(request.method + " " + request.headers.get("x-from") + " " + await request.text(), { status: 201, statusText: "Made", headers: { "x-seen": "yes" } });
    if (p === "/throw") throw new Error("boom");
    if (p === "/type") throw new TypeError("bad type");
    if (p === "/range-later") { await new Promise((r) => setTimeout(r, 5)); throw new RangeError("later"); }
    if (p === "/syntax") throw new SyntaxError("odd syntax");
    if (p === "/reference") throw new ReferenceError("nobody");
    if (p === "/custom") throw new MyErr("custom");
    if (p === "/string") throw "a string";
    if (p === "/number") throw 42;
    if (p === "/not-response") return "hello";
    if (p === "/stream-error") return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("part")); c.error(new TypeError("mid-stream")); } }));
    if (p === "/status-500") return new Response("handled", { status: 500 });
    if (p.startsWith("/status/")) return new Response(null, { status: Number(p.slice(8)) });
    return new Response("ok");
  },
};`;

const PATHS = ["/echo", "/ok", "/throw", "/type", "/range-later", "/syntax", "/reference", "/custom", "/string", "/number", "/not-response", "/stream-error", "/status-500", "/status/418", "/status/425", "/status/399", "/status/509", "/status/599"];

let mf: Miniflare;
let runtime: Runtime;
let edge: TestEdge;
const services = createHostServices({ fetch: { allowPrivateAddresses: true } });

before(async () => {
  mf = new Miniflare({
    workers: [
      { name: "caller", modules: true, script: CALLER, compatibilityDate: "2025-06-01", serviceBindings: { OTHER: "other" } },
      { name: "other", modules: true, script: OTHER, compatibilityDate: "2025-06-01" },
    ],
  });
  await mf.ready;
  runtime = createRuntime({ services });
  edge = createTestEdge(runtime, { serviceBindings: true });
  edge.state.setAlias("other", "live", edge.state.addVersion("other", OTHER));
  const caller = edge.state.addVersion("caller", CALLER, { config: { services: { OTHER: "other" } } });
  edge.state.putDistribution(testDistribution({ originUrl: "http://127.0.0.1:9", functions: { "viewer-request": { function: "caller", version: caller, includeBody: false } } }));
});
after(async () => {
  await mf?.dispose();
  await edge?.close();
  await services.close();
  runtime?.dispose();
});

for (const path of PATHS) {
  test(`what the caller sees of the other Worker: ${path}`, async () => {
    const fromMiniflare = await (await mf.dispatchFetch(`http://caller.test${path}`)).json();
    const fromVerge = await (await edge.request(path)).json();
    assert.deepEqual(fromVerge, fromMiniflare);
  });
}
