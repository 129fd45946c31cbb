/** Function config: reserved and provisioned concurrency, defaults, validation, old records. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { concurrencyOf, type FunctionConfig } from "../src/shared/protocol.ts";
import { bundle, startTestOrigin, type TestOrigin } from "./testing/harness.ts";
import { validateConfig, validateSecret } from "./validate/config.ts";

let origin: TestOrigin;
let acme: string;
before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme");
});
after(() => origin.close());

const put = (fn: string, config: unknown) => origin.call("PUT", `/v1/tenants/acme/functions/${fn}`, { token: acme, json: { config } });

test("defaults: unreserved, no provisioned isolates, for configured and first-published functions", async () => {
  const r = await put("plain", { cpuMs: 10 });
  assert.equal(r.status, 201);
  assert.equal(r.body.config.reservedConcurrency, null);
  assert.equal(r.body.config.provisionedConcurrency, 0);
  const pub = await origin.call("POST", "/v1/tenants/acme/functions/fresh/versions", { token: acme, body: bundle("fresh") });
  assert.equal(pub.status, 201);
  assert.equal(pub.body.config.reservedConcurrency, null);
  assert.equal(pub.body.config.provisionedConcurrency, 0);
});

test("set, shown in the function, its next version and the feed; replaced by the next PUT", async () => {
  const r = await put("busy", { reservedConcurrency: 20, provisionedConcurrency: 3 });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual([r.body.config.reservedConcurrency, r.body.config.provisionedConcurrency], [20, 3]);
  const v = await origin.call("POST", "/v1/tenants/acme/functions/busy/versions", { token: acme, body: bundle("busy") });
  assert.deepEqual([v.body.config.reservedConcurrency, v.body.config.provisionedConcurrency], [20, 3]);
  const node = await origin.token(null, ["node"]);
  const snap = (await origin.call("GET", "/v1/snapshot", { token: node })).body;
  assert.equal(snap.tenants.acme.functions.busy.config.reservedConcurrency, 20);
  const zero = await put("busy", { reservedConcurrency: 0 });
  assert.deepEqual([zero.body.config.reservedConcurrency, zero.body.config.provisionedConcurrency], [0, 0], "0 reserved: the function is throttled entirely");
  const unreserved = await put("busy", { reservedConcurrency: null, provisionedConcurrency: 5 });
  assert.deepEqual([unreserved.body.config.reservedConcurrency, unreserved.body.config.provisionedConcurrency], [null, 5]);
});

test("invalid values are refused with every problem named", async () => {
  const r = await put("bad", { reservedConcurrency: -1, provisionedConcurrency: 1.5 });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.error.details.diagnostics.map((d: { path: string }) => d.path).sort(), ["config.provisionedConcurrency", "config.reservedConcurrency"]);
  assert.match(r.body.error.message, /reservedConcurrency: expected null \(unreserved\) or an integer from 0/);
  const over = await put("bad", { reservedConcurrency: 2, provisionedConcurrency: 3 });
  assert.equal(over.status, 400);
  assert.match(over.body.error.message, /provisionedConcurrency: expected at most reservedConcurrency \(2\)/);
  const str = await put("bad", { reservedConcurrency: "10" });
  assert.match(str.body.error.message, /found "10"/);
  assert.equal((await origin.call("GET", "/v1/tenants/acme/functions/bad", { token: acme })).status, 404, "nothing stored");
});

test("pure validation and old configs without the fields", () => {
  assert.deepEqual(validateConfig(undefined).config, { memoryMb: 128, cpuMs: 50, wallMs: 30_000, subrequests: 50, env: {}, reservedConcurrency: null, provisionedConcurrency: 0 });
  assert.equal(validateConfig({ reservedConcurrency: 10_001 }).diagnostics.list.length, 1);
  const old: FunctionConfig = { memoryMb: 128, cpuMs: 50, wallMs: 30_000, subrequests: 50, env: {}, secrets: [] };
  assert.deepEqual(concurrencyOf(old), { reserved: null, provisioned: 0 });
  assert.deepEqual(concurrencyOf({ ...old, reservedConcurrency: 4, provisionedConcurrency: 2 }), { reserved: 4, provisioned: 2 });
});

test("secret refusals say what was found: the name, and for the value only its type, never the value", () => {
  const bad = validateSecret("api-key", { value: "x" }, {});
  assert.deepEqual(bad.diagnostics.list, [{ path: "name", message: 'invalid secret name: expected a letter or _ then letters, digits or _ (at most 128), found "api-key"' }]);
  const numeric = validateSecret("PIN", { value: 424242 }, {});
  assert.deepEqual(numeric.diagnostics.list, [{ path: "value", message: "expected a string, found a number" }]);
  assert.doesNotMatch(JSON.stringify(numeric.diagnostics.list), /424242/);
  assert.deepEqual(validateSecret("PIN", {}, {}).diagnostics.list, [{ path: "value", message: "expected a string, found nothing" }]);
});
