/**
 * The README's "Moving a Miniflare test to verge" example, run as written
 * against both: the same options object, only the class changes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Miniflare } from "miniflare";
import { Verge } from "../../src/index.ts";

/** A Worker with an env var and a KV namespace (test/fixtures/migration/worker.js). */
const scriptPath = "test/fixtures/migration/worker.js";

async function exercise(mf: Miniflare | Verge): Promise<unknown[]> {
  // The two return their own KVNamespace types; the test uses what both have.
  const kv = (await mf.getKVNamespace("COUNTS")) as unknown as { put(key: string, value: string): Promise<void>; get(key: string): Promise<string | null> };
  await kv.put("visits", "41");
  const res = await mf.dispatchFetch("http://localhost/visit");
  const missing = await mf.dispatchFetch("http://localhost/nope");
  return [res.status, await res.json(), await kv.get("visits"), missing.status, await missing.text()];
}

test("a Miniflare test moves to verge by changing the class: same options, same results", { timeout: 60_000 }, async () => {
  const options = { modules: true, scriptPath, compatibilityDate: "2024-09-23", bindings: { GREETING: "hello" }, kvNamespaces: ["COUNTS"] };
  const mf = new Miniflare(options);
  const verge = new Verge(options);
  try {
    const expected = [200, { greeting: "hello", visits: 42 }, "42", 404, "not found"];
    assert.deepEqual(await exercise(mf), expected, "Miniflare");
    assert.deepEqual(await exercise(verge), expected, "verge");
  } finally {
    await mf.dispose();
    await verge.dispose();
  }
});

/** Service-worker syntax: bindings are globals, from the top level on; in a module Worker they are not. */
const SERVICE_WORKER = `
const greetingAtTop = typeof GREETING === "string" ? GREETING : "missing";
addEventListener("fetch", (event) => event.respondWith(handle()));
async function handle() {
  await COUNTS.put("k", "v1");
  return Response.json({ greetingAtTop, greeting: GREETING, kv: await COUNTS.get("k"), json: JSON_VAR.n });
}`;
const MODULE_WORKER = `
export default { fetch(request, env) { return Response.json({ global: typeof GREETING, env: env.GREETING }); } };`;

test("service-worker syntax reads its bindings as globals, a module Worker only on env: the same in Miniflare and verge", { timeout: 60_000 }, async () => {
  const cases: Array<[Record<string, unknown>, unknown]> = [
    [{ script: SERVICE_WORKER, bindings: { GREETING: "hello", JSON_VAR: { n: 3 } }, kvNamespaces: ["COUNTS"] }, { greetingAtTop: "hello", greeting: "hello", kv: "v1", json: 3 }],
    [{ modules: true, script: MODULE_WORKER, bindings: { GREETING: "hello" } }, { global: "undefined", env: "hello" }],
  ];
  for (const [options, expected] of cases) {
    const mf = new Miniflare({ compatibilityDate: "2024-09-23", ...options } as ConstructorParameters<typeof Miniflare>[0]);
    const verge = new Verge({ compatibilityDate: "2024-09-23", ...options } as ConstructorParameters<typeof Verge>[0]);
    try {
      assert.deepEqual(await (await mf.dispatchFetch("http://localhost/")).json(), expected, "Miniflare");
      assert.deepEqual(await (await verge.dispatchFetch("http://localhost/")).json(), expected, "verge");
    } finally {
      await mf.dispose();
      await verge.dispose();
    }
  }
});

/** A class-based Worker and the `cloudflare:workers` module: env at the top level, this.env / this.ctx, waitUntil. */
const ENTRYPOINT_WORKER = `
import { WorkerEntrypoint, env, waitUntil, DurableObject, WorkflowEntrypoint, RpcTarget } from "cloudflare:workers";
const atTop = env.GREETING;
let runs = 0;
export default class extends WorkerEntrypoint {
  async fetch(request) {
    waitUntil(Promise.resolve().then(() => runs++));
    this.ctx.waitUntil(Promise.resolve());
    return Response.json({
      atTop, mine: this.env.GREETING, path: new URL(request.url).pathname, ctx: typeof this.ctx.waitUntil,
      isBase: this instanceof WorkerEntrypoint, kinds: [typeof DurableObject, typeof WorkflowEntrypoint, typeof RpcTarget],
      args: arguments.length, second: typeof arguments[1], runsSoFar: runs,
    });
  }
}`;

test("export default class extends WorkerEntrypoint, with env and waitUntil from cloudflare:workers: the same in Miniflare and verge", { timeout: 60_000 }, async () => {
  const options = { modules: true, script: ENTRYPOINT_WORKER, compatibilityDate: "2025-06-01", bindings: { GREETING: "hi" } };
  const mf = new Miniflare(options);
  const verge = new Verge(options);
  try {
    const answers = async (runtime: Miniflare | Verge): Promise<unknown[]> => {
      const first = (await (await runtime.dispatchFetch("http://localhost/x")).json()) as Record<string, unknown>;
      const second = (await (await runtime.dispatchFetch("http://localhost/y")).json()) as Record<string, unknown>;
      return [first, second.path, (second.runsSoFar as number) >= 1];
    };
    const expected = [{ atTop: "hi", mine: "hi", path: "/x", ctx: "function", isBase: true, kinds: ["function", "function", "function"], args: 3, second: "undefined", runsSoFar: 0 }, "/y", true];
    assert.deepEqual(await answers(mf), expected, "Miniflare");
    assert.deepEqual(await answers(verge), expected, "verge");
  } finally {
    await mf.dispose();
    await verge.dispose();
  }
});
