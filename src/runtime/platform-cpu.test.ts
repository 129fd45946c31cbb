/**
 * A function is not charged for the runtime's own setup: loading a lazy part of
 * the prelude (streams, crypto.subtle, URLPattern, FormData, EventTarget...) on
 * first use in an isolate is the platform's CPU, as Workers does not bill its
 * runtime's startup. A cold isolate's first fetch() used to spend 20–50 ms of a
 * 50 ms budget loading the streams part under load.
 *
 * This file runs in its own process, so the parts are compiled here for the
 * first time, without a code cache: the most they ever cost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "./sandbox.ts";
import { createHostServices } from "./services.ts";
import { resolveLimits } from "../shared/limits.ts";

const services = createHostServices();
const request = { method: "GET", url: "http://platform.test/", headers: [], body: null };

async function firstCall(code: string, cpuMs: number) {
  const sb = new Sandbox({ source: { id: `platform-${cpuMs}-${code.length}`, code, format: "esm" }, limits: resolveLimits({ cpuMs, wallMs: 30_000 }), env: {}, bindings: {}, services });
  try {
    const out = await sb.invoke({ kind: "fetch", request });
    return await out.finished;
  } finally {
    sb.dispose();
  }
}

test("loading the prelude's lazy parts on first use is not charged to the function", async () => {
  // Warm the process's eager prelude (its request path compiled, its code cache refreshed); no lazy part loads.
  const warm = await firstCall(`export default { fetch() { return new Response("warm"); } }`, 5_000);
  assert.equal(warm.error, undefined);
  // The parts' first compile in this process, inside the function's first call, with a budget of
  // 8 ms: loading them costs more than that here (streams alone ~10 ms without a code cache).
  const touch = `export default { fetch() {
    const kinds = [typeof ReadableStream, typeof URLPattern, typeof FormData, typeof crypto.subtle.digest, typeof EventTarget, typeof structuredClone];
    return new Response(kinds.join(","));
  } }`;
  const report = await firstCall(touch, 8);
  assert.equal(report.error, undefined, `the function was charged for the platform's setup: ${String(report.error?.message)}`);
  assert.ok(report.limits.cpuMs.used < 8, `used ${report.limits.cpuMs.used} ms`);
});
