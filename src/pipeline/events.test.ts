/** The four events with Lambda@Edge semantics: which run on a hit and a miss, short circuits, replacements. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import type { FunctionAssociations } from "../shared/protocol.ts";
import { testDistribution } from "./testing.ts";
import { cacheKey } from "./cache/key.ts";
import { createTestEdge, lambda, startOrigin, type TestEdge, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;

before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((req, res, body) => {
    if (req.url?.startsWith("/missing")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("nope");
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", "x-origin": "yes", "cache-control": "max-age=60" });
    res.end(`origin ${req.method} ${req.url} ${body}`);
  });
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

/** A test edge whose default behavior runs these functions (name → code), attached by version. */
function edgeWith(functions: Partial<Record<keyof FunctionAssociations, { code: string; includeBody?: boolean; limits?: Record<string, unknown> }>>): TestEdge {
  const edge = createTestEdge(runtime);
  const associations: FunctionAssociations = {};
  for (const [event, f] of Object.entries(functions)) {
    const digest = edge.state.addVersion(event.replace("-", ""), f.code, f.limits ? { limits: f.limits } : {});
    associations[event as keyof FunctionAssociations] = { function: event.replace("-", ""), version: digest, includeBody: f.includeBody ?? false };
  }
  edge.state.putDistribution(testDistribution({ originUrl: origin.url, functions: associations }));
  return edge;
}

const addRequestHeader = (name: string) => lambda(`cf.request.headers["${name}"] = [{ key: "${name}", value: "1" }]; return cf.request;`);
const addResponseHeader = (name: string) => lambda(`cf.response.headers["${name}"] = [{ key: "${name}", value: "1" }]; return cf.response;`);

test("a miss runs all four events and fills the cache; a hit runs only the viewer events", async () => {
  const edge = edgeWith({
    "viewer-request": { code: addRequestHeader("x-vreq") },
    "origin-request": { code: addRequestHeader("x-oreq") },
    "origin-response": { code: addResponseHeader("x-ores") },
    "viewer-response": { code: addResponseHeader("x-vres") },
  });
  const before = origin.seen.length;
  const first = await edge.request("/page?a=1");
  assert.equal(first.status, 200);
  assert.equal(await first.text(), "origin GET /page?a=1 ");
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  assert.equal(first.headers.get("x-ores"), "1");
  assert.equal(first.headers.get("x-vres"), "1");
  const seen = origin.seen[before]!;
  assert.equal(seen.headers["x-vreq"], "1");
  assert.equal(seen.headers["x-oreq"], "1");
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["viewer-request", "origin-request", "origin-response", "viewer-response"]);

  const second = await edge.request("/page?a=1");
  assert.equal(await second.text(), "origin GET /page?a=1 ");
  assert.equal(second.headers.get("x-verge-cache"), "Hit");
  assert.equal(second.headers.get("x-ores"), "1", "the origin-response change was cached");
  assert.equal(second.headers.get("x-vres"), "1");
  assert.equal(origin.seen.length, before + 1, "the hit did not reach the origin");
  const record = await edge.record();
  assert.deepEqual(record.invocations.map((i) => i.event), ["viewer-request", "viewer-response"]);
  assert.equal(record.cache, "Hit");
  await edge.close();
});

test("a response generated at viewer-request goes to the viewer uncached, and viewer-response does not run", async () => {
  const edge = edgeWith({
    "viewer-request": { code: lambda(`return { status: "302", headers: { location: [{ key: "Location", value: "/elsewhere" }] } };`) },
    "viewer-response": { code: addResponseHeader("x-vres") },
  });
  const before = origin.seen.length;
  for (let i = 0; i < 2; i++) {
    const res = await edge.request("/old");
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "/elsewhere");
    assert.equal(res.headers.get("x-vres"), null);
    assert.equal(res.headers.get("x-verge-cache"), null);
    assert.ok(res.headers.get("x-verge-request-id"));
    assert.match(res.headers.get("via") ?? "", /edge-test \(verge\)/);
    await res.arrayBuffer();
    assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["viewer-request"]);
  }
  assert.equal(origin.seen.length, before);
  assert.deepEqual(edge.cache.keys(), []);
  await edge.close();
});

