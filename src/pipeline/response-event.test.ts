/**
 * Workers handlers (module and service worker) at origin-response and
 * viewer-response: fetch() of the request's own URL is the response at hand,
 * streamed; what they return replaces it under Lambda@Edge's rules.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import type { FunctionAssociations } from "../shared/protocol.ts";
import type { VersionOptions } from "./testing.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, lambda, startOrigin, type TestEdge, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
let elsewhere: TestOrigin;
const services = createHostServices({ fetch: { allowPrivateAddresses: true } });
/** Streaming origin: `/held` sends its first chunk, then waits for `release()`. */
let release: () => void = () => {};

before(async () => {
  runtime = createRuntime({ services });
  origin = await startOrigin((req, res) => {
    if (req.url === "/held") {
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60" });
      res.write("first;");
      release = () => res.end("last");
      return;
    }
    if (req.url === "/missing") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not here");
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60", "content-length": String(`origin ${req.url}`.length), via: "1.1 upstream-proxy", "x-origin": "yes" });
    res.end(`origin ${req.url}`);
  });
  elsewhere = await startOrigin((req, res) => res.end(`elsewhere ${req.url}`));
});
after(async () => {
  await origin.close();
  await elsewhere.close();
  await services.close();
  runtime.dispose();
});

type Fn = { code: string; options?: VersionOptions };

function edgeWith(functions: Partial<Record<keyof FunctionAssociations, string | Fn>>, extra: Parameters<typeof createTestEdge>[1] = {}): TestEdge {
  const edge = createTestEdge(runtime, extra);
  const associations: FunctionAssociations = {};
  for (const [event, f] of Object.entries(functions)) {
    const name = event.replace("-", "");
    const { code, options } = typeof f === "string" ? { code: f, options: undefined } : f;
    associations[event as keyof FunctionAssociations] = { function: name, version: edge.state.addVersion(name, code, options), includeBody: false };
  }
  edge.state.putDistribution(testDistribution({ originUrl: origin.url, functions: associations }));
  return edge;
}

const worker = (body: string) => `export default { async fetch(request, env, ctx) { ${body} } };`;
/** The answer at hand, passed on with a header naming what the handler saw. */
const passOn = worker(`const r = await fetch(request); const out = new Response(r.body, r); out.headers.set("x-saw", request.method + " " + request.url + " " + r.status + " " + r.headers.get("x-origin")); return out;`);

test("origin-response: fetch(request) is the origin's response; what the handler returns is what is cached", async () => {
  const edge = edgeWith({ "origin-response": passOn });
  const before = origin.seen.length;
  const first = await edge.request("/page?a=1");
  assert.equal(first.status, 200);
  assert.equal(await first.text(), "origin /page?a=1");
  assert.equal(first.headers.get("x-saw"), `GET ${origin.url}/page?a=1 200 yes`, "the request as it went to the origin");
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  assert.equal(origin.seen.length, before + 1, "fetch(request) did not go to the origin again");
  assert.deepEqual((await edge.record()).invocations.map((i) => [i.event, i.error]), [["origin-response", undefined]]);

  const second = await edge.request("/page?a=1");
  assert.equal(second.headers.get("x-verge-cache"), "Hit");
  assert.equal(second.headers.get("x-saw"), `GET ${origin.url}/page?a=1 200 yes`, "the handler's response was cached");
  assert.equal(await second.text(), "origin /page?a=1");
  assert.deepEqual((await edge.record()).invocations, [], "origin-response does not run on a hit");
  await edge.close();
});

test("viewer-response: fetch(request.url) is the response about to go to the viewer, on a miss and on a hit", async () => {
  const edge = edgeWith({
    "origin-response": lambda(`cf.response.headers["x-ores"] = [{ value: "1" }]; return cf.response;`),
    "viewer-response": worker(`const r = await fetch(request.url); const out = new Response((await r.text()).toUpperCase(), r); out.headers.set("x-saw", request.url + " ores=" + r.headers.get("x-ores")); return out;`),
  });
  for (const expected of ["Miss", "Hit"]) {
    const res = await edge.request("/v?q=1");
    assert.equal(res.headers.get("x-verge-cache"), expected);
    assert.equal(await res.text(), "ORIGIN /V?Q=1");
    assert.equal(res.headers.get("x-saw"), "http://site.test/v?q=1 ores=1", "the viewer's request; the response after origin-response");
    assert.equal(res.headers.get("content-length"), null, "the original length does not frame the new body");
  }
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["origin-response", "viewer-response"]);
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["viewer-response"]);
  await edge.close();
});

test("the response at hand streams through the handler: its first chunk reaches the viewer before the origin has finished", async () => {
  for (const event of ["origin-response", "viewer-response"] as const) {
    const edge = edgeWith({ [event]: passOn });
    // Were the body buffered, the first chunk would wait for the origin's end: the origin is let go after
    // a while anyway (the test then fails on the order, instead of hanging).
    let released = false;
    const unhang = setTimeout(() => {
      released = true;
      release();
    }, 5_000);
    const res = await edge.request("/held");
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first;", event);
    assert.equal(released, false, `${event}: the first chunk came before the origin ended`);
    clearTimeout(unhang);
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    assert.equal(rest, "last");
    await edge.close();
  }
});

