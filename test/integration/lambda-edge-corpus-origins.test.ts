/**
 * The Lambda@Edge example corpus, second part (see lambda-edge-corpus.test.ts):
 * personalisation by country and device (the CloudFront-Viewer-Country and
 * CloudFront-Is-*-Viewer headers), content-based origin selection (custom ↔
 * S3, another custom origin, the private-address policy for an origin a
 * function chooses), the rule that only origin-request may set the origin,
 * and what an invalid result tells its author.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { originRequestEvent, viewerRequestEvent, type VergeOptions, type LogEntry, type LogSource } from "../../src/index.ts";
import { startOrigin, type TestOrigin } from "../../src/pipeline/testing-edge.ts";
import { fixture, verge, why } from "../helpers/lambda-edge.ts";

function echo(name: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60", "x-host-seen": String(req.headers.host), "x-secret-seen": String(req.headers["x-origin-secret"] ?? "") });
    res.end(`${name} ${req.url}`);
  };
}

async function origin(t: TestContext, name = "origin"): Promise<TestOrigin> {
  const o = await startOrigin(echo(name));
  t.after(() => o.close());
  return o;
}

const COUNTRY_KEY = { headers: { behavior: "allowList" as const, items: ["CloudFront-Viewer-Country"] } };
const DEVICE_KEY = {
  headers: { behavior: "allowList" as const, items: ["CloudFront-Is-Desktop-Viewer", "CloudFront-Is-Mobile-Viewer", "CloudFront-Is-Tablet-Viewer", "CloudFront-Is-SmartTV-Viewer"] },
};

test("country redirect (origin-request): a cached 302 per CloudFront-Viewer-Country in the cache key", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("country-redirect.js"), event: "origin-request", upstream: o.url, distribution: { cacheKey: COUNTRY_KEY } });
  // Locally the test stands in for CloudFront's geolocation: the header it sends is the viewer's country.
  const tw = await v.dispatchFetch("http://example.com/", { headers: { "CloudFront-Viewer-Country": "TW" }, redirect: "manual" });
  assert.equal(tw.status, 302, await why(v, tw));
  assert.equal(tw.headers.get("location"), "https://tw.example.com/");
  const us = await v.dispatchFetch("http://example.com/", { headers: { "CloudFront-Viewer-Country": "US" }, redirect: "manual" });
  assert.equal(us.headers.get("location"), "https://us.example.com/");
  assert.equal(us.headers.get("x-verge-cache"), "Miss", "another country, another cache entry");
  const twAgain = await v.dispatchFetch("http://example.com/", { headers: { "CloudFront-Viewer-Country": "TW" }, redirect: "manual" });
  assert.equal(twAgain.headers.get("x-verge-cache"), "Hit", "a response generated at origin-request is cached");
  assert.equal(twAgain.headers.get("location"), "https://tw.example.com/");
  const unknown = await v.dispatchFetch("http://example.com/", { redirect: "manual" });
  assert.equal(unknown.headers.get("location"), "https://www.example.com/");
  assert.equal(o.seen.length, 0);
});

test("device variants (origin-request): the edge adds the CloudFront-Is-*-Viewer headers its cache key names", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("device-variant.mjs"), event: "origin-request", upstream: o.url, distribution: { cacheKey: DEVICE_KEY } });
  const agents: Array<[string, string]> = [
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "/mobile/home"],
    ["Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/604.1", "/tablet/home"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "/desktop/home"],
    ["Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 TV Safari/537.36", "/smarttv/home"],
  ];
  for (const [agent, path] of agents) {
    const res = await v.dispatchFetch("http://example.com/home", { headers: { "user-agent": agent } });
    assert.equal(res.status, 200, await why(v, res));
    assert.equal(await res.text(), `origin ${path}`, agent);
    assert.equal(res.headers.get("x-verge-cache"), "Miss", "each device type is its own cache entry");
  }
  const again = await v.dispatchFetch("http://example.com/home", { headers: { "user-agent": agents[0]![0] } });
  assert.equal(again.headers.get("x-verge-cache"), "Hit");
  assert.equal(o.seen.length, 4);
  assert.equal(o.seen[0]!.headers["cloudfront-is-mobile-viewer"], "true", "the origin gets the headers too");
  assert.equal(o.seen[0]!.headers["cloudfront-is-desktop-viewer"], "false");
});

test("device headers come after viewer-request: a viewer-request function never sees them", async (t) => {
  const o = await origin(t);
  const v = verge(t, {
    modules: true,
    script: `export const handler = async (event) => {
      const r = event.Records[0].cf.request;
      r.headers["x-saw"] = [{ value: Object.keys(r.headers).filter((n) => n.startsWith("cloudfront-")).join(",") || "none" }];
      return r;
    };`,
    upstream: o.url,
    distribution: { cacheKey: DEVICE_KEY },
  });
  const res = await v.dispatchFetch("http://example.com/x", { headers: { "user-agent": "curl/8.5" } });
  assert.equal(res.status, 200, await why(v, res));
  assert.equal(o.seen[0]!.headers["x-saw"], "none");
  assert.equal(o.seen[0]!.headers["cloudfront-is-desktop-viewer"], "true");
});

test("custom origin → S3 origin (origin-request): the S3 shape is accepted and the request goes to the bucket", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("origin-to-s3.js"), event: "origin-request", upstream: o.url });
  const result = (await v.dispatchEvent("origin-request", await originRequestEvent("https://example.com/img.png?useS3Origin=true"))) as {
    origin: { s3: Record<string, unknown> };
    headers: Record<string, Array<{ value: string }>>;
  };
  assert.deepEqual(result.origin.s3, { domainName: "my-bucket.s3.amazonaws.com", region: "", authMethod: "none", path: "", customHeaders: {} });
  assert.equal(result.headers["host"]![0]!.value, "my-bucket.s3.amazonaws.com");

  const lines: string[] = [];
  v.onLog((entry: LogEntry, from: LogSource) => {
    if (from !== undefined) lines.push(entry.message);
  });
  const res = await v.dispatchFetch("http://example.com/img.png?useS3Origin=true");
  // The bucket's host name does not resolve from a test machine: what matters is where the request went.
  assert.equal(res.status, 502, await why(v, res));
  assert.equal(o.seen.length, 0, "the configured origin was not asked");
  const plain = await v.dispatchFetch("http://example.com/img.png");
  assert.equal(await plain.text(), "origin /img.png");
  assert.ok(lines.some((l) => l.includes("my-bucket.s3.amazonaws.com")), lines.join("\n"));
});

test("S3 origin → custom origin at dispatchEvent: an event with an S3 origin, a custom one returned", async (t) => {
  const v = verge(t, { scriptPath: fixture("origin-to-custom.js"), bindings: { ALT_HOST: "www.example.com", ALT_PORT: "443" } });
  const s3 = { s3: { domainName: "my-bucket.s3.amazonaws.com", region: "eu-west-1", authMethod: "origin-access-identity" as const, path: "", customHeaders: {} } };
  const event = await originRequestEvent("https://d111.example.net/a?useCustomOrigin=true", { origin: s3 });
  const result = (await v.dispatchEvent("origin-request", event)) as { origin: { custom: Record<string, unknown> } };
  assert.equal(result.origin.custom["domainName"], "www.example.com");
  assert.equal(result.origin.custom["path"], "/alt");
});

test("another custom origin (origin-request): the request reaches it, with its path, custom header and Host", async (t) => {
  const main = await origin(t, "main");
  const alt = await origin(t, "alt");
  const v = verge(t, {
    scriptPath: fixture("origin-to-custom.js"),
    event: "origin-request",
    upstream: main.url,
    bindings: { ALT_HOST: "localhost", ALT_PORT: String(alt.port) },
    // The function reads the query: it is in the cache key, or the first answer would serve both URLs.
    distribution: { cacheKey: { queryStrings: { behavior: "all", items: [] } } },
    // The configured host, but another port: a choice of the function, allowed here by name.
    outbound: { allowHosts: ["localhost"] },
  });
  const res = await v.dispatchFetch("http://example.com/page?useCustomOrigin=true");
  assert.equal(res.status, 200, await why(v, res));
  assert.equal(await res.text(), "alt /alt/page?useCustomOrigin=true");
  assert.equal(res.headers.get("x-host-seen"), `localhost:${alt.port}`);
  assert.equal(res.headers.get("x-secret-seen"), "from-the-function");
  assert.equal(main.seen.length, 0);
  const plain = await v.dispatchFetch("http://example.com/page");
  assert.equal(await plain.text(), "main /page");
});

test("an origin a function chooses is held to the private-address policy; the harness's outbound option allows it", async (t) => {
  const main = await origin(t, "main");
  const alt = await origin(t, "alt");
  // Configured by address: a function that names another host ("localhost", a loopback address) chose a new origin.
  const upstream = `http://127.0.0.1:${main.port}`;
  const bindings = { ALT_HOST: "localhost", ALT_PORT: String(alt.port) };
  const guarded = verge(t, { scriptPath: fixture("origin-to-custom.js"), event: "origin-request", upstream, bindings });
  const refused = await guarded.dispatchFetch("http://example.com/p?useCustomOrigin=true");
  assert.equal(refused.status, 502);
  assert.equal(refused.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
  assert.equal(alt.seen.length, 0);

  const allowed = verge(t, { scriptPath: fixture("origin-to-custom.js"), event: "origin-request", upstream, bindings, outbound: { allowPrivateAddresses: true } });
  const res = await allowed.dispatchFetch("http://example.com/p?useCustomOrigin=true");
  assert.equal(await res.text(), "alt /alt/p?useCustomOrigin=true", await why(allowed, res));

  // An IPv4 address is never a domainName a function may set (CloudFront's rule), allowed or not,
  // unless it is the one the event carried (an origin the operator configured by address).
  const literal = verge(t, { scriptPath: fixture("origin-to-custom.js"), event: "origin-request", upstream: main.url, bindings: { ALT_HOST: "127.0.0.1", ALT_PORT: String(alt.port) }, outbound: { allowPrivateAddresses: true } });
  const bad = await literal.dispatchFetch("http://example.com/p?useCustomOrigin=true");
  assert.equal(bad.status, 502);
  assert.equal(bad.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  assert.match(String((await literal.reportOf(bad))?.error?.message), /origin\.custom\.domainName.*not an IPv4 address.*"127\.0\.0\.1"/);
});

test("origin by country (origin-request): only the domain name changes; other viewers keep the origin", async (t) => {
  const o = await origin(t);
  // Configured by address; "localhost" names the same server (same port), so the Host it gets tells which name was used.
  const upstream = `http://127.0.0.1:${o.port}`;
  const options: VergeOptions = { scriptPath: fixture("origin-by-country.js"), event: "origin-request", upstream, bindings: { EU_ORIGIN_HOST: "localhost" }, distribution: { cacheKey: COUNTRY_KEY } };
  const v = verge(t, { ...options, outbound: { allowPrivateAddresses: true } });
  const de = await v.dispatchFetch("http://example.com/news", { headers: { "CloudFront-Viewer-Country": "DE" } });
  assert.equal(de.status, 200, await why(v, de));
  assert.equal(de.headers.get("x-host-seen"), "localhost");
  const us = await v.dispatchFetch("http://example.com/news", { headers: { "CloudFront-Viewer-Country": "US" } });
  assert.equal(us.headers.get("x-host-seen"), `127.0.0.1:${o.port}`);
  assert.equal(us.headers.get("x-verge-cache"), "Miss", "the country is in the cache key");

  // Without the operator's leave, the new name resolving to a loopback address is refused.
  const guarded = verge(t, options);
  const refused = await guarded.dispatchFetch("http://example.com/news", { headers: { "CloudFront-Viewer-Country": "DE" } });
  assert.equal(refused.status, 502);
  assert.equal(refused.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
});

test("the origin can be set only at origin-request: a viewer-request result with one is a 502, and says why", async (t) => {
  const v = verge(t, {
    modules: true,
    script: `export const handler = async (event) => { const r = event.Records[0].cf.request; r.origin = { custom: { domainName: "eu.example.com" } }; return r; };`,
  });
  await assert.rejects(v.dispatchEvent("viewer-request", await viewerRequestEvent("https://example.com/")), (e: { code: string; message: string }) => {
    assert.equal(e.code, "ERR_INVALID_RESULT");
    assert.match(e.message, /Records\[0\]\.cf\.request\.origin: the origin can only be set at origin-request; expected nothing at viewer-request, found/);
    return true;
  });
});

test("an invalid result names each field, what was expected and what was found, all at once", async (t) => {
  const o = await origin(t);
  const v = verge(t, {
    modules: true,
    script: `export const handler = async () => ({
      status: "2OO",
      headers: { "Content-Type": [{ value: "text/plain" }], "x-n": [{ key: "X-N", value: 5 }], "x-cache": [{ value: "Hit" }] },
      body: "not base64!", bodyEncoding: "base64",
    });`,
    upstream: o.url,
  });
  const res = await v.dispatchFetch("http://example.com/");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  const message = String((await v.reportOf(res))?.error?.message);
  for (const expected of [
    /Records\[0\]\.cf\.response\.status: expected an integer from 200 to 599 .*found the string "2OO"/,
    /Records\[0\]\.cf\.response\.headers\["Content-Type"\]: expected a lowercase header name \(use "content-type"\)/,
    /Records\[0\]\.cf\.response\.headers\["x-n"\]\[0\]\.value: expected a string, found the number 5/,
    /Records\[0\]\.cf\.response\.headers\["x-cache"\]: "X-Cache" is a disallowed header at viewer-request/,
    /Records\[0\]\.cf\.response\.body: expected valid base64 because bodyEncoding is "base64"/,
  ]) assert.match(message, expected);
});
