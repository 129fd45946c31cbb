import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBundle } from "./bundle.ts";

const check = (code: string) => checkBundle(new TextEncoder().encode(code));
const codeOf = (code: string) => {
  try {
    check(code);
    return "ok";
  } catch (err) {
    return (err as { code: string }).code;
  }
};

test("each of the three dialects is recognised", () => {
  assert.equal(check(`export default { fetch(req) { return new Response("x"); } }`).dialect, "workers-module");
  assert.equal(check(`export default { async fetch(req) {} , scheduled() {} }`).dialect, "workers-module");
  assert.equal(check(`var src_default = { fetch: () => 1 };\nexport { src_default as default };`).dialect, "workers-module");
  assert.equal(check(`export { app as default }; const app = makeApp();`).dialect, "workers-module");
  assert.equal(check(`export default class extends WorkerEntrypoint {}`).dialect, "workers-module");
  assert.equal(check(`export default class { fetch() {} }`).dialect, "workers-module");
  assert.equal(check(`addEventListener("fetch", (e) => e.respondWith(new Response("ok")));`).dialect, "service-worker");
  assert.equal(check(`(() => { self.addEventListener("fetch", (e) => {}); })();`).dialect, "service-worker");
  assert.equal(check(`export const handler = async (event) => event.Records[0].cf.request;`).dialect, "lambda-edge");
  assert.equal(check(`export function handler(event, ctx, cb) { cb(null, event.Records[0].cf.request); }`).dialect, "lambda-edge");
  assert.equal(check(`const h = async () => {}; export { h as handler };`).dialect, "lambda-edge");
  assert.equal(check(`exports.handler = async (event) => event;`).dialect, "lambda-edge");
  assert.equal(check(`module.exports = { handler: async () => {} };`).dialect, "lambda-edge");
  assert.deepEqual(check(`export const a = 1; export default { fetch() {} }`).exports, ["a", "default"]);
});

test("a module without a handler is refused with what it exports", () => {
  assert.equal(codeOf(`export const a = 1;`), "ERR_NO_HANDLER");
  assert.equal(codeOf(`export default { get() {} }`), "ERR_NO_HANDLER");
  assert.equal(codeOf(`addEventListener("scheduled", () => {});`), "ERR_NO_HANDLER");
  assert.throws(() => check(`export const a = 1, b = 2;`), /found exports \[a, b\]/);
  assert.throws(() => check(`export default { get() {} }`), /default export has no fetch method/);
});

test("syntax is checked as an ES module, without running anything", () => {
  assert.equal(codeOf(`export default { fetch( }`), "ERR_BUNDLE_SYNTAX");
  assert.equal(codeOf(`with (x) {} export default { fetch() {} }`), "ERR_BUNDLE_SYNTAX", "strict mode");
  assert.throws(() => check(`export default {\n  fetch() { return 1 +; }\n}`), /\(2:/);
  // Code with side effects is only parsed: this would throw if it ran.
  assert.equal(codeOf(`throw new Error("ran"); export default { fetch() {} }`), "ok");
  assert.equal(codeOf(`export default { fetch() {} }\n}`), "ERR_BUNDLE_SYNTAX");
  assert.throws(() => checkBundle(new Uint8Array([0xff, 0xfe, 0x00])), /not UTF-8/);
});