test("a response generated at origin-request is cached and origin-response does not run", async () => {
  const edge = edgeWith({
    "origin-request": { code: lambda(`return { status: "200", headers: { "cache-control": [{ value: "max-age=60" }] }, body: "generated" };`) },
    "origin-response": { code: addResponseHeader("x-ores") },
  });
  const before = origin.seen.length;
  const first = await edge.request("/gen");
  assert.equal(await first.text(), "generated");
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  assert.equal(first.headers.get("x-ores"), null);
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["origin-request"]);
  const second = await edge.request("/gen");
  assert.equal(await second.text(), "generated");
  assert.equal(second.headers.get("x-verge-cache"), "Hit");
  assert.deepEqual((await edge.record()).invocations, []);
  assert.equal(origin.seen.length, before);
  await edge.close();
});

test("viewer-response does not run when the origin answers 400 or more; origin-response does", async () => {
  const edge = edgeWith({ "origin-response": { code: addResponseHeader("x-ores") }, "viewer-response": { code: addResponseHeader("x-vres") } });
  const res = await edge.request("/missing");
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "nope");
  assert.equal(res.headers.get("x-ores"), "1");
  assert.equal(res.headers.get("x-vres"), null);
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["origin-response"]);
  await edge.close();
});

test("viewer-response may not change the status: 502 ERR_INVALID_RESULT", async () => {
  const edge = edgeWith({ "viewer-response": { code: lambda(`cf.response.status = "201"; return cf.response;`) } });
  const res = await edge.request("/status");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  const body = (await res.json()) as { error: { code: string; requestId: string } };
  assert.equal(body.error.code, "ERR_INVALID_RESULT");
  assert.equal(body.error.requestId, res.headers.get("x-verge-request-id"));
  const line = await edge.logLine((l) => l["code"] === "ERR_INVALID_RESULT");
  assert.equal(line["event"], "viewer-response");
  assert.equal(line["function"], "acme/viewerresponse");
  assert.match(String(line["digest"]), /^[0-9a-f]{64}$/);
  assert.equal(line["node"], "edge-test");
  assert.equal(line["requestId"], res.headers.get("x-verge-request-id"));
  await edge.close();
});

test("changing a read-only header at viewer-request is a 502; disallowed headers are never shown", async () => {
  const edge = edgeWith({ "viewer-request": { code: lambda(`cf.request.headers.host = [{ key: "Host", value: "evil.test" }]; return cf.request;`) } });
  const res = await edge.request("/ro");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  await res.arrayBuffer();

  const shown = edgeWith({ "viewer-request": { code: lambda(`return { status: "200", body: Object.keys(cf.request.headers).sort().join(",") };`) } });
  const res2 = await shown.request("/h", { headers: { "x-real-ip": "1.2.3.4", "x-amz-cf-id": "x", "x-custom": "y" } });
  const names = (await res2.text()).split(",");
  assert.ok(names.includes("x-custom"));
  assert.ok(!names.includes("x-real-ip") && !names.includes("x-amz-cf-id"));
  await edge.close();
  await shown.close();
});

test("a viewer-request result changes the uri, query and headers the origin and the cache key see", async () => {
  const edge = edgeWith({
    "viewer-request": { code: lambda(`cf.request.uri = "/rewritten" + cf.request.uri; cf.request.querystring = "b=2"; cf.request.headers["x-added"] = [{ value: "v" }]; return cf.request;`) },
  });
  const before = origin.seen.length;
  const res = await edge.request("/x?a=1");
  assert.equal(await res.text(), "origin GET /rewritten/x?b=2 ");
  assert.equal(origin.seen[before]!.headers["x-added"], "v");
  const policy = testDistribution({ originUrl: origin.url }).defaultBehavior.cacheKey;
  const rewritten = cacheKey({ distribution: "acme/site", behavior: "default", host: "site.test", url: new URL("http://site.test/rewritten/x?b=2"), headers: new Headers(), policy });
  assert.deepEqual(edge.cache.keys(), [rewritten]);
  await edge.close();
});

