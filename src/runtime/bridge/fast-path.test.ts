/**
 * The fetch hot path of the bridge (issue 2): primitive-argument calls, bodies
 * through the shared mailbox when they fit, idle posted without a call. Each
 * must give what the object-copying path gave.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../runtime.ts";
import { createHostServices } from "../services.ts";
import { resolveLimits } from "../../shared/limits.ts";

const services = createHostServices();
const runtime = createRuntime({ services });
test.after(async () => {
  runtime.dispose();
  await services.close();
});

const code = `export default { async fetch(req, env, ctx) {
  const u = new URL(req.url);
  const n = Number(u.searchParams.get("n") ?? 0);
  if (u.searchParams.has("fail")) ctx.waitUntil(Promise.reject(new TypeError("late")));
  if (u.searchParams.has("slow")) ctx.waitUntil(new Promise((r) => setTimeout(r, 5)));
  return new Response(new Uint8Array(n).map((_, i) => i & 255), { status: 201, statusText: "Made", headers: { "x-in": req.headers.get("x-in") ?? "", "x-cf": JSON.stringify(req.cf ?? null) } });
} };`;
const spec = { source: { id: "fast-path", code, format: "esm" as const }, limits: resolveLimits({ cpuMs: 2_000, wallMs: 10_000 }), env: {}, bindings: {} };

async function get(query: string, cf?: Record<string, unknown>) {
  const r = await runtime.fetch(spec, { method: "GET", url: `http://fast.test/?${query}`, headers: [["x-in", 'a "quoted" \\ value']], body: null }, cf ? { cf } : {});
  assert.equal(r.type, "response");
  if (r.type !== "response") throw new Error("unreachable");
  const chunks: Uint8Array[] = [];
  const body = r.response.body;
  if (body instanceof Uint8Array) chunks.push(body);
  else if (body !== null) for await (const c of body) chunks.push(c);
  return { res: r.response, bytes: Buffer.concat(chunks), report: await r.finished };
}

test("response bodies around the mailbox size arrive whole, in their own memory, with head and headers", async () => {
  for (const n of [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000]) {
    const { res, bytes } = await get(`n=${n}`, { colo: "LHR" });
    assert.equal(res.status, 201);
    assert.equal(res.statusText, "Made");
    assert.deepEqual(res.headers.find(([k]) => k === "x-in"), ["x-in", 'a "quoted" \\ value']);
    assert.deepEqual(res.headers.find(([k]) => k === "x-cf"), ["x-cf", '{"colo":"LHR"}']);
    assert.equal(bytes.length, n);
    for (let i = 0; i < n; i++) if (bytes[i] !== (i & 255)) assert.fail(`byte ${i} of ${n}`);
    if (res.body instanceof Uint8Array) assert.equal(res.body.buffer instanceof SharedArrayBuffer, false);
  }
});

test("idle: fulfilled waitUntil ends the invocation, a rejected one is reported, a pending one is waited for", async () => {
  assert.deepEqual((await get("n=3")).report.waitUntilErrors, []);
  const failed = await get("n=3&fail");
  assert.equal(failed.report.waitUntilErrors.length, 1);
  assert.match(failed.report.waitUntilErrors[0]!.message, /TypeError: late/);
  const slow = await get("n=3&slow");
  assert.deepEqual(slow.report.waitUntilErrors, []);
  assert.ok(slow.report.limits.wallMs.used >= 4);
  assert.equal((await get("n=2")).bytes.length, 2);
});
