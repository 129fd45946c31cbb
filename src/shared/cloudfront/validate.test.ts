import { test } from "node:test";
import assert from "node:assert/strict";
import { buildCloudFrontEvent } from "./event.ts";
import type { CloudFrontEvent, CloudFrontEventType } from "./types.ts";
import { assertLambdaResult, validateLambdaResult, type ValidateLambdaResultOptions } from "./validate.ts";

const custom = { customHeaders: {}, domainName: "example.org", keepaliveTimeout: 5, path: "", port: 443, protocol: "https" as const, readTimeout: 30, sslProtocols: ["TLSv1.2"] };

function eventFor(eventType: CloudFrontEventType, opts: { includeBody?: boolean; status?: number } = {}): CloudFrontEvent {
  const isRequest = eventType === "viewer-request" || eventType === "origin-request";
  return buildCloudFrontEvent({
    eventType,
    request: { method: "POST", url: "https://example.com/a?b=1", headers: [["host", "example.com"], ["content-type", "text/plain"]], body: new TextEncoder().encode("hi") },
    response: isRequest ? undefined : { status: opts.status ?? 200, statusText: "OK", headers: [["server", "origin"]], body: null },
    clientIp: "203.0.113.9",
    distribution: { domainName: "d.cloudfront.net", id: "E1" },
    origin: { custom },
    includeBody: opts.includeBody,
  });
}

const unlimited: ValidateLambdaResultOptions = { responseBytes: null };
const run = (eventType: CloudFrontEventType, result: unknown, options = unlimited, event = eventFor(eventType)) =>
  validateLambdaResult(eventType, event, result, options);
const requestOf = (event: CloudFrontEvent) => structuredClone(event.Records[0].cf.request) as unknown as Record<string, unknown>;

function problems(result: ReturnType<typeof validateLambdaResult>): string[] {
  assert.equal(result.ok, false, "expected the result to be rejected");
  return result.ok ? [] : result.problems;
}

test("request events: a request continues, an object with a status answers", () => {
  for (const eventType of ["viewer-request", "origin-request"] as const) {
    const event = eventFor(eventType);
    const continued = run(eventType, requestOf(event), unlimited, event);
    assert.equal(continued.ok && continued.kind, "request");
    if (continued.ok && continued.kind === "request") assert.deepEqual(continued.value, event.Records[0].cf.request);
    const answered = run(eventType, { status: "302", headers: { location: [{ key: "Location", value: "/x" }] } });
    assert.equal(answered.ok && answered.kind, "response");
  }
});

test("response events: only a response; a request object lacks a status", () => {
  for (const eventType of ["origin-response", "viewer-response"] as const) {
    const event = eventFor(eventType);
    assert.equal(run(eventType, structuredClone(event.Records[0].cf.response), unlimited, event).ok, true);
    assert.deepEqual(problems(run(eventType, requestOf(event), unlimited, event)), [
      `Records[0].cf.response.status: expected an integer from 200 to 599 (a string such as "200", or a number), found nothing`,
    ]);
  }
});

test("a result that is not an object is named for what the event expects", () => {
  assert.deepEqual(problems(run("viewer-request", undefined)), [
    "Records[0].cf: expected the request object (to continue) or a response object with a status (to answer), found nothing",
  ]);
  assert.deepEqual(problems(run("origin-response", "ok")), ['Records[0].cf.response: expected a response object with a status, found the string "ok"']);
  assert.deepEqual(problems(run("viewer-response", [])), ["Records[0].cf.response: expected a response object with a status, found an array of 0 elements"]);
});

test("status: integers 200-599 as a number or a string of digits", () => {
  for (const status of [200, "200", 204, "301", 404, "599", 599]) {
    const result = run("origin-request", { status });
    assert.equal(result.ok, true, `status ${JSON.stringify(status)}`);
    if (result.ok && result.kind === "response") assert.equal(result.value.status, String(status), "normalised to a string");
  }
  for (const status of [199, "199", 600, "600", 100, 0, -200, 200.5, "200.0", " 200", "2e2", "abc", null, true, Number.NaN]) {
    const [problem] = problems(run("origin-request", { status }));
    assert.match(problem!, /^Records\[0\]\.cf\.response\.status: expected an integer from 200 to 599 \(a string such as "200", or a number\), found /, String(status));
  }
});