test("include-body shows the body as base64 cut at the limit with inputTruncated; the origin still gets all of it", async () => {
  const edge = edgeWith({
    "viewer-request": {
      includeBody: true,
      limits: { exposedBodyBytes: 8 },
      code: lambda(`const b = cf.request.body; cf.request.headers["x-seen"] = [{ value: [b.inputTruncated, b.action, b.encoding, b.data].join("|") }]; return cf.request;`),
    },
  });
  const before = origin.seen.length;
  const res = await edge.request("/upload", { method: "POST", body: "0123456789abcdef" });
  assert.equal(res.headers.get("x-verge-cache"), "Bypass");
  assert.equal(await res.text(), "origin POST /upload 0123456789abcdef");
  assert.equal(origin.seen[before]!.headers["x-seen"], `true|read-only|base64|${Buffer.from("01234567").toString("base64")}`);

  const small = await edge.request("/upload", { method: "POST", body: "0123" });
  await small.arrayBuffer();
  assert.equal(origin.seen[before + 1]!.headers["x-seen"], `false|read-only|base64|${Buffer.from("0123").toString("base64")}`);
  await edge.close();
});

test("a body replaced at viewer-request is what the origin receives", async () => {
  const edge = edgeWith({
    "viewer-request": { includeBody: true, code: lambda(`cf.request.body = { action: "replace", encoding: "text", data: "replaced!" }; return cf.request;`) },
  });
  const res = await edge.request("/form", { method: "PUT", body: "original body" });
  assert.equal(await res.text(), "origin PUT /form replaced!");
  await edge.close();
});

test("origin-response replaces the body with a generated one; without a body field the origin's body goes on", async () => {
  const replace = edgeWith({ "origin-response": { code: lambda(`return { status: "200", headers: cf.response.headers, body: "from origin-response" };`) } });
  const r1 = await replace.request("/r");
  assert.equal(await r1.text(), "from origin-response");
  assert.equal(r1.headers.get("x-origin"), "yes");
  const keep = edgeWith({ "origin-response": { code: lambda(`cf.response.status = "203"; return cf.response;`) } });
  const r2 = await keep.request("/k");
  assert.equal(r2.status, 203);
  assert.equal(await r2.text(), "origin GET /k ");
  await replace.close();
  await keep.close();
});

test("origin-request may send the request to another custom origin", async () => {
  const other = await startOrigin((req, res) => res.end(`other ${req.url} host=${req.headers.host}`));
  const edge = edgeWith({
    "origin-request": {
      code: lambda(`cf.request.origin = { custom: { ...cf.request.origin.custom, domainName: "localhost", port: ${other.port}, path: "/base" } };
        cf.request.headers.host = [{ key: "Host", value: "localhost:${other.port}" }]; return cf.request;`),
    },
  });
  const res = await edge.request("/p");
  assert.equal(await res.text(), `other /base/p host=localhost:${other.port}`);
  await edge.close();
  await other.close();
});

test("one request uses one applied state for all its events, even when an alias changes mid-request", async () => {
  const edge = createTestEdge(runtime);
  const v1 = edge.state.addVersion("stamp", lambda(`cf.response.headers["x-version"] = [{ value: "1" }]; return cf.response;`));
  const v2 = edge.state.addVersion("stamp", lambda(`cf.response.headers["x-version"] = [{ value: "2" }]; return cf.response;`));
  edge.state.setAlias("stamp", "live", v1);
  const slow = await startOrigin((_req, res) => {
    edge.state.setAlias("stamp", "live", v2); // a deploy lands while the request is at the origin
    res.end("ok");
  });
  edge.state.putDistribution(testDistribution({ originUrl: slow.url, functions: { "origin-response": { function: "stamp", alias: "live", includeBody: false } } }));
  const calls = edge.state.currentCalls;
  const res = await edge.request("/consistent");
  assert.equal(res.headers.get("x-version"), "1");
  assert.equal(edge.state.currentCalls, calls + 1);
  await res.arrayBuffer();
  const next = await edge.request("/consistent2");
  assert.equal(next.headers.get("x-version"), "2");
  await next.arrayBuffer();
  await edge.close();
  await slow.close();
});
