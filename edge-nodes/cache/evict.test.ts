import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openEdgeStore } from "../store/index.ts";
import { BYTES_KEY, ENTRIES_KEY, ENTRY_PREFIX, type CacheEntry } from "../../src/pipeline/cache/records.ts";
import { get, makeOrigin, ok, setup, tempDir } from "./test-support.ts";

const BODY = "x".repeat(1000);
/** Room for three ~1.3 KB entries, not four. */
const MAX = 4000;

test("the cache stays under maxBytes by evicting the least recently used entries", async (t) => {
  const h = setup(t, { maxBytes: MAX });
  const origin = makeOrigin(ok(BODY, { "cache-control": "max-age=600" }));
  for (const p of ["/1", "/2", "/3"]) {
    await get(h, origin, { path: p });
    h.clock.advance(1);
  }
  assert.equal(h.cache.stats().entries, 3);
  assert.equal((await get(h, origin, { path: "/1" })).result, "Hit", "/1 is now more recent than /2");
  await get(h, origin, { path: "/4" });
  const s = h.cache.stats();
  assert.equal(s.entries, 3);
  assert.equal(s.evictions, 1);
  assert.ok(s.bytes <= MAX, `${s.bytes} <= ${MAX}`);
  assert.equal((await get(h, origin, { path: "/1" })).result, "Hit");
  assert.equal((await get(h, origin, { path: "/3" })).result, "Hit");
  assert.equal((await get(h, origin, { path: "/4" })).result, "Hit");
  assert.equal((await get(h, origin, { path: "/2" })).result, "Miss", "/2 was the least recently used");
  assert.equal(origin.calls.length, 5);
});

test("after a restart the LRU order comes back from the stored access times", async (t) => {
  const first = setup(t, { maxBytes: 1 << 20 });
  const origin = makeOrigin(ok(BODY, { "cache-control": "max-age=600" }));
  for (const p of ["/1", "/2", "/3"]) {
    await get(first, origin, { path: p });
    first.clock.advance(1);
  }
  await get(first, origin, { path: "/1" });
  await first.store.close();
  // A new process with a smaller cap: the first store must evict, and /2 is the oldest access.
  const second = setup(t, { dir: first.dir, clock: first.clock, maxBytes: MAX });
  first.clock.advance(1);
  await get(second, origin, { path: "/4" });
  assert.equal(second.cache.stats().evictions, 1);
  assert.equal((await get(second, origin, { path: "/1" })).result, "Hit");
  assert.equal((await get(second, origin, { path: "/3" })).result, "Hit");
  assert.equal((await get(second, origin, { path: "/2" })).result, "Miss");
});

test("an entry bigger than maxBytes is served but not stored", async (t) => {
  const h = setup(t, { maxBytes: 600 });
  const origin = makeOrigin(ok(BODY, { "cache-control": "max-age=600" }));
  assert.equal((await get(h, origin)).body, BODY);
  assert.equal(h.cache.stats().entries, 0);
  assert.equal(h.cache.stats().bytes, 0);
});

/** Sums what is really stored, to compare with the counters. */
function audit(dir: string) {
  const store = openEdgeStore({ path: dir });
  try {
    const meta = store.table<CacheEntry>("cache-meta");
    let bytes = 0;
    let entries = 0;
    const bodyIds = new Set<string>();
    let missingBodies = 0;
    for (const { value } of meta.range({ prefix: ENTRY_PREFIX })) {
      entries++;
      bytes += value.size;
      bodyIds.add(value.bodyId);
      if (store.bytes("cache-body").get(value.bodyId) === undefined) missingBodies++;
    }
    let bodies = 0;
    for (const { key } of store.bytes("cache-body").range()) {
      bodies++;
      assert.ok(bodyIds.has(key), `orphan body ${key}`);
    }
    const counters = store.table<number>("cache-meta");
    return { bytes, entries, bodies, missingBodies, counted: { bytes: counters.get(BYTES_KEY), entries: counters.get(ENTRIES_KEY) }, close: () => store.close() };
  } catch (err) {
    void store.close();
    throw err;
  }
}

function runChild(dir: string, name: string): Promise<{ code: number | null; stderr: string }> {
  const script = fileURLToPath(new URL("./evict.child.ts", import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", script, dir, name], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

test("two processes filling one LMDB cache at once keep it consistent and under the cap", async (t) => {
  const dir = tempDir(t);
  const [a, b] = await Promise.all([runChild(dir, "a"), runChild(dir, "b")]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const seen = audit(dir);
  t.after(() => seen.close());
  assert.equal(seen.counted.entries, seen.entries, "entry counter matches the records");
  assert.equal(seen.counted.bytes, seen.bytes, "byte counter matches the records");
  assert.equal(seen.missingBodies, 0);
  assert.equal(seen.bodies, seen.entries, "one body per entry, no orphans");
  assert.ok(seen.bytes <= 20_000, `${seen.bytes} <= 20000`);
  assert.ok(seen.entries > 0);
});
