import { test } from "node:test";
import assert from "node:assert/strict";
import { hintFor } from "./session.ts";

test("build errors about Workers features verge's bundler lacks carry a hint; others none", () => {
  assert.match(hintFor('Could not resolve "node:buffer"')!, /Node\.js built-ins are not available/);
  assert.match(hintFor('No loader is configured for ".wasm" files: src/add.wasm')!, /importing a \.wasm file is not supported yet/);
  assert.equal(hintFor('Could not resolve "./missing"'), undefined);
  assert.equal(hintFor('Expected ")" but found "}"'), undefined);
});
