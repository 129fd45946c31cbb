/**
 * The child host's watchdog: when it kills a child whose answer was already on
 * its way (the parent's event loop was busy past the call's deadline, so the
 * timer ran before the socket was read), the answer still resolves the call,
 * and a call made right after goes to a new child, not to the dying one, where
 * the old child's exit used to fail it with ERR_RUNTIME_CRASHED.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createChildRuntime } from "./client.ts";
import { resolveLimits } from "../../shared/limits.ts";
import { readBody } from "../../shared/http.ts";

test("a call made after the watchdog killed a child goes to a new child, and the killed child's exit does not fail it", { timeout: 60_000 }, async () => {
  const rt = createChildRuntime({ fetch: {} });
  try {
    const wallMs = 1_500; // also what loading the function may take (spawning the child) on a loaded machine
    const fn = rt.register({ source: { id: "watchdog-race", code: `export default { fetch: () => new Response("hi") }`, format: "esm" }, limits: resolveLimits({ cpuMs: 1_000, wallMs }), bindings: {} });
    await rt.load(fn);
    const request = { method: "GET", url: "http://t/", headers: [], body: null };
    const first = rt.fetch(fn, request);
    // Busy past the deadline (wall + the watchdog's 2 s grace): the child answers meanwhile, and
    // when the loop turns again the watchdog's timer runs before the answer is read.
    // (A child starved by a loaded machine may not have answered by then: the kill then fails the
    // first call with ERR_WALL_LIMIT at the child's exit, and the race is not exercised this run.)
    const until = performance.now() + wallMs + 2_000 + 1_000;
    while (performance.now() < until);
    const spawnsBefore = rt.spawns;
    try {
      const r1 = await first;
      assert.equal(r1.type, "response");
      if (r1.type === "response") assert.equal(Buffer.from(await readBody(r1.response.body)).toString(), "hi");
    } catch (err) {
      assert.equal((err as { code?: string }).code, "ERR_WALL_LIMIT", String(err));
    }
    const r2 = await rt.fetch(fn, request);
    assert.equal(r2.type, "response");
    if (r2.type === "response") assert.equal(Buffer.from(await readBody(r2.response.body)).toString(), "hi");
    assert.equal(rt.spawns, spawnsBefore + 1, "the call after the kill ran in a new child");
  } finally {
    await rt.dispose();
  }
});

test("a function whose declaration the child refuses: every use says why, not that it is not registered", { timeout: 60_000 }, async () => {
  const rt = createChildRuntime({ fetch: {} });
  try {
    const fn = rt.register({
      source: { id: "refused-bindings", code: `export default { fetch: () => new Response("hi") }`, format: "esm" },
      limits: resolveLimits({}),
      bindings: { "not a name": { type: "var", value: "x" } } as never,
    });
    await assert.rejects(rt.load(fn), (err: Error & { code?: string }) => err.code === "ERR_INVALID_OPTIONS" && /invalid bindings/.test(err.message) && !/not registered/.test(err.message));
    await assert.rejects(rt.fetch(fn, { method: "GET", url: "http://t/", headers: [], body: null }), (err: Error & { code?: string }) => err.code === "ERR_INVALID_OPTIONS");
  } finally {
    await rt.dispose();
  }
});
