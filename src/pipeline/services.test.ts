/**
 * Service bindings as an edge node runs them (serviceBindings: true), over the real runtime:
 * a target is ended when its caller gives up (its fetch aborted, its invocation over or killed,
 * the viewer gone) and its isolate serves the next call; each target's run is its own record
 * under the caller's request id; a target's exception reaches the caller as workerd passes it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import type { RequestRecord } from "./types.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, until, type TestEdge } from "./testing-edge.ts";

let runtime: Runtime;
const services = createHostServices({ fetch: { allowPrivateAddresses: true } });
before(() => {
  runtime = createRuntime({ services });
});
after(async () => {
  await services.close();
  runtime.dispose();
});

/** The caller at viewer-request, bound to `targets` (binding -> [function, code], null: a function the tenant does not have). */
function edgeWith(caller: string, targets: Record<string, [string, string | null]>, limits: { cpuMs?: number; wallMs?: number } = {}): TestEdge {
  const edge = createTestEdge(runtime, { serviceBindings: true });
  const bound: Record<string, string> = {};
  for (const [binding, [fn, code]] of Object.entries(targets)) {
    bound[binding] = fn;
    if (code !== null) edge.state.setAlias(fn, "live", edge.state.addVersion(fn, code));
  }
  const digest = edge.state.addVersion("front", caller, { config: { services: bound, ...limits } });
  edge.state.putDistribution(testDistribution({ originUrl: "http://127.0.0.1:9", functions: { "viewer-request": { function: "front", version: digest, includeBody: false } } }));
  return edge;
}

const worker = (body: string) => `export default { async fetch(request, env, ctx) { ${body} } };`;

/** A target that says it started, then waits far longer than any test. */
const SLOW = worker(`console.log("slow started " + new URL(request.url).pathname); await new Promise((r) => setTimeout(r, 600000)); return new Response("late");`);

/** The record of the service call (the target's run) among the edge's records, once it came. */
async function serviceRecord(edge: TestEdge, match: (r: RequestRecord) => boolean = () => true): Promise<RequestRecord> {
  await until(() => edge.records.some((r) => r.service !== undefined && match(r)));
  return edge.records.find((r) => r.service !== undefined && match(r))!;
}

function busy(): number {
  const s = runtime.stats();
  return s.isolates - s.idle;
}

test("a caller that aborts its fetch ends the target's invocation (ERR_CANCELLED), and its isolate serves the next call", async () => {
  const edge = edgeWith(
    worker(`
      const c = new AbortController();
      const call = env.SLOW.fetch("http://slow.internal/abort", { signal: c.signal });
      await new Promise((r) => setTimeout(r, 50));
      c.abort();
      try { await call; return new Response("answered"); } catch (e) { return new Response("caller saw " + e.name); }`),
    { SLOW: ["slow", SLOW] },
  );
  const res = await edge.request("/");
  assert.equal(await res.text(), "caller saw AbortError");
  const rec = await serviceRecord(edge);
  assert.equal(rec.invocations[0]!.error, "ERR_CANCELLED");
  assert.equal(rec.error?.code, "ERR_CANCELLED");
  assert.deepEqual(rec.invocations[0]!.logs?.map((l) => l.message), ["slow started /abort"]);
  await until(() => busy() === 0);
  // The same isolate runs the next call: none was disposed or made for it.
  const created = runtime.stats().created;
  const again = await edge.request("/");
  assert.equal(await again.text(), "caller saw AbortError");
  assert.equal(runtime.stats().created, created);
});

test("a caller whose invocation ends without awaiting the call ends the target", async () => {
  const edge = edgeWith(worker(`env.SLOW.fetch("http://slow.internal/dropped").catch(() => {}); await new Promise((r) => setTimeout(r, 50)); return new Response("done");`), { SLOW: ["slow", SLOW] });
  assert.equal(await (await edge.request("/")).text(), "done");
  const rec = await serviceRecord(edge);
  assert.equal(rec.error?.code, "ERR_CANCELLED");
  await until(() => busy() === 0);
});

test("a caller killed over its CPU budget ends the target", async () => {
  const edge = edgeWith(worker(`const p = env.SLOW.fetch("http://slow.internal/killed"); await new Promise((r) => setTimeout(r, 50)); for (;;) {}`), { SLOW: ["slow", SLOW] }, { cpuMs: 20 });
  const res = await edge.request("/");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("x-verge-error"), "ERR_CPU_LIMIT");
  const rec = await serviceRecord(edge);
  assert.equal(rec.error?.code, "ERR_CANCELLED");
  await until(() => busy() === 0);
});

test("a caller past its wall budget while it awaits the target ends the target: the target's time counts in the caller's wall clock", async () => {
  const edge = edgeWith(worker(`return await env.SLOW.fetch("http://slow.internal/wall");`), { SLOW: ["slow", SLOW] }, { wallMs: 300 });
  const res = await edge.request("/");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("x-verge-error"), "ERR_WALL_LIMIT");
  const rec = await serviceRecord(edge);
  assert.equal(rec.error?.code, "ERR_CANCELLED");
  await until(() => busy() === 0);
});

test("a viewer that goes away ends the targets its request is waiting on", async () => {
  const edge = edgeWith(worker(`try { await env.SLOW.fetch("http://slow.internal/viewer"); return new Response("answered"); } catch (e) { return new Response("caller saw " + e.message, { status: 502 }); }`), { SLOW: ["slow", SLOW] });
  const gone = new AbortController();
  const answer = edge.pipeline.handle(new Request("http://site.test/", { headers: { host: "site.test" } }), { clientIp: "203.0.113.7", scheme: "http", signal: gone.signal });
  await until(() => edge.records.length === 0 && busy() === 2);
  gone.abort();
  const res = await answer;
  assert.equal(res.status, 502);
  assert.match(await res.text(), /^caller saw env\.SLOW\.fetch\(\) to service "slow" failed: .*cancelled/);
  const rec = await serviceRecord(edge);
  assert.equal(rec.error?.code, "ERR_CANCELLED");
  await until(() => busy() === 0);
});