test("viewer-response may not change the status; origin-response may", () => {
  const vr = eventFor("viewer-response", { status: 200 });
  assert.equal(run("viewer-response", { status: 200 }, unlimited, vr).ok, true);
  assert.equal(run("viewer-response", { status: "200" }, unlimited, vr).ok, true);
  assert.deepEqual(problems(run("viewer-response", { status: "201" }, unlimited, vr)), [
    'Records[0].cf.response.status: a viewer-response function cannot change the status; expected "200" (unchanged), found the string "201"',
  ]);
  const or = eventFor("origin-response", { status: 404 });
  const changed = run("origin-response", { status: 200, body: "custom page" }, unlimited, or);
  assert.equal(changed.ok, true);
  if (changed.ok && changed.kind === "response") {
    assert.equal(changed.value.statusDescription, "", "a changed status does not keep the old description");
    assert.equal(changed.value.bodyEncoding, "text");
  }
  const kept = run("origin-response", { status: "404" }, unlimited, or);
  assert.equal(kept.ok && kept.kind === "response" && kept.value.statusDescription, "OK");
});

test("generated response size: headers and body against responseBytes; base64 counts decoded bytes", () => {
  const header = { "content-type": [{ key: "Content-Type", value: "text/plain" }] }; // "Content-Type: text/plain\r\n" = 26 bytes
  const limit = { responseBytes: 26 + 100 };
  assert.equal(run("viewer-request", { status: 200, headers: header, body: "x".repeat(100) }, limit).ok, true, "exactly at the limit");
  assert.deepEqual(problems(run("viewer-request", { status: 200, headers: header, body: "x".repeat(101) }, limit)), [
    "Records[0].cf.response: expected a generated response (headers and body) of at most 126 bytes at viewer-request, found 127 bytes",
  ]);
  const b64 = Buffer.alloc(100).toString("base64"); // 136 characters, 100 bytes
  assert.equal(run("viewer-request", { status: 200, headers: header, body: b64, bodyEncoding: "base64" }, limit).ok, true);
  assert.equal(run("viewer-request", { status: 200, headers: header, body: "é".repeat(50) }, limit).ok, true, "100 UTF-8 bytes");
  assert.equal(run("viewer-request", { status: 200, headers: header, body: "é".repeat(51) }, limit).ok, false);
  assert.equal(run("origin-request", { status: 200, body: "x".repeat(10_000_000) }, { responseBytes: null }).ok, true, "null: no limit");
  assert.equal(run("origin-response", { status: 200, body: "x".repeat(41) }, { responseBytes: 40 }).ok, false, "applies at response events too");
});

test("generated body: bodyEncoding must be text or base64, base64 must be valid, 204 has no body at viewer-request", () => {
  assert.deepEqual(problems(run("viewer-request", { status: 200, body: "abc", bodyEncoding: "utf8" })), [
    'Records[0].cf.response.bodyEncoding: expected "text" or "base64", found the string "utf8"',
  ]);
  assert.deepEqual(problems(run("viewer-request", { status: 200, body: "not base64!", bodyEncoding: "base64" })), [
    'Records[0].cf.response.body: expected valid base64 because bodyEncoding is "base64", found "not base64!"',
  ]);
  assert.deepEqual(problems(run("viewer-request", { status: 200, body: 42 })), ["Records[0].cf.response.body: expected a string, found the number 42"]);
  assert.deepEqual(problems(run("viewer-request", { status: 204, body: "" })), [
    'Records[0].cf.response.body: a 204 (No Content) response cannot have a body; expected nothing, found the string ""',
  ]);
  assert.equal(run("viewer-request", { status: 204 }).ok, true);
  assert.deepEqual(problems(run("viewer-request", { status: 200, statusDescription: 5 })), [
    "Records[0].cf.response.statusDescription: expected a string, found the number 5",
  ]);
});

test("request fields: uri, querystring, method", () => {
  const event = eventFor("viewer-request");
  const edit = (patch: Record<string, unknown>) => problems(run("viewer-request", { ...requestOf(event), ...patch }, unlimited, event));
  assert.deepEqual(edit({ uri: "index.html" }), ['Records[0].cf.request.uri: expected a path starting with "/", found "index.html"']);
  assert.deepEqual(edit({ uri: undefined }), ['Records[0].cf.request.uri: expected a string starting with "/", found nothing']);
  assert.match(edit({ uri: "/a\nb" })[0]!, /^Records\[0\]\.cf\.request\.uri: expected a path without spaces, control characters/);
  assert.match(edit({ uri: "/a?b=1" })[0]!, /put the query in querystring/);
  assert.deepEqual(edit({ querystring: "?a=1" }), ['Records[0].cf.request.querystring: expected the query without a leading "?", found "?a=1"']);
  assert.match(edit({ querystring: "a=1#frag" })[0]!, /^Records\[0\]\.cf\.request\.querystring: expected no spaces, control characters or "#"/);
  assert.deepEqual(edit({ querystring: null }), ['Records[0].cf.request.querystring: expected a string ("" for none), found null']);
  assert.match(edit({ uri: `/${"a".repeat(8191)}` })[0]!, /expected the URI and query string together under 8192 characters, found 8195/);
  assert.deepEqual(edit({ method: "GE T" }), ['Records[0].cf.request.method: expected an HTTP method token such as "GET", found the string "GE T"']);
  assert.deepEqual(edit({ method: "GET" }), ['Records[0].cf.request.method: is read-only; expected "POST" (unchanged), found "GET"']);
  const ok = run("viewer-request", { ...requestOf(event), uri: "/new%20path", querystring: "x=%41", clientIp: "10.0.0.1" }, unlimited, event);
  assert.equal(ok.ok && ok.kind === "request" && ok.value.clientIp, "203.0.113.9", "clientIp is read-only and kept");
});

