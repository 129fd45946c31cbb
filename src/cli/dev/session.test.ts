import { test } from "node:test";
import assert from "node:assert/strict";
import { hintFor } from "./session.ts";

test("build errors about Workers features verge's bundler lacks carry a hint; others none", () => {
  assert.match(hintFor('Could not resolve "node:buffer"')!, /Node\.js built-ins are not available/);
  const png = hintFor('No loader is configured for ".png" files: src/logo.png')!;
  assert.match(png, /^no module rule names \.png files/);
  assert.match(png, /globs = \["\*\*\/\*\.png"\]/);
  assert.equal(hintFor('Could not resolve "./missing"'), undefined);
  assert.equal(hintFor('Expected ")" but found "}"'), undefined);
});
