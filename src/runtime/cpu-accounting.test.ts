/**
 * What an invocation is charged as CPU (Sandbox#measured): an upper bound of the
 * guest's CPU that never counts time spent waiting for host work, and a budget
 * overrun inside one entry is still ERR_CPU_LIMIT. No timing thresholds here:
 * only relations that hold on any machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "./sandbox.ts";
import { createHostServices } from "./services.ts";
import { resolveLimits } from "../shared/limits.ts";

const services = createHostServices();
let n = 0;

async function run(body: string, limits = {}) {
  const code = `export default { async fetch() { ${body} } };`;
  const sb = new Sandbox({ source: { id: `cpu-${++n}`, code, format: "esm" }, limits: resolveLimits({ cpuMs: 2_000, wallMs: 10_000, ...limits }), env: {}, bindings: {}, services });
  try {
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: "http://cpu.test/", headers: [], body: null } });
    const report = await out.finished;
    return { kind: out.kind, error: out.kind === "error" ? out.error : undefined, report };
  } finally {
    sb.dispose();
  }
}

test("time spent waiting on host work (a timer) is not charged as CPU", async () => {
  const { kind, report } = await run(`await new Promise((r) => setTimeout(r, 30)); return new Response("ok");`);
  assert.equal(kind, "response");
  assert.ok(report.limits.cpuMs.used < report.limits.wallMs.used, `cpu ${report.limits.cpuMs.used} ms, wall ${report.limits.wallMs.used} ms`);
});

test("the CPU charged over several entries never exceeds the invocation's wall time", async () => {
  const { kind, report } = await run(`
    for (let i = 0; i < 5; i++) { let x = 0; for (let j = 0; j < 200000; j++) x += j; await new Promise((r) => setTimeout(r, 1)); }
    return new Response("ok");`);
  assert.equal(kind, "response");
  assert.ok(report.limits.cpuMs.used <= report.limits.wallMs.used, `cpu ${report.limits.cpuMs.used} ms, wall ${report.limits.wallMs.used} ms`);
  assert.ok(report.limits.cpuMs.used > 0);
});

test("every invocation that ran guest code is charged some CPU, however short its entries", async () => {
  // Linux's per-thread CPU clock (getrusage RUSAGE_THREAD) only moves at a scheduler tick or a
  // context switch (every 4 ms at HZ=250): an entry of a few hundred µs usually reads no CPU at all.
  for (let i = 0; i < 30; i++) {
    const { kind, report } = await run(`let x = 0; for (let j = 0; j < 20000; j++) x += j; return new Response(String(x));`);
    assert.equal(kind, "response");
    assert.ok(report.limits.cpuMs.used > 0, `run ${i}: cpu ${report.limits.cpuMs.used} ms, wall ${report.limits.wallMs.used} ms`);
  }
});

test("a loop past the CPU budget in one entry is ERR_CPU_LIMIT", async () => {
  const { kind, error } = await run(`while (true) {}`, { cpuMs: 20 });
  assert.equal(kind, "error");
  assert.ok(error?.code === "ERR_CPU_LIMIT" || error?.code === "ERR_WALL_LIMIT", String(error?.code));
});