test("body replacement needs an include-body association and fits the limit", () => {
  const without = eventFor("viewer-request");
  const replace = (data: string, encoding = "text") => ({ inputTruncated: false, action: "replace", encoding, data });
  assert.deepEqual(problems(run("viewer-request", { ...requestOf(without), body: replace("new") }, unlimited, without)), [
    'Records[0].cf.request.body.action: replacing the body needs an association with "include body"; this viewer-request association does not include it, expected no body or action "read-only", found "replace"',
  ]);
  const withBody = eventFor("viewer-request", { includeBody: true });
  const ok = run("viewer-request", { ...requestOf(withBody), body: replace("new") }, unlimited, withBody);
  assert.deepEqual(ok.ok && ok.kind === "request" && ok.value.body, { inputTruncated: false, action: "replace", encoding: "text", data: "new" });
  const small = { responseBytes: null, requestBodyBytes: 4 };
  assert.equal(run("viewer-request", { ...requestOf(withBody), body: replace("abcd") }, small, withBody).ok, true);
  assert.deepEqual(problems(run("viewer-request", { ...requestOf(withBody), body: replace("abcde") }, small, withBody)), [
    "Records[0].cf.request.body.data: expected a replacement body of at most 4 bytes at viewer-request, found 5 bytes",
  ]);
  assert.equal(run("viewer-request", { ...requestOf(withBody), body: replace(Buffer.from("abcd").toString("base64"), "base64") }, small, withBody).ok, true);
  const big = "x".repeat(40 * 1024 + 1);
  assert.equal(run("viewer-request", { ...requestOf(withBody), body: replace(big) }, unlimited, withBody).ok, false, "default: 40 KB at viewer-request");
  const originBody = eventFor("origin-request", { includeBody: true });
  assert.equal(run("origin-request", { ...requestOf(originBody), body: replace(big) }, unlimited, originBody).ok, true, "default: 1 MB at origin-request");
  // A read-only body may be handed back as it was, even without a replace action.
  assert.equal(run("viewer-request", requestOf(withBody), unlimited, withBody).ok, true);
  assert.deepEqual(problems(run("viewer-request", { ...requestOf(withBody), body: { action: "swap", encoding: "hex", data: 1 } }, unlimited, withBody)), [
    'Records[0].cf.request.body.action: expected "read-only" or "replace", found the string "swap"',
    'Records[0].cf.request.body.encoding: expected "base64" or "text", found the string "hex"',
    "Records[0].cf.request.body.data: expected a string, found the number 1",
  ]);
});

test("origin: settable at origin-request only, with exactly one of custom or s3", () => {
  const event = eventFor("origin-request");
  const withOrigin = (origin: unknown) => run("origin-request", { ...requestOf(event), origin }, unlimited, event);
  const s3 = { s3: { authMethod: "origin-access-identity", customHeaders: {}, domainName: "bucket.s3.amazonaws.com", path: "/p", region: "eu-west-1" } };
  assert.equal(withOrigin(s3).ok, true, "switch from custom to s3");
  assert.deepEqual(problems(withOrigin({})), ['Records[0].cf.request.origin: expected exactly one of "custom" or "s3", found neither']);
  assert.deepEqual(problems(withOrigin({ custom, s3: s3.s3 })), ['Records[0].cf.request.origin: expected exactly one of "custom" or "s3", found both']);
  assert.deepEqual(problems(withOrigin({ custom: { ...custom, domainName: "example.org:8080", port: 22, protocol: "ftp", path: "/trailing/", readTimeout: 1, sslProtocols: ["TLSv1.3"] } })), [
    'Records[0].cf.request.origin.custom.domainName: expected a domain name without ":" (set the port in "port"), found "example.org:8080"',
    'Records[0].cf.request.origin.custom.path: expected "" or a path starting with "/" and not ending with "/", found "/trailing/"',
    "Records[0].cf.request.origin.custom.port: expected 80, 443 or an integer from 1024 to 65535, found the number 22",
    'Records[0].cf.request.origin.custom.protocol: expected "http" or "https", found the string "ftp"',
    "Records[0].cf.request.origin.custom.readTimeout: expected a number of seconds from 4 to 60, found the number 1",
    'Records[0].cf.request.origin.custom.sslProtocols[0]: expected one of TLSv1.2, TLSv1.1, TLSv1, SSLv3, found the string "TLSv1.3"',
  ]);
  assert.deepEqual(problems(withOrigin({ s3: { ...s3.s3, region: "" } })), [
    'Records[0].cf.request.origin.s3.region: expected the bucket\'s region when authMethod is "origin-access-identity", found the string ""',
  ]);
  assert.deepEqual(problems(withOrigin({ custom: { ...custom, customHeaders: { "x-cache": [{ value: "1" }], host: [{ value: "dup" }] } } })), [
    'Records[0].cf.request.origin.custom.customHeaders["x-cache"]: "X-Cache" is a disallowed header at origin-request; expected it absent, found ["1"]',
    'Records[0].cf.request.origin.custom.customHeaders["host"]: expected a name not already in request.headers, found "host" in both',
  ]);
  const viewer = eventFor("viewer-request");
  assert.deepEqual(problems(run("viewer-request", { ...requestOf(viewer), origin: { custom } }, unlimited, viewer)), [
    "Records[0].cf.request.origin: the origin can only be set at origin-request; expected nothing at viewer-request, found an object",
  ]);
});

