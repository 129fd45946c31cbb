/** An invocation that fails before answering: its report travels with the error the runtime throws. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { resolveLimits } from "../shared/limits.ts";
import { buildCloudFrontEvent, type CloudFrontEvent } from "../shared/cloudfront/index.ts";
import { createRuntime } from "./runtime.ts";
import { createHostServices } from "./services.ts";
import { failureReport } from "./failure-report.ts";
import type { FunctionSpec } from "./pool.ts";

const runtime = createRuntime({ services: createHostServices() });
after(() => runtime.dispose());

const spec = (id: string, code: string): FunctionSpec => ({ source: { id, code, format: "esm" }, limits: resolveLimits({ cpuMs: 500 }), env: {}, bindings: {} });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

test("an exception: the error carries the report (console lines, budgets used)", async () => {
  const err = await rejection(runtime.fetch(spec("throws", `export default { fetch() { console.log("before"); throw new Error("boom"); } }`), { method: "GET", url: "http://t/", headers: [], body: null }));
  assert.equal((err as { code: string }).code, "ERR_FUNCTION_EXCEPTION");
  const report = await failureReport(err);
  assert.ok(report);
  assert.deepEqual(report.logs.map((l) => l.message), ["before"]);
  assert.equal(report.limits.cpuMs.limit, 500);
  assert.ok(report.limits.wallMs.used > 0);
});

test("an invalid Lambda@Edge result: the error carries the report", async () => {
  const event = buildCloudFrontEvent({ eventType: "viewer-request", request: { method: "GET", url: "http://t/", headers: [["host", "t"]], body: null }, clientIp: "127.0.0.1", distribution: { domainName: "t", id: "T" } }) as CloudFrontEvent;
  const err = await rejection(runtime.event(spec("invalid", `export const handler = async () => { console.log("made"); return { status: "99" }; };`), event));
  assert.equal((err as { code: string }).code, "ERR_INVALID_RESULT");
  assert.deepEqual((await failureReport(err))?.logs.map((l) => l.message), ["made"]);
});

test("errors that no invocation made have none", async () => {
  const err = await rejection(runtime.fetch(spec("nohandler", `export const x = 1;`), { method: "GET", url: "http://t/", headers: [], body: null }));
  assert.equal(failureReport(err), undefined);
  assert.equal(failureReport(new Error("x")), undefined);
  assert.equal(failureReport("x"), undefined);
});
