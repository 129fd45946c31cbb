/** The warm pool: reuse, code cache, LRU eviction by idle heap, killed isolates, spare isolates. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IsolatePool, type FunctionSpec } from "./pool.ts";
import { createHostServices } from "./services.ts";
import { resolveLimits } from "../shared/limits.ts";
import type { Sandbox } from "./sandbox.ts";

const services = createHostServices();

function spec(id: string, code = `export default { fetch: () => new Response("${id}") }`, memoryMb = 128): FunctionSpec {
  return { source: { id, code, format: "esm" }, limits: resolveLimits({ memoryMb, cpuMs: 2_000, wallMs: 10_000 }), env: {}, bindings: {} };
}

async function call(sandbox: Sandbox): Promise<string> {
  const out = await sandbox.invoke({ kind: "fetch", request: { method: "GET", url: "http://pool.test/", headers: [], body: null } });
  assert.equal(out.kind, "response");
  const body = out.kind === "response" ? out.response.body : null;
  const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : "";
  await out.finished;
  return text;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached within 10 s");
    await new Promise((r) => setImmediate(r));
  }
}

test("an idle sandbox of a version serves its next invocation; a second concurrent one is a new isolate with the version's code cache", async () => {
  const pool = new IsolatePool({ services, spares: 0 });
  try {
    const s = spec("reuse");
    const a = pool.acquire(s);
    assert.equal(a.cold, true);
    assert.equal(await call(a.sandbox), "reuse");
    const b = pool.acquire(s); // a is still checked out: a second isolate
    assert.equal(b.cold, true);
    assert.notEqual(b.sandbox, a.sandbox);
    assert.ok(a.sandbox.codeCache !== undefined, "the first isolate produced a code cache");
    assert.equal(b.sandbox.codeCache, a.sandbox.codeCache, "the second isolate used the cache the first produced");
    pool.release(s, a.sandbox);
    const c = pool.acquire(s);
    assert.equal(c.cold, false);
    assert.equal(c.sandbox, a.sandbox);
    assert.equal(pool.stats().created, 2);
  } finally {
    pool.dispose();
  }
});

test("a killed sandbox is never handed out again", async () => {
  const pool = new IsolatePool({ services, spares: 0 });
  try {
    const s = spec("killed");
    const a = pool.acquire(s);
    a.sandbox.kill("ERR_CPU_LIMIT", "test kill");
    pool.release(s, a.sandbox);
    const b = pool.acquire(s);
    assert.equal(b.cold, true);
    assert.notEqual(b.sandbox, a.sandbox);
    assert.equal(await call(b.sandbox), "killed");
  } finally {
    pool.dispose();
  }
});

test("idle sandboxes past the idle heap budget are evicted least recently used first", async () => {
  // The older sandbox holds ~8 MB, the newer one is a hello world: the budget (measured on probes)
  // fits the big one alone but not both. Heaps of like isolates vary with GC timing; the big
  // array dominates, so the margins stay wide on a loaded machine too.
  const bigCode = (id: string) => `const kept = new Array(1_000_000).fill(1.5); export default { fetch: () => new Response("${id}" + kept.length) }`;
  const heapOf = async (s: FunctionSpec) => {
    const probe = new IsolatePool({ services, spares: 0 });
    try {
      const p = probe.acquire(s);
      await call(p.sandbox);
      return p.sandbox.heapBytes;
    } finally {
      probe.dispose();
    }
  };
  const big = await heapOf(spec("lru-probe-big", bigCode("probe")));
  const small = await heapOf(spec("lru-probe-small"));
  assert.ok(big > 4 * small, `the big isolate's heap (${big}) is several times a hello's (${small})`);

  const pool = new IsolatePool({ services, spares: 0, idleMemoryBytes: big + Math.floor(small / 2) });
  try {
    const older = spec("lru-1", bigCode("lru-1"));
    const newer = spec("lru-2");
    const a = pool.acquire(older);
    const b = pool.acquire(newer);
    await call(a.sandbox);
    await call(b.sandbox);
    pool.release(older, a.sandbox);
    assert.equal(a.sandbox.disposed, false, "one idle isolate fits");
    await new Promise((r) => setTimeout(r, 5)); // distinct lastUsed times
    pool.release(newer, b.sandbox);
    assert.equal(a.sandbox.disposed, true, "the least recently used went");
    assert.equal(b.sandbox.disposed, false);
    assert.deepEqual([pool.stats().idle, pool.stats().evicted], [1, 1]);
    assert.equal(pool.acquire(newer).cold, false);
    assert.equal(pool.acquire(older).cold, true);
  } finally {
    pool.dispose();
  }
});

test("a cold start adopts a spare isolate (prelude already run) and the pool makes the next spare after the request", async () => {
  const pool = new IsolatePool({ services, spares: 1 });
  try {
    await until(() => pool.stats().spares === 1);
    const a = pool.acquire(spec("spare-1"));
    assert.equal(pool.stats().sparesUsed, 1);
    assert.equal(pool.stats().spares, 0, "taken, not refilled inside the request");
    assert.equal(await call(a.sandbox), "spare-1");
    await until(() => pool.stats().spares === 1);

    // A function with another heap cap cannot use the 128 MB spare.
    const b = pool.acquire(spec("spare-2", undefined, 64));
    assert.equal(pool.stats().sparesUsed, 1);
    assert.equal(await call(b.sandbox), "spare-2");

    // A bundle that fails to load consumes the spare and reports its own error.
    assert.throws(() => pool.acquire(spec("spare-bad", "export default {")), (e: { code?: string }) => e.code === "ERR_BUNDLE_COMPILE");
    await until(() => pool.stats().spares === 1);
    const c = pool.acquire(spec("spare-3"));
    assert.equal(await call(c.sandbox), "spare-3");
  } finally {
    pool.dispose();
  }
  assert.equal(pool.stats().spares, 0, "dispose drops the spares");
});

test("user code cannot use the host bridge of a spare before or after adoption", async () => {
  const pool = new IsolatePool({ services, spares: 1 });
  try {
    await until(() => pool.stats().spares === 1);
    const a = pool.acquire(spec("bridge", `export default { fetch: () => new Response(typeof globalThis.__verge_host + "," + typeof globalThis.__verge_guest) }`));
    assert.equal(await call(a.sandbox), "undefined,undefined");
  } finally {
    pool.dispose();
  }
});

test("maxIsolates bounds every function's isolates together: a new one takes the least recently used idle one's place, and when all are busy acquire throws ERR_POOL_EXHAUSTED", async () => {
  const pool = new IsolatePool({ services, spares: 0, maxIsolates: 2 });
  try {
    const [a, b, c] = [spec("total-a"), spec("total-b"), spec("total-c")];
    const first = pool.acquire(a);
    const second = pool.acquire(b);
    assert.equal(pool.stats().isolates, 2);
    // Both busy (requests in flight, or open WebSockets): a third function is refused.
    assert.throws(() => pool.acquire(c), (err: Error & { code?: string }) => err.code === "ERR_POOL_EXHAUSTED" && /all 2 isolates of this process are busy/.test(err.message));
    assert.equal(await call(first.sandbox), "total-a");
    pool.release(a, first.sandbox);
    // One idle now: the third function's isolate takes its place.
    const third = pool.acquire(c);
    assert.equal(third.cold, true);
    assert.equal(first.sandbox.disposed, true, "the least recently used idle isolate was disposed");
    assert.equal(pool.stats().isolates, 2);
    assert.equal(pool.stats().evicted, 1);
    assert.equal(await call(third.sandbox), "total-c");
    // Provisioned concurrency fills free room only: at the cap it makes none and disposes none.
    pool.release(c, third.sandbox);
    const created = pool.stats().created;
    pool.warm(a, 5);
    assert.equal(pool.stats().isolates, 2);
    assert.equal(pool.stats().created, created);
    assert.equal(third.sandbox.disposed, false);
    assert.equal(await call(second.sandbox), "total-b");
    pool.release(b, second.sandbox);
  } finally {
    pool.dispose();
  }
});
