/**
 * A Lambda@Edge user's functions, run as the user runs them: the examples AWS
 * documents ("Lambda@Edge example functions": A/B testing, header overrides,
 * generated and redirect responses, query strings, sign-in redirects, country
 * and device personalisation, dynamic origins, error statuses, request bodies,
 * security headers), each written afresh in test/fixtures/lambda-edge/, through
 * `new Verge({ upstream })` over a real origin on port 0 (and `dispatchEvent`
 * where an event is the clearer test). Each test asserts what AWS documents:
 * status, headers, body, what reaches the origin, what is cached, which events
 * run.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";
import { originRequestEvent, viewerRequestEvent } from "../../src/index.ts";
import { startOrigin, type TestOrigin } from "../../src/pipeline/testing-edge.ts";
import { fixture, verge, why } from "../helpers/lambda-edge.ts";

/** The origin most tests use: 404 under /missing, 503 under /broken, else 200 with what it saw. */
function defaultOrigin(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  const status = url.startsWith("/missing") ? 404 : url.startsWith("/broken") ? 503 : 200;
  res.writeHead(status, {
    "content-type": "text/plain",
    "cache-control": "max-age=60",
    "x-amz-meta-last-modified": "Tue, 01 Oct 2024 10:00:00 GMT",
    "x-seen-auth": String(req.headers["auth-header"] ?? ""),
  });
  res.end(`origin ${url}`);
}

async function origin(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = defaultOrigin): Promise<TestOrigin> {
  const o = await startOrigin(handler);
  t.after(() => o.close());
  return o;
}

test("A/B testing (viewer-request, callback): the cookie picks the object, the URL stays", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("ab-testing.js"), upstream: o.url });
  const b = await v.dispatchFetch("http://shop.example/experiment-pixel.jpg", { headers: { cookie: "theme=dark; X-Experiment-Name=B" } });
  assert.equal(b.status, 200, await why(v, b));
  assert.equal(await b.text(), "origin /experiment-group/treatment-pixel.jpg");
  assert.deepEqual((await v.reportOf(b))!.logs.map((l) => l.message), ["experiment group B"]);

  const dice = await v.dispatchFetch("http://shop.example/experiment-pixel.jpg");
  assert.match(await dice.text(), /^origin \/experiment-group\/(control|treatment)-pixel\.jpg$/);
  const other = await v.dispatchFetch("http://shop.example/logo.png");
  assert.equal(await other.text(), "origin /logo.png");

  // Two Cookie lines are two entries of headers.cookie, each unparsed.
  const event = await viewerRequestEvent(new Request("https://shop.example/experiment-pixel.jpg"));
  event.Records[0].cf.request.headers["cookie"] = [
    { key: "Cookie", value: "First=1; Second=2" },
    { key: "Cookie", value: "X-Experiment-Name=A" },
  ];
  const result = (await v.dispatchEvent("viewer-request", event)) as { uri: string };
  assert.equal(result.uri, "/experiment-group/control-pixel.jpg");
});

test("overriding a response header (origin-response): the stored copy carries it", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("override-response-header.js"), event: "origin-response", upstream: o.url });
  const first = await v.dispatchFetch("http://shop.example/doc.pdf");
  assert.equal(first.headers.get("last-modified"), "Tue, 01 Oct 2024 10:00:00 GMT", await why(v, first));
  const hit = await v.dispatchFetch("http://shop.example/doc.pdf");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit");
  assert.equal(hit.headers.get("last-modified"), "Tue, 01 Oct 2024 10:00:00 GMT");
  assert.equal(v.reportOf(hit), undefined, "origin-response does not run on a hit");
});

test("static content (viewer-request): generated, never cached, the origin never asked", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("static-content.mjs"), upstream: o.url });
  for (let i = 0; i < 2; i++) {
    const res = await v.dispatchFetch("http://site.example/index.html");
    assert.equal(res.status, 200, await why(v, res));
    assert.equal(res.statusText, "OK");
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "max-age=100");
    assert.equal(res.headers.get("x-verge-cache"), null, "a viewer-request answer never touches the cache");
    assert.match(await res.text(), /<p>Hello from the edge!<\/p>/);
    assert.ok(v.reportOf(res), "the function ran for each request");
  }
  assert.equal(o.seen.length, 0);
});

test("static content gzip-compressed (origin-request, bodyEncoding base64): bytes as given, cached", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("static-gzip.mjs"), event: "origin-request", upstream: o.url });
  const first = await v.dispatchFetch("http://site.example/");
  assert.equal(first.status, 200, await why(v, first));
  assert.equal(first.headers.get("content-encoding"), "gzip");
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  const bytes = Buffer.from(await first.arrayBuffer());
  assert.equal(Number(first.headers.get("content-length") ?? bytes.byteLength), bytes.byteLength);
  assert.match(gunzipSync(bytes).toString("utf8"), /^<!DOCTYPE html>.*compressed at the edge/);
  const hit = await v.dispatchFetch("http://site.example/");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit", "a response generated at origin-request is cached");
  assert.deepEqual(Buffer.from(await hit.arrayBuffer()), bytes);
  assert.equal(o.seen.length, 0);
});

