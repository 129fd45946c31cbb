/** How a bundle is handed to the runtime: as an ES module, or as a classic script. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatOf } from "./loader.ts";

test("ES modules stay modules; service workers and CommonJS handlers run as scripts", () => {
  assert.equal(formatOf("export default { fetch() {} }", "workers-module"), "esm");
  assert.equal(formatOf("export const handler = async (e) => e.Records[0].cf.request;", "lambda-edge"), "esm");
  assert.equal(formatOf("const h = async () => ({ status: '200' }); export { h as handler };", "lambda-edge"), "esm");
  assert.equal(formatOf("// export default nothing\nexports.handler = async (e) => e.Records[0].cf.request;", "lambda-edge"), "script");
  assert.equal(formatOf("addEventListener('fetch', (e) => e.respondWith(new Response('ok')));", "service-worker"), "script");
  assert.equal(formatOf("import { x } from './x.js'; addEventListener('fetch', () => x);", "service-worker"), "esm");
});
