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

test("outbound.allowHosts lets an origin-request function choose that host at a loopback address; other hosts stay refused", async (t) => {
  const server = createServer((req, res) => res.writeHead(200, { "cache-control": "no-store" }).end(`chosen ${req.url}`));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const script = `export const handler = async (event) => {
    const req = event.Records[0].cf.request;
    req.origin = { custom: { ...req.origin.custom, domainName: "localhost", port: ${port} } };
    return req;
  };`;
  // The configured origin is never reached: the function always moves the request.
  const options = { modules: true, script, event: "origin-request" as const, upstream: "http://unused.example" };
  const refused = new Verge(options);
  t.after(() => refused.dispose());
  const blocked = await refused.dispatchFetch("http://site.test/a");
  assert.equal(blocked.status, 502);
  assert.equal(blocked.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
  await blocked.arrayBuffer();

  const allowed = new Verge({ ...options, outbound: { allowHosts: ["localhost"] } });
  t.after(() => allowed.dispose());
  const res = await allowed.dispatchFetch("http://site.test/b");
  assert.equal(res.status, 200, `${res.headers.get("x-verge-error")}`);
  assert.equal(await res.text(), "chosen /b");
});

test("outbound options are checked: each problem named by its path", () => {
  assert.throws(
    () => new Verge({ script: "export default {}", outbound: { allowHosts: "localhost", allowPrivateAddresses: "yes", timeoutMs: -1, retries: 2 } as never }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "ERR_INVALID_OPTIONS");
      for (const path of ["outbound.allowHosts", "outbound.allowPrivateAddresses", "outbound.timeoutMs", "outbound.retries"]) assert.ok(err.message.includes(`- ${path}:`), `${path} in ${err.message}`);
      return true;
    },
  );
  assert.throws(() => new Verge({ script: "export default {}", outbound: [] as never }), /- outbound: expected \{ allowPrivateAddresses\?, allowHosts\?, timeoutMs\? \}, found/);
});
