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

function tenantSpec(tenant: string, fn: string): FunctionSpec {
  return { ...spec(`${tenant}/${fn}`), tenant };
}

const tenantThrottled = (tenant: string, share: number) => (err: Error & { code?: string }) =>
  err.code === "ERR_TENANT_THROTTLED" && err.message.includes(`tenant ${tenant} is at its share`) && err.message.includes(`max ${share} per tenant`);

test("maxIsolatesPerTenant: a tenant at its share with every isolate busy is refused ERR_TENANT_THROTTLED, and other tenants (and functions without a tenant) still get isolates", async () => {
  const pool = new IsolatePool({ services, spares: 0, maxIsolates: 5, maxIsolatesPerTenant: 2 });
  try {
    const [a1, a2, a3] = [tenantSpec("a", "f1"), tenantSpec("a", "f2"), tenantSpec("a", "f3")];
    const [b1, b2, b3] = [tenantSpec("b", "f1"), tenantSpec("b", "f2"), tenantSpec("b", "f3")];
    const held = [pool.acquire(a1), pool.acquire(a2)];
    // Two functions of its own, both busy (requests in flight, or open WebSockets): a third is refused.
    assert.throws(() => pool.acquire(a3), tenantThrottled("a", 2));
    assert.throws(() => pool.acquire(a1), tenantThrottled("a", 2), "another isolate of a function it already runs too");
    const others = [pool.acquire(b1), pool.acquire(b2), pool.acquire(spec("no-tenant"))];
    assert.ok(others.every((o) => o.cold));
    assert.throws(() => pool.acquire(b3), tenantThrottled("b", 2));
    assert.deepEqual(pool.stats().tenants, { a: { isolates: 2, refused: 2 }, b: { isolates: 2, refused: 1 } });
    assert.equal(pool.stats().isolates, 5);
    for (const [i, h] of held.entries()) assert.equal(await call(h.sandbox), `a/f${i + 1}`);
    assert.equal(await call(others[0]!.sandbox), "b/f1");
    // A released isolate serves its function again at the share: no new one needed.
    pool.release(a1, held[0]!.sandbox);
    assert.equal(pool.acquire(a1).sandbox, held[0]!.sandbox);
  } finally {
    pool.dispose();
  }
});

test("maxIsolatesPerTenant: at its share a tenant's cold start disposes its own least recently used idle isolate, not another tenant's older one", async () => {
  const pool = new IsolatePool({ services, spares: 0, maxIsolates: 10, maxIsolatesPerTenant: 2 });
  try {
    const b = tenantSpec("b", "old");
    const [a1, a2, a3, a4] = ["f1", "f2", "f3", "f4"].map((f) => tenantSpec("a", f)) as [FunctionSpec, FunctionSpec, FunctionSpec, FunctionSpec];
    const bOld = pool.acquire(b);
    await call(bOld.sandbox);
    pool.release(b, bOld.sandbox); // the least recently used idle isolate of the process
    const first = pool.acquire(a1);
    const second = pool.acquire(a2);
    await call(first.sandbox);
    pool.release(a1, first.sandbox);
    const third = pool.acquire(a3);
    assert.equal(third.cold, true);
    assert.equal(first.sandbox.disposed, true, "the tenant's own idle isolate made room");
    assert.equal(bOld.sandbox.disposed, false, "the other tenant's idle isolate stayed");
    assert.equal(second.sandbox.disposed, false, "a busy isolate is never disposed");
    assert.deepEqual([pool.stats().tenants.a, pool.stats().evicted], [{ isolates: 2, refused: 0 }, 1]);
    // Now both of its isolates are busy: refused, and nothing is disposed for it.
    assert.throws(() => pool.acquire(a4), tenantThrottled("a", 2));
    assert.deepEqual([second.sandbox.disposed, third.sandbox.disposed, bOld.sandbox.disposed], [false, false, false]);
    assert.equal(await call(third.sandbox), "a/f3");
    assert.equal(pool.acquire(b).sandbox, bOld.sandbox, "tenant b's warm isolate is still there");
  } finally {
    pool.dispose();
  }
});

test("maxIsolatesPerTenant: a tenant under its share takes the place of another tenant's least recently used idle isolate when the process is full; busy ones are never disposed", async () => {
  const pool = new IsolatePool({ services, spares: 0, maxIsolates: 3, maxIsolatesPerTenant: 2 });
  try {
    const [a1, a2] = [tenantSpec("a", "f1"), tenantSpec("a", "f2")];
    const [b1, b2, b3] = [tenantSpec("b", "f1"), tenantSpec("b", "f2"), tenantSpec("b", "f3")];
    const x = pool.acquire(a1);
    const y = pool.acquire(a2);
    await call(x.sandbox);
    await call(y.sandbox);
    pool.release(a1, x.sandbox);
    pool.release(a2, y.sandbox);
    const first = pool.acquire(b1);
    assert.equal(pool.stats().isolates, 3);
    // The process is full; b is under its share: a's least recently used idle isolate goes.
    const second = pool.acquire(b2);
    assert.equal(second.cold, true);
    assert.deepEqual([x.sandbox.disposed, y.sandbox.disposed], [true, false]);
    assert.deepEqual(pool.stats().tenants, { a: { isolates: 1, refused: 0 }, b: { isolates: 2, refused: 0 } });
    // a takes its idle one back; now every isolate is busy.
    assert.equal(pool.acquire(a2).sandbox, y.sandbox);
    // b at its share, all busy: refused by the share. a under its share, the process full and all busy: ERR_POOL_EXHAUSTED.
    assert.throws(() => pool.acquire(b3), tenantThrottled("b", 2));
    assert.throws(() => pool.acquire(a1), (err: Error & { code?: string }) => err.code === "ERR_POOL_EXHAUSTED");
    assert.deepEqual([y.sandbox.disposed, first.sandbox.disposed, second.sandbox.disposed], [false, false, false], "busy isolates were never disposed");
    assert.equal(await call(first.sandbox), "b/f1");
    assert.equal(await call(y.sandbox), "a/f2");
  } finally {
    pool.dispose();
  }
});

test("maxIsolatesPerTenant defaults to half of maxIsolates (rounded up); provisioned isolates stop at the tenant's share", async () => {
  assert.equal(new IsolatePool({ services, spares: 0, maxIsolates: 5 }).stats().tenantShare, 3);
  assert.equal(new IsolatePool({ services, spares: 0 }).stats().tenantShare, 256);
  const pool = new IsolatePool({ services, spares: 0, maxIsolates: 6, maxIsolatesPerTenant: 2 });
  try {
    const a1 = tenantSpec("a", "warm");
    pool.warm(a1, 4);
    assert.deepEqual([pool.stats().isolates, pool.stats().idle, pool.stats().tenants.a?.refused], [2, 2, 0]);
    const taken = [pool.acquire(a1), pool.acquire(a1)];
    assert.ok(taken.every((t) => !t.cold), "the provisioned isolates serve the first requests");
    assert.throws(() => pool.acquire(a1), tenantThrottled("a", 2));
  } finally {
    pool.dispose();
  }
});
