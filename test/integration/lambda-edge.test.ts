/**
 * Lambda@Edge handlers through the harness: each of the four events, both
 * return forms (async and callback), CommonJS `exports.handler`, and invalid
 * results mapped to ERR_INVALID_RESULT.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Verge } from "../../src/index.ts";
import { buildCloudFrontEvent, type CloudFrontEvent } from "../../src/shared/cloudfront/index.ts";
import type { CloudFrontEventType } from "../../src/shared/limits.ts";

const instances: Verge[] = [];
after(() => Promise.all(instances.map((v) => v.dispose())));
function verge(script: string, modules = true): Verge {
  const v = new Verge(modules ? { modules: true, script } : { script });
  instances.push(v);
  return v;
}

function eventFor(eventType: CloudFrontEventType): CloudFrontEvent {
  const request = { method: "GET", url: "https://d111.cloudfront.net/path/index.html?a=1&b=2", headers: [["host", "d111.cloudfront.net"], ["user-agent", "test"]] as Array<[string, string]>, body: null };
  const response = { status: 200, statusText: "OK", headers: [["content-type", "text/html"], ["x-origin", "1"]] as Array<[string, string]>, body: null };
  const origin = { custom: { domainName: "example.org", port: 443, protocol: "https", path: "", sslProtocols: ["TLSv1.2"], readTimeout: 30, keepaliveTimeout: 5, customHeaders: {} } };
  return buildCloudFrontEvent({
    eventType,
    request,
    clientIp: "203.0.113.178",
    distribution: { domainName: "d111.cloudfront.net", id: "EDFDVBD6EXAMPLE" },
    ...(eventType.endsWith("response") ? { response } : {}),
    ...(eventType.startsWith("origin") ? { origin } : {}),
  } as Parameters<typeof buildCloudFrontEvent>[0]) as CloudFrontEvent;
}

test("viewer-request: an async handler returns the request changed", async () => {
  const v = verge(`export const handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers["x-added"] = [{ key: "X-Added", value: "yes" }];
    request.uri = "/rewritten" + request.uri;
    return request;
  };`);
  const result = (await v.dispatchEvent("viewer-request", eventFor("viewer-request"))) as { uri: string; headers: Record<string, unknown>; querystring: string };
  assert.equal(result.uri, "/rewritten/path/index.html");
  assert.equal(result.querystring, "a=1&b=2");
  assert.deepEqual(result.headers["x-added"], [{ key: "X-Added", value: "yes" }]);
});

test("viewer-request: the callback form generates a response", async () => {
  const v = verge(`exports.handler = function (event, context, callback) {
    callback(null, { status: "302", statusDescription: "Found", headers: { location: [{ key: "Location", value: "https://example.com/" }] } });
  };`, false);
  const result = (await v.dispatchEvent("viewer-request", eventFor("viewer-request"))) as { status: string; headers: Record<string, Array<{ value: string }>> };
  assert.equal(result.status, "302");
  assert.equal(result.headers.location?.[0]?.value, "https://example.com/");
});

test("origin-request: sees the origin and can switch it", async () => {
  const v = verge(`export const handler = async (event) => {
    const r = event.Records[0].cf.request;
    if (!r.origin || !r.origin.custom) throw new Error("no origin");
    r.origin.custom.domainName = "other.example.org";
    r.headers.host = [{ key: "Host", value: "other.example.org" }];
    return r;
  };`);
  const result = (await v.dispatchEvent("origin-request", eventFor("origin-request"))) as { origin: { custom: { domainName: string } } };
  assert.equal(result.origin.custom.domainName, "other.example.org");
});

test("origin-response: adds a header with the callback form", async () => {
  const v = verge(`exports.handler = (event, context, callback) => {
    const response = event.Records[0].cf.response;
    response.headers["strict-transport-security"] = [{ key: "Strict-Transport-Security", value: "max-age=63072000" }];
    callback(null, response);
  };`, false);
  const result = (await v.dispatchEvent("origin-response", eventFor("origin-response"))) as { status: string; headers: Record<string, Array<{ value: string }>> };
  assert.equal(result.status, "200");
  assert.equal(result.headers["strict-transport-security"]?.[0]?.value, "max-age=63072000");
  assert.equal(result.headers["x-origin"]?.[0]?.value, "1");
});

test("viewer-response: an async handler keeps the status and adds a header", async () => {
  const v = verge(`export const handler = async (event) => {
    const response = event.Records[0].cf.response;
    response.headers["x-frame-options"] = [{ key: "X-Frame-Options", value: "DENY" }];
    return response;
  };`);
  const result = (await v.dispatchEvent("viewer-response", eventFor("viewer-response"))) as { headers: Record<string, Array<{ value: string }>> };
  assert.equal(result.headers["x-frame-options"]?.[0]?.value, "DENY");
});

test("context carries the Lambda fields and the remaining time", async () => {
  const v = verge(`export const handler = async (event, context) => ({
    status: "200", body: JSON.stringify({ rid: typeof context.awsRequestId, left: context.getRemainingTimeInMillis() > 0, mem: context.memoryLimitInMB })
  });`);
  const result = (await v.dispatchEvent("viewer-request", eventFor("viewer-request"))) as { body: string };
  assert.deepEqual(JSON.parse(result.body), { rid: "string", left: true, mem: "128" });
});

for (const [label, eventType, body] of [
  ["a status out of range", "viewer-request", `return { status: "700" };`],
  ["a disallowed header", "viewer-request", `return { status: "200", headers: { "x-cache": [{ key: "X-Cache", value: "Hit" }] } };`],
  ["a read-only header changed", "origin-request", `const r = event.Records[0].cf.request; r.headers["accept-encoding"] = [{ key: "Accept-Encoding", value: "br" }]; return r;`],
  ["viewer-response changing the status", "viewer-response", `const r = event.Records[0].cf.response; r.status = "404"; return r;`],
  ["a non-object result", "viewer-request", `return "hello";`],
  ["headers of the wrong shape", "viewer-request", `return { status: "200", headers: { "x-a": "plain string" } };`],
  ["a generated body over 40 KB at a viewer event", "viewer-request", `return { status: "200", body: "x".repeat(41 * 1024) };`],
] as const) {
  test(`an invalid result (${label}) is ERR_INVALID_RESULT`, async () => {
    const v = verge(`export const handler = async (event) => { ${body} };`);
    await assert.rejects(v.dispatchEvent(eventType, eventFor(eventType)), (e: { code: string; message: string }) => {
      assert.equal(e.code, "ERR_INVALID_RESULT", e.message);
      assert.match(e.message, /Records\[0\]\.cf|expected|found/);
      return true;
    });
  });
}

test("the callback's error argument is an exception (ERR_FUNCTION_EXCEPTION)", async () => {
  const v = verge(`exports.handler = (event, context, callback) => callback(new Error("denied"));`, false);
  await assert.rejects(v.dispatchEvent("viewer-request", eventFor("viewer-request")), (e: { code: string; message: string }) => e.code === "ERR_FUNCTION_EXCEPTION" && /denied/.test(e.message));
});

test("dispatchFetch runs a Lambda@Edge function as viewer-request", async () => {
  const v = verge(`export const handler = async (event) => {
    const r = event.Records[0].cf.request;
    return { status: "200", headers: { "content-type": [{ key: "Content-Type", value: "text/plain" }] }, body: r.method + " " + r.uri + "?" + r.querystring };
  };`);
  const res = await v.dispatchFetch("http://localhost/a/b?c=d", { method: "POST", body: "x" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(await res.text(), "POST /a/b?c=d");
});

test("dispatchEvent refuses an event whose type does not match", async () => {
  const v = verge(`export const handler = async (e) => e.Records[0].cf.request;`);
  await assert.rejects(v.dispatchEvent("origin-request", eventFor("viewer-request")), (e: { code: string }) => e.code === "ERR_INVALID_EVENT");
});

test("a Workers handler at origin-response: fetch(request) is the response at hand; its Response is the result", async () => {
  const v = verge(`export default { async fetch(request) {
    const r = await fetch(request);
    const res = new Response(null, r);
    res.headers.set("x-seen", r.status + " " + r.headers.get("x-origin") + " " + new URL(request.url).pathname);
    return res;
  } };`);
  const result = (await v.dispatchEvent("origin-response", eventFor("origin-response"))) as { status: string; headers: Record<string, Array<{ value: string }>>; body?: string };
  assert.equal(result.status, "200");
  assert.equal(result.headers["x-seen"]?.[0]?.value, "200 1 /path/index.html");
  assert.equal(result.headers["content-type"]?.[0]?.value, "text/html");
  assert.equal(result.body, undefined, "no body of its own: the original body goes on");
});

test("a Workers handler at viewer-response: a body it makes replaces the original; changing the status is invalid", async () => {
  const v = verge(`export default { async fetch(request) {
    const r = await fetch(request);
    return new Response("replaced", { status: r.status, headers: { "content-type": "text/plain" } });
  } };`);
  const result = (await v.dispatchEvent("viewer-response", eventFor("viewer-response"))) as { status: string; body?: string; bodyEncoding?: string };
  assert.equal(result.status, "200");
  assert.equal(result.bodyEncoding === "base64" ? Buffer.from(result.body!, "base64").toString("utf8") : result.body, "replaced");
  const bad = verge(`export default { fetch: () => new Response("no", { status: 404 }) };`);
  await assert.rejects(bad.dispatchEvent("viewer-response", eventFor("viewer-response")), (e: { code: string }) => e.code === "ERR_INVALID_RESULT");
});
