/**
 * HTMLRewriter from an origin through the isolate to the client, chunk by chunk: the
 * client reads the rewritten start of a page while the origin still holds the rest, in
 * the harness (what `verge dev` runs) and on an edge node (a Workers handler at
 * viewer-request returning `new HTMLRewriter()...transform(await fetch(request))`).
 * A handler that throws fails the response's body with its error.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { Verge } from "../../src/index.ts";
import { startFleet, startWebOrigin, type TestWebOrigin } from "../helpers/fleet.ts";

const WORKER = `
export default {
  async fetch(request) {
    const rewriter = new HTMLRewriter()
      .on("p", { element(e) { e.setAttribute("seen", "1"); } })
      .on("b", { element() { throw new RangeError("handler boom"); } });
    return rewriter.transform(await fetch(request));
  },
};`;

/** Origin: /page sends its first part and holds the rest until /release. */
async function holdingOrigin(): Promise<{ origin: TestWebOrigin; release(): void }> {
  let held: ServerResponse | null = null;
  const origin = await startWebOrigin((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/page") {
      res.writeHead(200, { "content-type": "text/html" });
      res.write("<html><body><p>first</p>");
      held = res;
    } else if (req.url === "/bad") {
      res.writeHead(200, { "content-type": "text/html" }).end("<p>ok</p><b>x</b>");
    } else res.writeHead(404).end();
  });
  return { origin, release: () => held?.end("<p>second</p></body></html>") };
}

/** Reads `body` until `until` appears in what came so far. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: string, got = ""): Promise<string> {
  const dec = new TextDecoder();
  while (!got.includes(until)) {
    const { done, value } = await reader.read();
    if (done) break;
    got += dec.decode(value, { stream: true });
  }
  return got;
}

test("harness: the rewritten start of a page arrives while the origin holds the rest", { timeout: 60_000 }, async () => {
  const { origin, release } = await holdingOrigin();
  const verge = new Verge({ modules: true, script: WORKER, outbound: { allowPrivateAddresses: true } });
  after(async () => {
    await verge.dispose();
    await origin.close();
  });
  const res = await verge.dispatchFetch(`${origin.url}/page`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html");
  const reader = res.body!.getReader();
  const first = await readUntil(reader, "</p>");
  assert.equal(first, '<html><body><p seen="1">first</p>');
  release();
  assert.equal(await readUntil(reader, "</html>", first), '<html><body><p seen="1">first</p><p seen="1">second</p></body></html>');

  const bad = await verge.dispatchFetch(`${origin.url}/bad`);
  await assert.rejects(bad.text(), (e: Error & { code?: string }) => e.code === "ERR_FUNCTION_EXCEPTION" && e.message.includes("RangeError: handler boom"));
});

test("edge node: a viewer-request Worker streams the rewritten page to the client", { timeout: 120_000 }, async () => {
  const { origin, release } = await holdingOrigin();
  const fleet = await startFleet({ nodes: 1 });
  after(async () => {
    await fleet.close();
    await origin.close();
  });
  await fleet.publish("rewrite", WORKER);
  await fleet.distribution("site", {
    hostnames: ["site.test"],
    origins: [{ id: "web", url: origin.url }],
    behaviors: [],
    defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "rewrite", alias: "live", includeBody: false } } },
  });
  await fleet.waitApplied();
  const node = new URL(fleet.nodes[0]!.url);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ host: node.hostname, port: node.port, path: "/page", headers: { host: "site.test" }, agent: false }, resolve);
    req.on("error", reject);
    req.end();
  });
  assert.equal(res.statusCode, 200);
  let got = "";
  const chunks = res[Symbol.asyncIterator]();
  while (!got.includes("</p>")) got += String((await chunks.next()).value);
  assert.equal(got, '<html><body><p seen="1">first</p>');
  release();
  for (;;) {
    const { done, value } = await chunks.next();
    if (done) break;
    got += String(value);
  }
  assert.equal(got, '<html><body><p seen="1">first</p><p seen="1">second</p></body></html>');

  // The handler's exception ends the response: the head went out with the first chunk, so the
  // node aborts the body (as workerd does); were it caught before the head, a 5xx.
  const bad = await fleet.get(0, "site.test", "/bad").catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
  assert.ok(bad.status === 0 || bad.status >= 500 || !bad.body.includes("<b>x</b>"), `the failed body should not arrive whole: ${bad.status} ${bad.body}`);
});
