/** A load error's stack as a Worker's author sees it through the harness: the function's frames only. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Verge } from "../../src/index.ts";

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
