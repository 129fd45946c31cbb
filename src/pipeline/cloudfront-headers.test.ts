import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import type { CacheKeyPolicy } from "../shared/protocol.ts";
import { deviceOf, dropViewerCloudFrontHeaders, isCloudFrontViewerHeader, withCloudFrontHeaders } from "./cloudfront-headers.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, lambda, startOrigin, type TestOrigin } from "./testing-edge.ts";

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const ANDROID_PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";

function policy(items: string[]): CacheKeyPolicy {
  return { queryStrings: { behavior: "none", items: [] }, headers: { behavior: "allowList", items }, cookies: { behavior: "none", items: [] } };
}

test("CloudFront's viewer headers are told from others", () => {
  for (const name of ["cloudfront-viewer-country", "cloudfront-viewer-address", "cloudfront-is-mobile-viewer", "cloudfront-is-smarttv-viewer", "cloudfront-forwarded-proto"]) assert.ok(isCloudFrontViewerHeader(name), name);
  for (const name of ["cloudfront-policy", "x-cloudfront-viewer-country", "cloudfront-is-viewer", "user-agent"]) assert.ok(!isCloudFrontViewerHeader(name), name);
  const list: Array<[string, string]> = [["host", "a"], ["cloudfront-viewer-country", "US"], ["cloudfront-is-desktop-viewer", "true"]];
  assert.deepEqual(dropViewerCloudFrontHeaders(list), [["host", "a"]]);
  const clean: Array<[string, string]> = [["host", "a"]];
  assert.equal(dropViewerCloudFrontHeaders(clean), clean, "the same list when there is nothing to drop");
});

test("device types by User-Agent; none is a desktop", () => {
  assert.deepEqual(deviceOf(IPHONE), { desktop: false, mobile: true, tablet: false, smarttv: false, android: false, ios: true });
  assert.deepEqual(deviceOf(ANDROID_TABLET), { desktop: false, mobile: false, tablet: true, smarttv: false, android: true, ios: false });
  assert.deepEqual(deviceOf(ANDROID_PHONE), { desktop: false, mobile: true, tablet: false, smarttv: false, android: true, ios: false });
  assert.equal(deviceOf("Roku/DVP-9.10 (519.10E04111A)").smarttv, true);
  assert.equal(deviceOf("").desktop, true);
});

test("only the headers the cache key names are added, and never over a line the request has", () => {
  const list: Array<[string, string]> = [["user-agent", IPHONE]];
  assert.equal(withCloudFrontHeaders(list, policy(["accept-language"]), "https"), list);
  assert.deepEqual(withCloudFrontHeaders(list, policy(["CloudFront-Is-Mobile-Viewer", "CloudFront-Is-Desktop-Viewer", "CloudFront-Forwarded-Proto", "CloudFront-Viewer-Country"]), "https"), [
    ["user-agent", IPHONE],
    ["cloudfront-is-mobile-viewer", "true"],
    ["cloudfront-is-desktop-viewer", "false"],
    ["cloudfront-forwarded-proto", "https"],
  ]);
  const kept: Array<[string, string]> = [["cloudfront-is-mobile-viewer", "false"]];
  assert.deepEqual(withCloudFrontHeaders(kept, policy(["CloudFront-Is-Mobile-Viewer"]), "http"), kept);
});

let runtime: Runtime;
let origin: TestOrigin;
before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((req, res) => res.writeHead(200, { "cache-control": "max-age=60" }).end(`${req.headers["cloudfront-viewer-country"] ?? "-"} ${req.headers["cloudfront-is-mobile-viewer"] ?? "-"}`));
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

test("an edge node drops a viewer's own CloudFront headers: no viewer poses as another country or device", async () => {
  const edge = createTestEdge(runtime);
  const code = lambda(`cf.request.headers["x-country-seen"] = [{ value: cf.request.headers["cloudfront-viewer-country"]?.[0]?.value ?? "none" }]; return cf.request;`);
  const digest = edge.state.addVersion("geo", code);
  const distribution = testDistribution({ originUrl: origin.url, functions: { "origin-request": { function: "geo", version: digest, includeBody: false } } });
  distribution.defaultBehavior.cacheKey = policy(["CloudFront-Viewer-Country", "CloudFront-Is-Mobile-Viewer"]);
  edge.state.putDistribution(distribution);
  const res = await edge.request("/a", { headers: { "CloudFront-Viewer-Country": "KP", "CloudFront-Is-Mobile-Viewer": "false", "user-agent": IPHONE } });
  assert.equal(await res.text(), "- true", "the country is not known at the edge; the device is the edge's finding");
  assert.equal(origin.seen.at(-1)!.headers["x-country-seen"], "none");
  await edge.close();

  // Locally (the harness) the request's own lines stand for CloudFront's findings.
  const local = createTestEdge(runtime, { keepViewerCloudFrontHeaders: true });
  local.state.addVersion("geo", code);
  local.state.putDistribution(distribution);
  const kept = await local.request("/b", { headers: { "CloudFront-Viewer-Country": "PT", "user-agent": IPHONE } });
  assert.equal(await kept.text(), "PT true");
  await local.close();
});
