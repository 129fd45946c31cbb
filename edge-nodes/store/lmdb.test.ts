import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openEdgeStore } from "./lmdb.ts";

test("cache-meta values are decoded once per stored bytes: a rewrite (by any process) is seen, the shared value is frozen", async () => {
  const dir = mkdtempSync(join(tmpdir(), "verge-store-"));
  const a = openEdgeStore({ path: dir });
  const b = openEdgeStore({ path: dir });
  try {
    const metaA = a.table<{ n: number; list: string[] }>("cache-meta");
    const metaB = b.table<{ n: number; list: string[] }>("cache-meta");
    await metaA.put("m/k", { n: 1, list: ["x"] });
    const first = metaB.get("m/k")!;
    assert.deepEqual(first, { n: 1, list: ["x"] });
    assert.equal(metaB.get("m/k"), first, "unchanged bytes: the same decoded value");
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.list));
    assert.throws(() => (first as { n: number }).n++);
    await metaA.put("m/k", { n: 2, list: ["y"] });
    assert.deepEqual(metaB.get("m/k"), { n: 2, list: ["y"] }, "rewritten by another handle: decoded again");
    assert.deepEqual([...metaB.range({ prefix: "m/" })].map((r) => r.value.n), [2]);
    await metaA.remove("m/k");
    assert.equal(metaB.get("m/k"), undefined);
    assert.deepEqual([...metaB.range({ prefix: "m/" })], []);
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("once close() began, tables, KV and transactions refuse with ERR_INTERNAL instead of reaching the closing environment", async () => {
  const dir = mkdtempSync(join(tmpdir(), "verge-store-"));
  const store = openEdgeStore({ path: dir });
  try {
    const state = store.table<{ seq: number }>("state");
    const pending = state.put("applied", { seq: 1 });
    const closing = store.close();
    assert.throws(() => state.get("applied"), { code: "ERR_INTERNAL" });
    assert.throws(() => [...store.bytes("cache-body").range()], { code: "ERR_INTERNAL" });
    assert.throws(() => store.kv().get("t/ns", "k"), { code: "ERR_INTERNAL" });
    await assert.rejects(state.put("applied", { seq: 2 }), { code: "ERR_INTERNAL" });
    await assert.rejects(store.kv().put("t/ns", "k", { v: new Uint8Array(1), s: 1 }), { code: "ERR_INTERNAL" });
    await assert.rejects(store.transaction(() => 1), { code: "ERR_INTERNAL" });
    await pending;
    await closing;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
