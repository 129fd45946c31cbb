import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveLimits } from "../shared/limits.ts";
import type { FunctionSpec } from "../runtime/index.ts";
import { createLocalState, NO_QUARANTINE } from "./local.ts";
import { testDistribution } from "./testing.ts";

const spec: FunctionSpec = { source: { id: "fn", code: "export default {}", format: "esm" }, limits: resolveLimits({}), env: {}, bindings: {} };
const digest = "a".repeat(64);
const distribution = testDistribution({ originUrl: "http://127.0.0.1:9", tenant: "local", hostnames: ["site.test"], functions: { "viewer-request": { function: "fn", version: digest, includeBody: false } } });
const request = { headers: new Headers(), url: new URL("http://site.test/") };

test("one frozen state: its distribution by host, the pinned version resolved, the same spec loaded", async () => {
  const state = createLocalState({ distribution, versions: [{ function: "fn", digest, spec }] });
  const applied = state.current();
  assert.equal(state.current(), applied);
  assert.ok(Object.isFrozen(applied.snapshot.tenants.local!.distributions.site));
  assert.equal(applied.distributionFor("site.test")?.name, "site");
  assert.equal(applied.distributionFor("other.test"), undefined);
  const association = applied.distributionFor("site.test")!.defaultBehavior.functions["viewer-request"]!;
  const ref = state.resolve(applied, "local", association, request);
  assert.deepEqual(ref, { tenant: "local", function: "fn", digest });
  assert.equal(await state.load(applied, ref), spec);
  assert.equal(NO_QUARANTINE.has(digest), false);
  assert.deepEqual(state.status(), { appliedSeq: 1, staleSeconds: 0, connected: true, refused: [] });
});

test("anyHost: every host gets the distribution, listing that host (a Workers fetch to it stays in the pipeline)", () => {
  const state = createLocalState({ distribution, versions: [{ function: "fn", digest, spec }], anyHost: true });
  const d = state.current().distributionFor("localhost")!;
  assert.deepEqual(d.hostnames, ["site.test", "localhost"]);
  assert.equal(state.current().distributionFor("localhost"), d, "kept per host");
  assert.ok(Object.isFrozen(d));
});

test("what is not there: unknown function or version, an alias, another tenant's load", async () => {
  const state = createLocalState({ distribution, versions: [{ function: "fn", digest, spec }] });
  const applied = state.current();
  assert.throws(() => state.resolve(applied, "local", { function: "gone", version: digest, includeBody: false }, request), { code: "ERR_FUNCTION_NOT_FOUND" });
  assert.throws(() => state.resolve(applied, "local", { function: "fn", version: "b".repeat(64), includeBody: false }, request), { code: "ERR_FUNCTION_NOT_FOUND" });
  assert.throws(() => state.resolve(applied, "local", { function: "fn", alias: "live", includeBody: false }, request), /pins a version/);
  await assert.rejects(state.load(applied, { tenant: "other", function: "fn", digest }), { code: "ERR_BUNDLE_UNAVAILABLE" });
});
