import { test } from "node:test";
import assert from "node:assert/strict";
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
