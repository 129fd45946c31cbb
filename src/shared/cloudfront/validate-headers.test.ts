import { test } from "node:test";
import assert from "node:assert/strict";
import { buildCloudFrontEvent } from "./event.ts";
import { DISALLOWED_HEADERS, READ_ONLY_HEADERS } from "./rules.ts";
import { CLOUDFRONT_EVENT_TYPES, type CloudFrontEvent, type CloudFrontEventType, type CloudFrontHeaders } from "./types.ts";
import { validateLambdaResult } from "./validate.ts";

const isRequestEvent = (e: CloudFrontEventType) => e === "viewer-request" || e === "origin-request";
const origin = { custom: { customHeaders: {}, domainName: "example.org", keepaliveTimeout: 5, path: "", port: 443, protocol: "https" as const, readTimeout: 30, sslProtocols: ["TLSv1.2"] } };

/** An event whose request and response carry every read-only header of the event. */
function eventWith(eventType: CloudFrontEventType): CloudFrontEvent {
  const readOnly = [...READ_ONLY_HEADERS[eventType]].map((n): [string, string] => [n, `${n}-value`]);
  const request = { method: "GET", url: "https://example.com/a", headers: isRequestEvent(eventType) ? readOnly : [["host", "example.com"] as [string, string]], body: null };
  const response = isRequestEvent(eventType) ? undefined : { status: 200, statusText: "OK", headers: readOnly, body: null };
  return buildCloudFrontEvent({ eventType, request, response, clientIp: "::1", distribution: { domainName: "d.cloudfront.net", id: "E1" }, origin });
}

/** The object a function returns when it hands back what it was given, with `edit` applied to its headers. */
function passThrough(event: CloudFrontEvent, edit: (h: CloudFrontHeaders) => void): Record<string, unknown> {
  const cf = structuredClone(event.Records[0].cf) as { request: { headers: CloudFrontHeaders }; response?: { headers: CloudFrontHeaders } };
  const target = cf.response ?? cf.request;
  edit(target.headers);
  return (cf.response ?? cf.request) as unknown as Record<string, unknown>;
}

const where = (eventType: CloudFrontEventType) => (isRequestEvent(eventType) ? "Records[0].cf.request.headers" : "Records[0].cf.response.headers");
const check = (eventType: CloudFrontEventType, event: CloudFrontEvent, result: unknown) =>
  validateLambdaResult(eventType, event, result, { responseBytes: null });

function problemsOf(result: ReturnType<typeof check>): string[] {
  assert.equal(result.ok, false, "expected the result to be rejected");
  return result.ok ? [] : result.problems;
}

test("returning the event's own request/response unchanged is valid at every event", () => {
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    const event = eventWith(eventType);
    const result = check(eventType, event, passThrough(event, () => {}));
    assert.equal(result.ok, true, eventType);
  }
});

test("adding any disallowed header fails at every event, naming the header path", () => {
  const names = [...DISALLOWED_HEADERS, "x-amz-cf-pop", "x-edge-location"];
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    const event = eventWith(eventType);
    for (const name of names) {
      const problems = problemsOf(check(eventType, event, passThrough(event, (h) => (h[name] = [{ key: name, value: "1" }]))));
      assert.equal(problems.length, 1, `${name} at ${eventType}: ${problems.join("; ")}`);
      assert.ok(problems[0]!.startsWith(`${where(eventType)}[${JSON.stringify(name)}]: `), problems[0]);
      assert.match(problems[0]!, new RegExp(`is a disallowed header at ${eventType}; expected it absent, found \\["1"\\]`));
    }
  }
});

test("CloudFront-Viewer-Country may not be added at viewer-request but may at the other events", () => {
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    const event = eventWith(eventType);
    const result = check(eventType, event, passThrough(event, (h) => (h["cloudfront-viewer-country"] = [{ key: "CloudFront-Viewer-Country", value: "FR" }])));
    assert.equal(result.ok, eventType !== "viewer-request", eventType);
  }
});

test("every read-only header: adding, changing and removing fail, each with its own message", () => {
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    for (const name of READ_ONLY_HEADERS[eventType]) {
      const event = eventWith(eventType);
      const at = `${where(eventType)}[${JSON.stringify(name)}]`;

      const changed = problemsOf(check(eventType, event, passThrough(event, (h) => (h[name]![0]!.value = "other"))));
      assert.deepEqual(changed.length, 1, `${name} at ${eventType}`);
      assert.match(changed[0]!, new RegExp(`^${escape(at)}: ".+" is read-only at ${eventType} and cannot be changed; expected \\["${name}-value"\\] \\(unchanged\\), found \\["other"\\]$`));

      const removed = problemsOf(check(eventType, event, passThrough(event, (h) => delete h[name])));
      assert.match(removed[0]!, new RegExp(`^${escape(at)}: .* and cannot be removed; expected \\["${name}-value"\\] \\(unchanged\\), found nothing$`));

      const repeated = problemsOf(check(eventType, event, passThrough(event, (h) => h[name]!.push({ key: name, value: "again" }))));
      assert.match(repeated[0]!, /cannot be changed/);

      const without = structuredClone(event);
      const cf = without.Records[0].cf as { request: { headers: CloudFrontHeaders }; response?: { headers: CloudFrontHeaders } };
      delete (cf.response ?? cf.request).headers[name];
      const added = problemsOf(check(eventType, without, passThrough(without, (h) => (h[name] = [{ key: name, value: "new" }]))));
      assert.match(added[0]!, new RegExp(`^${escape(at)}: .* and cannot be added; expected it absent, found \\["new"\\]$`));

      // Key casing is not a change: only values are compared.
      assert.equal(check(eventType, event, passThrough(event, (h) => (h[name]![0]!.key = name.toUpperCase()))).ok, true);
    }
  }
});