test("origin: a custom origin by address is valid only as the event carried it", () => {
  const byAddress = (domainName: string): CloudFrontEvent => {
    const event = eventFor("origin-request");
    (event.Records[0].cf.request.origin as { custom: typeof custom }).custom = { ...custom, domainName };
    return event;
  };
  for (const given of ["192.0.2.10", "[2001:db8::1]"]) {
    const event = byAddress(given);
    const origin = event.Records[0].cf.request.origin as { custom: typeof custom };
    assert.equal(run("origin-request", requestOf(event), unlimited, event).ok, true, `${given} returned as given`);
    const moved = { ...requestOf(event), origin: { custom: { ...origin.custom, port: 8443, path: "/v2" } } };
    assert.equal(run("origin-request", moved, unlimited, event).ok, true, `${given} kept, other fields changed`);
  }
  // An address a function introduces is refused, whatever the event carried.
  for (const event of [byAddress("192.0.2.10"), eventFor("origin-request")]) {
    const introduced = { ...requestOf(event), origin: { custom: { ...custom, domainName: "192.0.2.11" } } };
    assert.deepEqual(problems(run("origin-request", introduced, unlimited, event)), [
      'Records[0].cf.request.origin.custom.domainName: expected a domain name, not an IPv4 address, found "192.0.2.11"',
    ]);
  }
  const v6 = byAddress("[2001:db8::1]");
  assert.deepEqual(problems(run("origin-request", { ...requestOf(v6), origin: { custom: { ...custom, domainName: "[2001:db8::2]" } } }, unlimited, v6)), [
    'Records[0].cf.request.origin.custom.domainName: expected a domain name without ":" (set the port in "port"), found "[2001:db8::2]"',
  ]);
});

test("every problem is reported at once", () => {
  const event = eventFor("origin-request");
  const result = { ...requestOf(event), uri: "x", method: 1, querystring: "a b", headers: { "accept-encoding": [{ value: "br" }], connection: [{ value: "close" }] } };
  assert.equal(problems(run("origin-request", result, unlimited, event)).length, 5);
});

test("assertLambdaResult returns the value or throws one ERR_INVALID_RESULT with every problem", () => {
  const event = eventFor("viewer-response");
  assert.deepEqual(assertLambdaResult("viewer-response", event, { status: 200 }, unlimited).kind, "response");
  assert.throws(
    () => assertLambdaResult("viewer-response", event, { status: 500, headers: { "x-cache": [{ value: "1" }] } }, unlimited),
    (err: Error & { code?: string; details?: { problems: string[] } }) => {
      assert.equal(err.code, "ERR_INVALID_RESULT");
      assert.equal(err.details!.problems.length, 2);
      assert.match(err.message, /^invalid viewer-response result:\n  - Records\[0\]\.cf\.response\.status: /);
      return true;
    },
  );
});

test("validating against an event of another type is a caller error", () => {
  assert.throws(() => validateLambdaResult("origin-request", eventFor("viewer-request"), { status: 200 }, unlimited), { code: "ERR_INVALID_EVENT" });
});

test("results from another realm are plain objects too", async () => {
  const { runInNewContext } = await import("node:vm");
  const result = runInNewContext(`({ status: "403", headers: { "content-type": [{ key: "Content-Type", value: "text/plain" }] }, body: "no" })`);
  assert.equal(run("viewer-request", result).ok, true);
  assert.deepEqual(problems(run("viewer-request", new Map([["status", 200]]))), [
    "Records[0].cf: expected the request object (to continue) or a response object with a status (to answer), found an object",
  ]);
});
