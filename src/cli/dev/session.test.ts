import { test } from "node:test";
import assert from "node:assert/strict";
import { hintFor, userFrames } from "./session.ts";

test("a load error's stack keeps the function's frames, not the host's after isolated-vm's boundary", () => {
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

test("build errors about Workers features verge's bundler lacks carry a hint; others none", () => {
  assert.match(hintFor('Could not resolve "node:buffer"')!, /Node\.js built-ins are not available/);
  assert.match(hintFor('No loader is configured for ".wasm" files: src/add.wasm')!, /importing a \.wasm file is not supported yet/);
  assert.equal(hintFor('Could not resolve "./missing"'), undefined);
  assert.equal(hintFor('Expected ")" but found "}"'), undefined);
});