test("a response generated at a request event may not carry that event's read-only headers", () => {
  for (const eventType of ["viewer-request", "origin-request"] as const) {
    const event = eventWith(eventType);
    for (const name of READ_ONLY_HEADERS[eventType]) {
      const problems = problemsOf(check(eventType, event, { status: "200", headers: { [name]: [{ value: "1" }] } }));
      assert.match(problems[0]!, new RegExp(`^Records\\[0\\]\\.cf\\.response\\.headers\\["${name}"\\]: .* is read-only at ${eventType} and cannot be added`));
    }
    // Read-only headers of other events are fine in a generated response.
    assert.equal(check(eventType, event, { status: 200, headers: { warning: [{ value: "199 x" }], "content-encoding": [{ value: "gzip" }] } }).ok, true);
  }
});

test("read-only headers of other events may change", () => {
  const event = eventWith("origin-request");
  assert.equal(check("origin-request", event, passThrough(event, (h) => (h["host"] = [{ key: "Host", value: "elsewhere.example" }]))).ok, true);
  const vr = eventWith("viewer-response");
  assert.equal(check("viewer-response", vr, passThrough(vr, (h) => (h["content-length"] = [{ key: "Content-Length", value: "5" }]))).ok, true);
});

test("header shape: lowercase names, arrays of { key?, value }, key matching the name, safe values", () => {
  const event = eventWith("origin-response");
  const result = passThrough(event, (h) => {
    (h as Record<string, unknown>)["X-Upper"] = [{ key: "X-Upper", value: "1" }];
    (h as Record<string, unknown>)["bad name"] = [{ value: "1" }];
    (h as Record<string, unknown>)["x-not-array"] = { key: "x-not-array", value: "1" };
    (h as Record<string, unknown>)["x-number"] = [{ key: "x-number", value: 5 }];
    (h as Record<string, unknown>)["x-key"] = [{ key: "X-Other", value: "1" }];
    (h as Record<string, unknown>)["x-crlf"] = [{ value: "a\r\nSet-Cookie: evil=1" }];
    (h as Record<string, unknown>)["x-entry"] = ["just a string"];
    (h as Record<string, unknown>)["x-fine"] = [{ value: "no key is fine" }];
  });
  const problems = problemsOf(check("origin-response", event, result));
  const at = "Records[0].cf.response.headers";
  assert.deepEqual(problems, [
    `${at}["X-Upper"]: expected a lowercase header name (use "x-upper"), found "X-Upper"`,
    `${at}["bad name"]: expected a lowercase header name, found "bad name"`,
    `${at}["x-not-array"]: expected an array of { key, value } objects, found an object`,
    `${at}["x-number"][0].value: expected a string, found the number 5`,
    `${at}["x-key"][0].key: expected the header name "x-key" in any letter case, found the string "X-Other"`,
    `${at}["x-crlf"][0].value: expected a header value without CR, LF or NUL, found "a\\r\\nSet-Cookie: evil=1"`,
    `${at}["x-entry"][0]: expected an object { key, value }, found the string "just a string"`,
  ]);
});

test("a valid result gets every key filled in", () => {
  const event = eventWith("origin-response");
  const result = check("origin-response", event, { status: "200", headers: { ...event.Records[0].cf.response!.headers, "x-new": [{ value: "1" }] } });
  assert.equal(result.ok, true);
  if (result.ok) assert.deepEqual(result.value.headers["x-new"], [{ key: "X-New", value: "1" }]);
});

test("a request result needs a header object; a response result may leave it out", () => {
  const event = eventWith("viewer-request");
  const request = structuredClone(event.Records[0].cf.request) as unknown as Record<string, unknown>;
  request["headers"] = null;
  assert.deepEqual(problemsOf(check("viewer-request", event, request)), [
    "Records[0].cf.request.headers: expected an object mapping lowercase header names to arrays of { key, value }, found null",
  ]);
  assert.equal(check("viewer-request", event, { status: 403 }).ok, true);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("a read-only header whose entry is malformed is one problem (its shape), not also a change; a sparse entry list skips its holes", () => {
  const event = eventWith("viewer-request");
  const at = "Records[0].cf.request.headers";
  const result = passThrough(event, (h) => {
    h["via"] = [{ key: "Via", value: 7 as unknown as string }];
    (h as Record<string, unknown>)["Host"] = [{ key: "Host", value: "other.example" }];
  });
  assert.deepEqual(problemsOf(check("viewer-request", event, result)), [
    `${at}["via"][0].value: expected a string, found the number 7`,
    `${at}["Host"]: expected a lowercase header name (use "host"), found "Host"`,
  ]);
  const sparse: Array<{ key: string; value: string }> = [];
  sparse[1] = { key: "X-Sparse", value: "1" };
  const ok = check("viewer-request", event, passThrough(event, (h) => void (h["x-sparse"] = sparse)));
  assert.equal(ok.ok, true);
  if (ok.ok) assert.deepEqual((ok.value.headers as CloudFrontHeaders)["x-sparse"], [{ key: "X-Sparse", value: "1" }]);
});
