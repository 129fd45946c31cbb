/**
 * A cron run's `scheduled()` calls its service bindings as a request's handler does: the
 * scheduler asks the pipeline for the run's service host (EdgePipeline.serviceHost), the target
 * runs on the node with the state of the fire, and its record carries the run's request id.
 * Real runtime and pipeline, in-memory state.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../../src/runtime/index.ts";
import { createTestEdge, until, type TestEdge } from "../../src/pipeline/testing-edge.ts";
import { startCronScheduler, createManualClock, type FireLogLine, type FireRecord } from "./index.ts";

const T0 = Date.parse("2030-01-01T12:00:00Z");
const services = createHostServices({ fetch: { allowPrivateAddresses: true } });
let runtime: Runtime;
let edge: TestEdge;

before(() => {
  runtime = createRuntime({ services });
  edge = createTestEdge(runtime, { serviceBindings: true });
  edge.state.setAlias("auth", "live", edge.state.addVersion("auth", `export default { async fetch(request) { console.log("auth saw " + new URL(request.url).pathname); return new Response("fresh", { status: 202 }); } };`));
  const warmer = `export default { async scheduled(controller, env) { const r = await env.AUTH.fetch("http://auth.internal/warm"); console.log("got " + r.status + " " + await r.text()); } };`;
  edge.state.setAlias("warmer", "live", edge.state.addVersion("warmer", warmer, { config: { crons: ["*/5 * * * *"], services: { AUTH: "auth" } } }));
});
after(async () => {
  await edge.close();
  await services.close();
  runtime.dispose();
});

test("scheduled() reaches env.AUTH on the node; the target's record carries the run's id, no distribution", async () => {
  const fired: Array<{ record: FireRecord; logs: FireLogLine[] | undefined }> = [];
  const scheduler = startCronScheduler({
    state: edge.state,
    runtime,
    claim: async (r) => ({ run: true, node: r.node }),
    nodeId: "n1",
    log: () => {},
    clock: createManualClock(T0),
    services: (scope) => edge.pipeline.serviceHost(scope),
    onFire: (record, logs) => fired.push({ record, logs }),
  });
  try {
    await scheduler.tick(T0 + 5 * 60_000 + 1000);
  } finally {
    scheduler.stop();
  }
  const warmer = fired.find((f) => f.record.function === "warmer")!;
  assert.equal(warmer.record.outcome, "ok", warmer.record.message);
  assert.deepEqual(warmer.logs?.map((l) => l.message), ["got 202 fresh"]);
  await until(() => edge.records.some((r) => r.service !== undefined));
  const call = edge.records.find((r) => r.service !== undefined)!;
  assert.equal(call.requestId, "scheduled:acme/warmer@2030-01-01T12:05:00.000Z");
  assert.equal(call.distribution, "acme/");
  assert.deepEqual(call.service, { binding: "AUTH", caller: "warmer" });
  assert.equal(call.status, 202);
  assert.deepEqual(call.invocations[0]!.logs?.map((l) => l.message), ["auth saw /warm"]);
});
