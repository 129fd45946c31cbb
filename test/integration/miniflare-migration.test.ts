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
