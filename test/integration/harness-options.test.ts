/** Harness options that belong to the child host: setOptions applies them too. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Verge } from "../../src/index.ts";

test("setOptions applies a new outbound policy (loopback refused, allowed, refused again)", async (t) => {
  const server = createServer((_req, res) => res.end("from loopback"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const script = `export default { async fetch() {
    try { return new Response(await (await fetch(${JSON.stringify(url)})).text()); }
    catch (e) { return new Response(e.name + ": " + e.message, { status: 500 }); }
  } };`;
  const verge = new Verge({ modules: true, script });
  t.after(() => verge.dispose());

  const refused = await verge.dispatchFetch("http://x.test/");
  assert.equal(refused.status, 500);
  assert.match(await refused.text(), /TypeError: .*loopback/);

  await verge.setOptions({ modules: true, script, outbound: { allowPrivateAddresses: true } });
  const allowed = await verge.dispatchFetch("http://x.test/");
  assert.equal(await allowed.text(), "from loopback");

  await verge.setOptions({ modules: true, script });
  const again = await verge.dispatchFetch("http://x.test/");
  assert.equal(again.status, 500);
  await again.text();
});
