/**
 * node:async_hooks with nodejs_compat (src/build/polyfills/async_hooks.js):
 * AsyncLocalStorage's store follows a request through every kind of wait a
 * Worker makes (awaits of host work, timers, microtasks, streams, async
 * iteration), and two requests in flight in one isolate each keep their own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle } from "../../src/build/bundle.ts";
import { Verge } from "../../src/index.ts";

const WORKER = `import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
const als = new AsyncLocalStorage();
const other = new AsyncLocalStorage();
const seen = (where) => ({ where, store: als.getStore() ?? null });

async function* numbers() {
  yield 1;
  await new Promise((r) => setTimeout(r, 1));
  yield als.getStore();
}

async function steps(id) {
  const out = [seen("start")];
  await null;
  out.push(seen("after await null"));
  await new Promise((r) => setTimeout(r, id === "slow" ? 40 : 5));
  out.push(seen("after setTimeout"));
  await scheduler.wait(1);
  out.push(seen("after scheduler.wait"));
  await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  out.push(seen("after crypto.subtle"));
  const text = await new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(id)); c.close(); } })).text();
  out.push({ ...seen("after reading a stream"), text });
  for await (const chunk of new Response("x").body) out.push(seen("in for await"));
  const got = [];
  for await (const n of numbers()) got.push(n);
  out.push({ ...seen("after an async generator"), got });
  const all = await Promise.all([1, 2].map(async (n) => { await new Promise((r) => setTimeout(r, n)); return als.getStore(); }));
  out.push({ ...seen("after Promise.all"), all });
  await new Promise((r) => queueMicrotask(r)).then(() => out.push(seen("in then after queueMicrotask")));
  await Promise.reject(new Error("x")).catch(() => out.push(seen("in catch")));
  out.push({ ...seen("nested"), nested: other.run("inner", () => [als.getStore(), other.getStore()]), outside: other.getStore() ?? null });
  out.push({ ...seen("exit"), exited: als.exit(() => als.getStore() ?? null) });
  return out;
}

export default {
  async fetch(request) {
    const id = new URL(request.url).searchParams.get("id");
    const steps_ = await als.run(id, () => steps(id));
    const bound = als.run("bound", () => AsyncLocalStorage.bind(() => als.getStore()));
    const snap = als.run("snap", () => AsyncLocalStorage.snapshot());
    const resource = als.run("resource", () => new AsyncResource("test"));
    return Response.json({
      steps: steps_,
      outside: als.getStore() ?? null,
      bound: bound(),
      snapshot: snap(() => als.getStore()),
      resource: resource.runInAsyncScope(() => als.getStore()),
      resourceBound: resource.bind(() => als.getStore())(),
    });
  },
};
`;

async function built(t: { after(fn: () => unknown): void }, source: string): Promise<{ code: string; sourceMap: string }> {
  const dir = mkdtempSync(join(tmpdir(), "verge-als-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), source);
  return bundle(join(dir, "index.js"), { nodeCompat: true });
}

test("AsyncLocalStorage keeps each request's store through awaits, timers, streams and async iteration, with two requests in flight at once", { timeout: 60_000 }, async (t) => {
  const { code, sourceMap } = await built(t, WORKER);
  assert.doesNotMatch(code, /\bawait (?!null"|")/, "the bundle's awaits are lowered to generators");
  const verge = new Verge({ modules: true, script: code, sourceMap, limits: { cpuMs: 1_000 } });
  t.after(() => verge.dispose());
  // "slow" waits longer at its timer, so "fast" runs in between its steps.
  const [slow, fast] = await Promise.all(["slow", "fast"].map(async (id) => (await verge.dispatchFetch(`http://localhost/?id=${id}`)).json()));
  for (const [id, body] of [["slow", slow], ["fast", fast]] as const) {
    const b = body as { steps: Array<{ where: string; store: unknown; text?: string; got?: unknown[]; all?: unknown[]; nested?: unknown[]; outside?: unknown; exited?: unknown }>; outside: unknown; bound: unknown; snapshot: unknown; resource: unknown; resourceBound: unknown };
    for (const step of b.steps) assert.equal(step.store, id, `${id}: ${step.where}`);
    const at = (where: string) => b.steps.find((s) => s.where === where)!;
    assert.equal(at("after reading a stream").text, id);
    assert.deepEqual(at("after an async generator").got, [1, id]);
    assert.deepEqual(at("after Promise.all").all, [id, id]);
    assert.deepEqual(at("nested").nested, [id, "inner"]);
    assert.equal(at("nested").outside, null);
    assert.equal(at("exit").exited, null);
    assert.ok(b.steps.some((s) => s.where === "in for await"));
    assert.deepEqual([b.outside, b.bound, b.snapshot, b.resource, b.resourceBound], [null, "bound", "snap", "resource", "resource"]);
  }
});

test("a bundle without node:async_hooks is not lowered, and argument errors are Node's", { timeout: 60_000 }, async (t) => {
  const plain = await built(t, `export default { async fetch() { await null; return new Response("ok"); } };`);
  assert.match(plain.code, /\bawait null/);
  const { code } = await built(
    t,
    `import { AsyncLocalStorage } from "node:async_hooks";
export default { fetch() { try { new AsyncLocalStorage().run(1, "not a function"); } catch (e) { return new Response(e.name + ": " + e.message); } return new Response("no error"); } };`,
  );
  const verge = new Verge({ modules: true, script: code });
  t.after(() => verge.dispose());
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), 'TypeError: The "callback" argument must be of type function. Received string');
});

test("Hono's context-storage middleware works: each request's context is found after awaits, with requests overlapping", { timeout: 60_000 }, async (t) => {
  const { code } = await bundle(join(import.meta.dirname, "../fixtures/als-hono/index.js"), { nodeCompat: true });
  const verge = new Verge({ modules: true, script: code });
  t.after(() => verge.dispose());
  const users = ["ada", "grace", "linus"];
  const answers = await Promise.all(users.map(async (user, i) => (await verge.dispatchFetch(`http://localhost/?wait=${30 - i * 10}`, { headers: { "x-user": user } })).text()));
  assert.deepEqual(answers, users.map((u) => `hello ${u}`));
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), "hello anonymous");
});
