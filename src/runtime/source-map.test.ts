import { test } from "node:test";
import assert from "node:assert/strict";
import { Verge } from "../index.ts";
import { userFrames } from "./source-map.ts";

test("userFrames keeps the function's frames: not the host's after isolated-vm's boundary, not the prelude's", () => {
  const stack = [
    "Error: top level boom",
    "    at src/index.js:1:7",
    "    at verge:prelude:12:3",
    "    at (<isolated-vm boundary>)",
    "    at evaluateBundle (file:///repo/src/runtime/bundle-loader.ts:78:9)",
    "    at file:///repo/src/runtime/sandbox.ts:137:9",
  ].join("\n");
  assert.equal(userFrames(stack), "Error: top level boom\n    at src/index.js:1:7");
  assert.equal(userFrames("Error: x\n    at a.js:1:1"), "Error: x\n    at a.js:1:1");
});

test("a bundle that throws at load: its guest stack names the function's code and none of verge's files", async () => {
  const verge = new Verge({ script: `function boom() { throw new Error("top level boom"); }\nboom();\nexport default { fetch: () => new Response("x") };` });
  try {
    const err = (await verge.ready.then(() => undefined, (e: unknown) => e)) as { code?: string; guestStack?: string } | undefined;
    assert.equal(err?.code, "ERR_BUNDLE_COMPILE");
    assert.match(err!.guestStack!, /top level boom/);
    assert.match(err!.guestStack!, /boom/);
    assert.doesNotMatch(err!.guestStack!, /bundle-loader|sandbox\.ts|isolated-vm boundary|verge:prelude/);
  } finally {
    await verge.dispose();
  }
});
