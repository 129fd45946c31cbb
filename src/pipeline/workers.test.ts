/** Workers fetch handlers at request events: answering, fetch(request) through cache and origin, routing of other hosts (response events: response-event.test.ts). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import type { FunctionAssociations } from "../shared/protocol.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, lambda, startOrigin, type TestEdge, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
let elsewhere: TestOrigin;
const services = createHostServices({ fetch: { allowPrivateAddresses: true } });

before(async () => {
  runtime = createRuntime({ services });
  origin = await startOrigin((req, res, body) => {
    res.writeHead(200, { "cache-control": "max-age=60", "x-secret-seen": String(req.headers["x-origin-secret"] ?? "") });
    res.end(`origin ${req.method} ${req.url} ${body}`);
  });
  elsewhere = await startOrigin((req, res) => res.end(`elsewhere ${req.url}`));
});
after(async () => {
  await origin.close();
  await elsewhere.close();
  await services.close();
  runtime.dispose();
});

function edgeWith(functions: Partial<Record<keyof FunctionAssociations, string>>, extra: Parameters<typeof createTestEdge>[1] = {}): TestEdge {
  const edge = createTestEdge(runtime, extra);
  const associations: FunctionAssociations = {};
  for (const [event, code] of Object.entries(functions)) {
    const name = event.replace("-", "");
    associations[event as keyof FunctionAssociations] = { function: name, version: edge.state.addVersion(name, code), includeBody: false };
  }
  edge.state.putDistribution(testDistribution({ originUrl: origin.url, functions: associations, origin: { customHeaders: { "x-origin-secret": "s3cr3t" } } }));
  return edge;
}

const worker = (body: string) => `export default { async fetch(request, env, ctx) { ${body} } };`;

test("a Workers handler at viewer-request answers the viewer itself (streamed request body included)", async () => {
  const edge = edgeWith({ "viewer-request": worker(`return new Response("hi " + request.method + " " + new URL(request.url).pathname + " " + await request.text(), { headers: { "x-w": "1" } });`) });
  const before = origin.seen.length;
  const res = await edge.request("/x", { method: "POST", body: "payload" });
  assert.equal(await res.text(), "hi POST /x payload");
  assert.equal(res.headers.get("x-w"), "1");
  assert.equal(res.headers.get("x-verge-cache"), null);
  assert.equal(origin.seen.length, before);
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["viewer-request"]);
  await edge.close();
});

test("fetch(request) from a Workers handler goes through the cache, the origin events and the origin", async () => {
  const edge = edgeWith({
    "viewer-request": worker(`const r = await fetch(request); const out = new Response(r.body, r); out.headers.set("x-worker-saw", r.headers.get("x-verge-cache")); return out;`),
    "origin-response": lambda(`cf.response.headers["x-ores"] = [{ value: "1" }]; return cf.response;`),
  });
  const before = origin.seen.length;
  const first = await edge.request("/through?q=1");
  assert.equal(await first.text(), "origin GET /through?q=1 ");
  assert.equal(first.headers.get("x-worker-saw"), "Miss");
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  assert.equal(first.headers.get("x-ores"), "1");
  assert.equal(first.headers.get("x-secret-seen"), "s3cr3t", "the origin's custom headers were sent");
  assert.equal(origin.seen[before]!.headers["host"], `localhost:${origin.port}`);
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["viewer-request", "origin-response"]);

  const second = await edge.request("/through?q=1");
  assert.equal(await second.text(), "origin GET /through?q=1 ");
  assert.equal(second.headers.get("x-worker-saw"), "Hit");
  assert.equal(origin.seen.length, before + 1);
  await edge.close();
});

test("a Workers handler's fetch to another host is refused without an outbound fetch, and goes there with one", async () => {
  const code = worker(`try { const r = await fetch("${elsewhere.url}/api"); return new Response(await r.text()); } catch (e) { return new Response("refused: " + e.message, { status: 500 }); }`);
  const refused = edgeWith({ "viewer-request": code });
  const r1 = await refused.request("/");
  assert.equal(r1.status, 500);
  assert.match(await r1.text(), /^refused: .*not routed/);
  const routed = edgeWith({ "viewer-request": code }, { outbound: services.fetch });
  const r2 = await routed.request("/");
  assert.equal(await r2.text(), "elsewhere /api");
  await refused.close();
  await routed.close();
});

test("passThroughOnException: a Workers handler that throws lets a bodiless request go on to the origin", async () => {
  const edge = edgeWith({ "viewer-request": worker(`ctx.passThroughOnException(); throw new Error("boom");`) });
  const res = await edge.request("/pass");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "origin GET /pass ");
  assert.equal((await edge.record()).invocations[0]!.error, "ERR_FUNCTION_EXCEPTION");
  const post = await edge.request("/pass", { method: "POST", body: "x" });
  assert.equal(post.status, 503, "the body went to the function: it cannot go on");
  await post.arrayBuffer();
  await edge.close();
});

test("a service worker whose listener never calls respondWith() lets the request go on to the origin, as Workers does", async () => {
  const edge = edgeWith({ "viewer-request": `addEventListener("fetch", (event) => { /* looks, does not answer */ });` });
  const res = await edge.request("/unanswered");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "origin GET /unanswered ");
  assert.equal((await edge.record()).invocations[0]!.error, "ERR_INVALID_RESULT");
  await edge.close();
});

test("a Workers handler at origin-request answers for the origin (cached); its fetch to the origin goes straight there", async () => {
  const edge = edgeWith({
    "origin-request": worker(`const r = await fetch(request); return new Response("wrapped: " + await r.text(), { headers: { "cache-control": "max-age=60", "x-url": request.url } });`),
    "origin-response": lambda(`cf.response.headers["x-ores"] = [{ value: "1" }]; return cf.response;`),
  });
  const first = await edge.request("/o");
  assert.equal(await first.text(), "wrapped: origin GET /o ");
  assert.equal(first.headers.get("x-url"), `${origin.url}/o`);
  assert.equal(first.headers.get("x-ores"), null, "a response from origin-request skips origin-response");
  const second = await edge.request("/o");
  assert.equal(second.headers.get("x-verge-cache"), "Hit");
  await second.arrayBuffer();
  await edge.close();
});


test("a subrequest that fails reaches the handler as the error response the viewer would get", async () => {
  const edge = createTestEdge(runtime);
  const digest = edge.state.addVersion("w", worker(`const r = await fetch(request); return new Response(r.status + " " + r.headers.get("x-verge-error"));`));
  edge.state.putDistribution(testDistribution({ originUrl: "http://no-such-origin.invalid", functions: { "viewer-request": { function: "w", version: digest, includeBody: false } } }));
  const res = await edge.request("/");
  assert.equal(await res.text(), "502 ERR_ORIGIN_UNREACHABLE");
  assert.equal(edge.logs[0]!["msg"], "subrequest failed");
  await edge.close();
});
