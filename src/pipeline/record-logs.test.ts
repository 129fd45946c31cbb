/** A request's record carries what each of its functions wrote to the console (verge logs sends it on). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, lambda, startOrigin, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((_req, res) => res.writeHead(200, { "cache-control": "no-store" }).end("page"));
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

test("console lines of each invocation are in the record, with level and time; none for a function that wrote nothing", async () => {
  const edge = createTestEdge(runtime);
  const talky = edge.state.addVersion("talky", lambda(`console.log("seen", cf.request.uri); console.warn("careful"); return cf.request;`));
  const quiet = edge.state.addVersion("quiet", lambda(`return cf.response;`));
  edge.state.putDistribution(
    testDistribution({ originUrl: origin.url, behaviors: [{ pathPattern: "/*", functions: { "viewer-request": { function: "talky", version: talky, includeBody: false }, "origin-response": { function: "quiet", version: quiet, includeBody: false } } }] }),
  );
  try {
    const res = await edge.request("/x");
    assert.equal(await res.text(), "page");
    const record = await edge.record();
    const [vreq, ores] = record.invocations;
    assert.equal(vreq!.function, "talky");
    assert.deepEqual(vreq!.logs?.map((l) => [l.level, l.message]), [["log", "seen /x"], ["warn", "careful"]]);
    assert.match(vreq!.logs![0]!.at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(ores!.function, "quiet");
    assert.equal(ores!.logs, undefined);
  } finally {
    await edge.close();
  }
});