test("a handler that never fetches replaces the response with its own; the original body is let go", async () => {
  const edge = edgeWith({
    "origin-response": worker(`return new Response("made at origin-response", { status: 201, headers: { "cache-control": "max-age=60" } });`),
    "viewer-response": worker(`return new Response("made at viewer-response " + request.url, { status: 201, headers: { "x-v": "1" } });`),
  });
  const res = await edge.request("/own");
  assert.equal(res.status, 201);
  assert.equal(await res.text(), "made at viewer-response http://site.test/own");
  assert.equal(res.headers.get("x-v"), "1");
  assert.equal(res.headers.get("x-origin"), null, "the origin's headers went with its response");
  assert.match(res.headers.get("via") ?? "", /1\.1 upstream-proxy/, "a read-only header left out keeps its value");
  const record = await edge.record();
  assert.deepEqual(record.invocations.map((i) => [i.event, i.error]), [["origin-response", undefined], ["viewer-response", undefined]]);
  await edge.close();
});

test("viewer-response keeps the status; adding or changing a read-only header or adding a disallowed one is a 502", async () => {
  const cases: Array<[string, RegExp]> = [
    [`const r = await fetch(request); return new Response(r.body, { status: 202, headers: r.headers });`, /cannot change the status/],
    [`const r = await fetch(request); const o = new Response(r.body, r); o.headers.set("via", "1.1 evil"); return o;`, /"Via" is read-only at viewer-response and cannot be changed/],
    [`return new Response("x", { headers: { warning: "199 - hi" } });`, /"Warning" is read-only at viewer-response and cannot be added/],
    [`return new Response("x", { headers: { "x-cache": "Hit" } });`, /"X-Cache" is a disallowed header/],
  ];
  for (const [body, problem] of cases) {
    const edge = edgeWith({ "viewer-response": worker(body) });
    const res = await edge.request("/rules");
    assert.equal(res.status, 502, body);
    assert.equal(res.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
    await res.arrayBuffer();
    const record = await edge.record();
    assert.equal(record.invocations[0]!.error, "ERR_INVALID_RESULT");
    assert.match(String((await edge.logLine((l) => l["code"] === "ERR_INVALID_RESULT"))["message"]), problem);
    await edge.close();
  }
  // At origin-response the status may change.
  const edge = edgeWith({ "origin-response": worker(`const r = await fetch(request); return new Response(r.body, { status: 203, headers: r.headers });`) });
  const res = await edge.request("/status-change");
  assert.equal(res.status, 203);
  assert.equal(await res.text(), "origin /status-change");
  await edge.close();
});

test("an exception is a 503; after passThroughOnException the response at hand goes on, unless its body went to the handler", async () => {
  const throws = edgeWith({ "origin-response": worker(`throw new Error("boom");`) });
  const r1 = await throws.request("/t1");
  assert.equal(r1.status, 503);
  assert.equal(r1.headers.get("x-verge-error"), "ERR_FUNCTION_EXCEPTION");
  await r1.arrayBuffer();
  await throws.close();

  const passes = edgeWith({ "viewer-response": worker(`ctx.passThroughOnException(); throw new Error("boom");`) });
  const r2 = await passes.request("/t2");
  assert.equal(r2.status, 200);
  assert.equal(await r2.text(), "origin /t2");
  assert.equal((await passes.record()).invocations[0]!.error, "ERR_FUNCTION_EXCEPTION");
  await passes.close();

  const taken = edgeWith({ "origin-response": worker(`ctx.passThroughOnException(); const r = await fetch(request); await r.body.getReader().read(); throw new Error("boom");`) });
  const r3 = await taken.request("/t3");
  assert.equal(r3.status, 503, "the body went to the function: it cannot go on");
  await r3.arrayBuffer();
  await taken.close();
});

test("a service worker at origin-response and viewer-response answers with respondWith", async () => {
  const sw = (tag: string) => ({
    code: `addEventListener("fetch", (e) => e.respondWith(fetch(e.request).then((r) => { const o = new Response(r.body, r); o.headers.set("x-${tag}", r.status + " " + e.request.url); return o; })));`,
    options: { format: "script" as const },
  });
  const edge = edgeWith({ "origin-response": sw("ores"), "viewer-response": sw("vres") });
  const res = await edge.request("/sw");
  assert.equal(await res.text(), "origin /sw");
  assert.equal(res.headers.get("x-ores"), `200 ${origin.url}/sw`);
  assert.equal(res.headers.get("x-vres"), "200 http://site.test/sw");
  await edge.close();
});

test("fetch() of another URL goes out through the outbound fetch; a second fetch of a streamed response at hand is a TypeError", async () => {
  const edge = edgeWith(
    {
      "origin-response": worker(`
        const other = await (await fetch("${elsewhere.url}/side")).text();
        const r = await fetch(request);
        let second;
        try { await fetch(request); second = "no error"; } catch (e) { second = e.name + ": " + e.message; }
        return new Response(await r.text() + " + " + other + " | " + second, r);`),
    },
    { outbound: services.fetch },
  );
  const res = await edge.request("/twice");
  const text = await res.text();
  assert.match(text, /^origin \/twice \+ elsewhere \/side \| TypeError: .*fetched already/);
  await edge.close();
});

test("a 4xx from the origin goes through origin-response, and not through viewer-response", async () => {
  const edge = edgeWith({ "origin-response": passOn, "viewer-response": worker(`return new Response("never");`) });
  const res = await edge.request("/missing");
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "not here");
  assert.match(res.headers.get("x-saw") ?? "", / 404 null$/);
  assert.deepEqual((await edge.record()).invocations.map((i) => i.event), ["origin-response"]);
  await edge.close();
});

test("the lambda-edge profile caps the body a Workers handler generates at viewer-response (40 KB): 502 ERR_RESPONSE_TOO_LARGE", async () => {
  const edge = edgeWith({ "viewer-response": { code: worker(`return new Response("x".repeat(50 * 1024));`), options: { limits: { profile: "lambda-edge" } } } });
  const res = await edge.request("/big");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_RESPONSE_TOO_LARGE");
  await res.arrayBuffer();
  await edge.close();
});