test("redirects (viewer-request): 301 for moved pages, 302 for the home page, the rest goes on", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("redirects.js"), upstream: o.url });
  const moved = await v.dispatchFetch("http://www.example.com/old-pricing", { redirect: "manual" });
  assert.equal(moved.status, 301, await why(v, moved));
  assert.equal(moved.statusText, "Moved Permanently");
  assert.equal(moved.headers.get("location"), "https://www.example.com/pricing");
  const home = await v.dispatchFetch("http://www.example.com/", { redirect: "manual" });
  assert.equal(home.status, 302);
  assert.equal(home.statusText, "Found");
  assert.equal(home.headers.get("location"), "https://docs.example.com/start");
  const page = await v.dispatchFetch("http://www.example.com/pricing");
  assert.equal(await page.text(), "origin /pricing");
  assert.equal(o.seen.length, 1);
});

test("a query string parameter becomes a header (viewer-request): the origin gets both changes", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("query-to-header.mjs"), upstream: o.url, distribution: { cacheKey: { queryStrings: { behavior: "all", items: [] } } } });
  const res = await v.dispatchFetch("http://api.example/items?auth=s3cret&page=2");
  assert.equal(res.status, 200, await why(v, res));
  assert.equal(await res.text(), "origin /items?page=2");
  assert.equal(res.headers.get("x-seen-auth"), "s3cret");
  assert.equal(o.seen[0]!.headers["auth-header"], "s3cret");
});

test("normalised query strings (viewer-request): spellings of one query share one cache entry", async (t) => {
  const o = await origin(t);
  const v = verge(t, {
    scriptPath: fixture("normalize-query.mjs"),
    upstream: o.url,
    distribution: { cacheKey: { queryStrings: { behavior: "allowList", items: ["size", "color"] } } },
  });
  const first = await v.dispatchFetch("http://shop.example/shirt?Size=LARGE&color=Red");
  assert.equal(first.status, 200, await why(v, first));
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  assert.equal(await first.text(), "origin /shirt?color=red&size=large", "the origin gets the normalised query");
  for (const spelling of ["color=red&size=large", "SIZE=Large&COLOR=RED", "size=large&Color=red"]) {
    const again = await v.dispatchFetch(`http://shop.example/shirt?${spelling}`);
    assert.equal(again.headers.get("x-verge-cache"), "Hit", spelling);
  }
  const other = await v.dispatchFetch("http://shop.example/shirt?size=small&color=red");
  assert.equal(other.headers.get("x-verge-cache"), "Miss");
  assert.deepEqual(o.seen.map((s) => s.url), ["/shirt?color=red&size=large", "/shirt?color=red&size=small"]);
});

test("sign-in redirect (viewer-request): no session cookie, a 302 that comes back to the page", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("signin-redirect.js"), upstream: o.url });
  const out = await v.dispatchFetch("http://app.example/orders?year=2024", { redirect: "manual" });
  assert.equal(out.status, 302, await why(v, out));
  assert.equal(out.headers.get("location"), `https://login.example.com/signin?redirect_url=${encodeURIComponent("https://app.example/orders?year=2024")}`);
  assert.equal(out.headers.get("cache-control"), "no-store");
  const signedIn = await v.dispatchFetch("http://app.example/orders?year=2024", { headers: { cookie: "lang=en; session-id=abc123" } });
  // verge forwards the whole query whatever the cache key (see README, "Lambda@Edge: where verge differs").
  assert.equal(await signedIn.text(), "origin /orders?year=2024");
  assert.equal(o.seen.length, 1);
});

test("updating an error status to 200 (origin-response): the soft page is what the viewer and the cache get", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("error-to-200.js"), event: "origin-response", upstream: o.url });
  const res = await v.dispatchFetch("http://site.example/missing/page");
  assert.equal(res.status, 200, await why(v, res));
  assert.equal(res.statusText, "OK");
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(await res.text(), "Sorry, that page is resting. Here is a friendly one instead.");
  const ok = await v.dispatchFetch("http://site.example/fine");
  assert.equal(await ok.text(), "origin /fine");
  const again = await v.dispatchFetch("http://site.example/missing/page");
  assert.equal(again.headers.get("x-verge-cache"), "Hit", "the origin said max-age=60: the replaced answer is stored");
  assert.equal(await again.text(), "Sorry, that page is resting. Here is a friendly one instead.");
});

test("updating an error status to 302 (origin-response): a redirect with an empty body, the query kept", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("error-to-302.mjs"), event: "origin-response", upstream: o.url, distribution: { cacheKey: { queryStrings: { behavior: "all", items: [] } } } });
  const res = await v.dispatchFetch("http://site.example/broken/report?id=7", { redirect: "manual" });
  assert.equal(res.status, 302, await why(v, res));
  assert.equal(res.statusText, "Found");
  assert.equal(res.headers.get("location"), "/plan-b/broken/report?id=7");
  assert.equal(await res.text(), "");
});

