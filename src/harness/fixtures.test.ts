import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Verge } from "./index.ts";
import { cloudFrontEvent, originRequestEvent, originResponseEvent, viewerRequestEvent, viewerResponseEvent } from "./fixtures.ts";

const script = `
export const handler = async (event) => {
  const cf = event.Records[0].cf;
  const type = cf.config.eventType;
  if (type === "viewer-request") {
    if (!cf.request.headers.cookie) return { status: "302", headers: { location: [{ key: "Location", value: "/login?next=" + cf.request.uri }] } };
    return cf.request;
  }
  if (type === "origin-request") {
    cf.request.headers["x-origin-host"] = [{ key: "X-Origin-Host", value: cf.request.origin.custom.domainName + ":" + cf.request.origin.custom.port }];
    cf.request.headers["x-body"] = [{ key: "X-Body", value: cf.request.body ? cf.request.body.data : "none" }];
    return cf.request;
  }
  cf.response.headers["x-seen"] = [{ key: "X-Seen", value: type + " " + cf.response.status + " " + cf.request.uri }];
  return cf.response;
};`;

const verge = new Verge({ modules: true, script });
after(() => verge.dispose());

test("viewer-request: a Lambda@Edge handler tested in three lines", async () => {
  const result = (await verge.dispatchEvent("viewer-request", await viewerRequestEvent("https://example.com/admin?x=1"))) as { status: string; headers: Record<string, Array<{ value: string }>> };
  assert.equal(result.status, "302");
  assert.equal(result.headers["location"]![0]!.value, "/login?next=/admin");
});

test("viewer-request from a Request: method, uri, querystring, headers with host, client IP and distribution", async () => {
  const event = await viewerRequestEvent(new Request("https://shop.example/cart?a=1&b=2", { method: "POST", headers: { cookie: "s=1", "X-Trace": "t" }, body: "hi" }), { clientIp: "198.51.100.7" });
  const cf = event.Records[0].cf;
  assert.equal(cf.config.eventType, "viewer-request");
  assert.equal(cf.config.distributionDomainName, "shop.example");
  assert.equal(cf.request.method, "POST");
  assert.equal(cf.request.uri, "/cart");
  assert.equal(cf.request.querystring, "a=1&b=2");
  assert.equal(cf.request.clientIp, "198.51.100.7");
  assert.deepEqual(cf.request.headers["host"], [{ key: "Host", value: "shop.example" }]);
  assert.equal(cf.request.headers["x-trace"]![0]!.value, "t");
  assert.equal(cf.request.body, undefined, "no body without includeBody");
  const result = (await verge.dispatchEvent("viewer-request", event)) as { uri: string };
  assert.equal(result.uri, "/cart");
});

test("origin-request: the origin from a URL, and the body with includeBody", async () => {
  const event = await originRequestEvent(new Request("https://example.com/upload", { method: "PUT", body: "payload" }), { origin: "http://origin.internal:8080/base", includeBody: true });
  const cf = event.Records[0].cf;
  assert.deepEqual({ ...cf.request.origin.custom, customHeaders: undefined }, { customHeaders: undefined, domainName: "origin.internal", keepaliveTimeout: 5, path: "/base", port: 8080, protocol: "http", readTimeout: 30, sslProtocols: ["TLSv1.2"] });
  assert.equal(cf.request.body?.encoding, "base64");
  assert.equal(Buffer.from(cf.request.body!.data, "base64").toString(), "payload");
  const result = (await verge.dispatchEvent("origin-request", event)) as { headers: Record<string, Array<{ value: string }>> };
  assert.equal(result.headers["x-origin-host"]![0]!.value, "origin.internal:8080");
  const byDefault = await originRequestEvent("https://example.com/a");
  assert.equal(byDefault.Records[0].cf.request.origin.custom?.port, 443);
});

test("origin-response and viewer-response from a Request and a Response", async () => {
  const response = new Response("body", { status: 404, statusText: "Not Found", headers: { "content-type": "text/plain", "set-cookie": "a=1" } });
  for (const build of [originResponseEvent, viewerResponseEvent]) {
    const event = await build("https://example.com/missing", response.clone());
    const cf = event.Records[0].cf;
    assert.equal(cf.response.status, "404");
    assert.equal(cf.response.statusDescription, "Not Found");
    assert.equal(cf.response.headers["content-type"]![0]!.value, "text/plain");
    const result = (await verge.dispatchEvent(cf.config.eventType, event)) as { headers: Record<string, Array<{ value: string }>> };
    assert.equal(result.headers["x-seen"]![0]!.value, `${cf.config.eventType} 404 /missing`);
  }
});

test("cloudFrontEvent refuses what CloudFront would never build", async () => {
  await assert.rejects(cloudFrontEvent("viewer-response", "https://example.com/", undefined), /response: expected the response/);
  await assert.rejects(cloudFrontEvent("viewer-response", "https://example.com/", new Response("x"), { includeBody: true }), /includeBody/);
});