test("the target's run is its own record under the caller's request id: binding, caller, version, console lines", async () => {
  const target = worker(`console.log("auth for " + request.headers.get("x-user")); console.warn("careful"); return new Response("ok", { status: 201 });`);
  const edge = edgeWith(worker(`const r = await env.AUTH.fetch("https://auth.internal/check?u=1", { method: "POST", headers: { "x-user": "ada" }, body: "t" }); return new Response("front " + r.status);`), { AUTH: ["auth", target] });
  const res = await edge.request("/page");
  assert.equal(await res.text(), "front 201");
  const rec = await serviceRecord(edge);
  const front = await until(() => edge.records.some((r) => r.service === undefined)).then(() => edge.records.find((r) => r.service === undefined)!);
  assert.equal(rec.requestId, front.requestId);
  assert.deepEqual(rec.service, { binding: "AUTH", caller: "front" });
  assert.equal(rec.method, "POST");
  assert.equal(rec.host, "auth.internal");
  assert.equal(rec.path, "/check?u=1");
  assert.equal(rec.status, 201);
  assert.equal(rec.distribution, "acme/site");
  assert.equal(rec.error, undefined);
  const inv = rec.invocations[0]!;
  assert.equal(inv.event, "service");
  assert.equal(inv.function, "auth");
  assert.match(inv.digest, /^[0-9a-f]{64}$/);
  assert.deepEqual(inv.logs?.map((l) => [l.level, l.message]), [["log", "auth for ada"], ["warn", "careful"]]);
  // The caller's own record has its own invocation only.
  assert.deepEqual(front.invocations.map((i) => [i.event, i.function]), [["viewer-request", "front"]]);
});

test("a target that throws: its record has the error and its console lines; a missing target is recorded too", async () => {
  const edge = edgeWith(
    worker(`const which = new URL(request.url).pathname; try { await env[which === "/gone" ? "GONE" : "BAD"].fetch("http://x.internal/"); } catch (e) { return new Response(e.message); } return new Response("no");`),
    { BAD: ["bad", worker(`console.error("about to fail"); throw new Error("broken");`)], GONE: ["gone", null] },
  );
  assert.equal(await (await edge.request("/")).text(), "broken");
  const rec = await serviceRecord(edge, (r) => r.invocations[0]!.function === "bad");
  assert.equal(rec.status, 500);
  assert.equal(rec.error?.code, "ERR_FUNCTION_EXCEPTION");
  assert.equal(rec.invocations[0]!.error, "ERR_FUNCTION_EXCEPTION");
  assert.deepEqual(rec.invocations[0]!.logs?.map((l) => l.message), ["about to fail"]);
  assert.equal(await (await edge.request("/gone")).text(), 'env.GONE.fetch() to service "gone": tenant "acme" has no function "gone" on this edge node');
  const missing = await serviceRecord(edge, (r) => r.invocations[0]!.function === "gone");
  assert.equal(missing.error?.code, "ERR_FUNCTION_NOT_FOUND");
  assert.equal(missing.invocations[0]!.digest, "");
  assert.equal(missing.invocations[0]!.cpuMs, 0);
});

test("the target's exception reaches the caller as workerd passes it: class, message, remote", async () => {
  const target = worker(`
    const p = new URL(request.url).pathname;
    class MyErr extends Error { constructor(m) { super(m); this.name = "MyErr"; } }
    if (p === "/type") throw new TypeError("bad type");
    if (p === "/later") { await new Promise((r) => setTimeout(r, 5)); throw new RangeError("later"); }
    if (p === "/custom") throw new MyErr("custom");
    if (p === "/string") throw "a string";
    if (p === "/not-response") return "hello";
    if (p === "/stream") return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("part")); c.error(new Error("mid-stream")); } }));
    return new Response("ok");`);
  const caller = worker(`
    try {
      const r = await env.OTHER.fetch("http://other.internal" + new URL(request.url).pathname);
      return Response.json({ status: r.status, body: await r.text() });
    } catch (e) {
      return Response.json({ name: e.name, message: e.message, keys: Object.keys(e), remote: e.remote, ctor: e.constructor.name });
    }`);
  const edge = edgeWith(caller, { OTHER: ["other", target] });
  const seen = async (path: string) => (await edge.request(path)).json();
  assert.deepEqual(await seen("/ok"), { status: 200, body: "ok" });
  assert.deepEqual(await seen("/type"), { name: "TypeError", message: "bad type", keys: ["remote"], remote: true, ctor: "TypeError" });
  assert.deepEqual(await seen("/later"), { name: "RangeError", message: "later", keys: ["remote"], remote: true, ctor: "RangeError" });
  assert.deepEqual(await seen("/custom"), { name: "Error", message: "MyErr: custom", keys: ["remote"], remote: true, ctor: "Error" });
  assert.deepEqual(await seen("/string"), { name: "Error", message: "a string", keys: ["remote"], remote: true, ctor: "Error" });
  assert.deepEqual(await seen("/not-response"), { name: "TypeError", message: "Incorrect type for Promise: the Promise did not resolve to 'Response'.", keys: ["remote"], remote: true, ctor: "TypeError" });
  assert.deepEqual(await seen("/stream"), { name: "Error", message: "mid-stream", keys: ["remote"], remote: true, ctor: "Error" });
});