test("reading a form POST at viewer-request (include-body): base64, read-only, answered at the edge", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("form-body.mjs"), upstream: o.url, distribution: { includeBody: true } });
  const res = await v.dispatchFetch("http://forms.example/contact", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "name=Ana+Lima&msg=ol%C3%A1%20%26%20bye",
  });
  assert.equal(res.status, 200, await why(v, res));
  assert.deepEqual(await res.json(), { encoding: "base64", action: "read-only", form: { name: "Ana Lima", msg: "olá & bye" } });

  // Over the viewer-request quota (40 KB in the Lambda@Edge profile): inputTruncated.
  const strict = verge(t, { scriptPath: fixture("form-body.mjs"), upstream: o.url, distribution: { includeBody: true }, limits: { profile: "lambda-edge" } });
  const big = await strict.dispatchFetch("http://forms.example/contact", { method: "POST", body: `a=${"x".repeat(50 * 1024)}` });
  assert.equal(big.status, 413, await why(strict, big));
  assert.equal(big.statusText, "Payload Too Large");
  assert.equal(o.seen.length, 0);
});

test("replacing the request body at origin-request (include-body, action replace, text)", async (t) => {
  const o = await origin(t, (req, res, body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ length: req.headers["content-length"] ?? null, body })));
  const v = verge(t, { scriptPath: fixture("redact-body.js"), event: "origin-request", upstream: o.url, distribution: { includeBody: true } });
  const res = await v.dispatchFetch("http://pay.example/checkout", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ card: "4111111111111111", amount: 12 }) });
  assert.equal(res.status, 200, await why(v, res));
  const seen = (await res.json()) as { length: string | null; body: string };
  assert.deepEqual(JSON.parse(seen.body), { card: "************1111", amount: 12 });
  assert.equal(seen.length, String(Buffer.byteLength(seen.body)), "the origin gets the new body's own length");
});

test("security headers at viewer-response: on misses and hits, not on error statuses, status unchanged", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("security-headers.mjs"), event: "viewer-response", upstream: o.url });
  const miss = await v.dispatchFetch("http://site.example/a");
  assert.equal(miss.headers.get("strict-transport-security"), "max-age=63072000; includeSubDomains; preload", await why(v, miss));
  assert.equal(miss.headers.get("x-frame-options"), "DENY");
  assert.equal(miss.headers.get("server"), "edge");
  const hit = await v.dispatchFetch("http://site.example/a");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit");
  assert.equal(hit.headers.get("content-security-policy"), "default-src 'self'; object-src 'none'");
  assert.ok(v.reportOf(hit), "viewer-response runs on hits too");
  const missing = await v.dispatchFetch("http://site.example/missing");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("x-frame-options"), null, "viewer-response does not run on a status of 400 or more");
  assert.equal(v.reportOf(missing), undefined);
});

test("context and cf.config as AWS documents them (callback form)", async (t) => {
  const o = await origin(t);
  const v = verge(t, { scriptPath: fixture("context-info.js"), upstream: o.url, distribution: { hostnames: ["d111111abcdef8.example.net", "www.example.com"] } });
  const res = await v.dispatchFetch("http://www.example.com/whoami", { headers: { "user-agent": "curl/8", "x-forwarded-proto": "https", "x-amz-cf-id": "forged" } });
  assert.equal(res.status, 200, await why(v, res));
  const seen = (await res.json()) as Record<string, unknown> & { config: Record<string, string>; headers: string[] };
  assert.equal(seen.config.eventType, "viewer-request");
  assert.equal(seen.config.distributionDomainName, "d111111abcdef8.example.net", "the distribution's first host name");
  assert.equal(typeof seen.config.distributionId, "string");
  assert.equal(seen.config.requestId, res.headers.get("x-verge-request-id"), "the request id is the one the viewer sees");
  assert.equal(seen.awsRequestId, seen.config.requestId);
  assert.equal(seen.clientIp, "127.0.0.1");
  assert.equal(seen.memoryLimitInMB, "128");
  assert.ok(typeof seen.remaining === "number" && seen.remaining > 0);
  assert.equal(seen.functionName, "context-info", "the script's file name, as no name was given");
  assert.match(String(seen.functionVersion), /^[0-9a-f]{64}$/, "the bundle's digest");
  assert.equal(seen.invokedFunctionArn, `arn:verge:lambda:local:local:function:context-info:${seen.functionVersion}`);
  assert.equal(seen.logGroupName, "/verge/lambda/local/context-info");
  assert.deepEqual(seen.headers.sort(), ["host", "user-agent"], "hidden headers (X-Forwarded-Proto, X-Amz-Cf-*) are never shown");
});
