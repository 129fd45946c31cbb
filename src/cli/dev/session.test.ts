import { test } from "node:test";
import assert from "node:assert/strict";
import { hintFor } from "./session.ts";

test("build errors about Workers features verge's bundler lacks carry a hint; others none", () => {
  assert.match(hintFor('Could not resolve "buffer"')!, /^buffer is a Node\.js built-in: with compatibility_flags = \["nodejs_compat"\] in the wrangler config, verge bundles a polyfill for it \(node:buffer, node:events/);
  // node:* imports get the bundler's own message (src/build/node-compat.ts); a package named like no built-in gets no hint.
  assert.equal(hintFor('node:crypto is not available in verge: with nodejs_compat, ...'), undefined);
  assert.equal(hintFor('Could not resolve "lodash"'), undefined);
  const png = hintFor('No loader is configured for ".png" files: src/logo.png')!;
  assert.match(png, /^no module rule names \.png files/);
  assert.match(png, /globs = \["\*\*\/\*\.png"\]/);
  assert.equal(hintFor('Could not resolve "./missing"'), undefined);
  assert.equal(hintFor('Expected ")" but found "}"'), undefined);
});
