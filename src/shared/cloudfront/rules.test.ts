import { test } from "node:test";
import assert from "node:assert/strict";
import { DISALLOWED_HEADERS, READ_ONLY_HEADERS, isDisallowedHeader, isHiddenHeader, isReadOnlyHeader } from "./rules.ts";
import { CLOUDFRONT_EVENT_TYPES } from "./types.ts";

// The AWS list ("Restrictions on all edge functions" > "Disallowed headers"), in the guide's spelling.
const AWS_DISALLOWED = [
  "Connection",
  "Expect",
  "Keep-Alive",
  "Proxy-Authenticate",
  "Proxy-Authorization",
  "Proxy-Connection",
  "Trailer",
  "Upgrade",
  "X-Accel-Buffering",
  "X-Accel-Charset",
  "X-Accel-Limit-Rate",
  "X-Accel-Redirect",
  "X-Amzn-Auth",
  "X-Amzn-Cf-Billing",
  "X-Amzn-Cf-Id",
  "X-Amzn-Cf-Xff",
  "X-Amzn-Errortype",
  "X-Amzn-Fle-Profile",
  "X-Amzn-Header-Count",
  "X-Amzn-Header-Order",
  "X-Amzn-Lambda-Integration-Tag",
  "X-Amzn-RequestId",
  "X-Cache",
  "X-Forwarded-Proto",
  "X-Real-IP",
  "CloudFront-Viewer-Cert-PEM",
  "Client-Cert",
  "Client-Cert-Chain",
];

test("every documented disallowed header is disallowed at every event, in any case", () => {
  assert.equal(DISALLOWED_HEADERS.size, AWS_DISALLOWED.length);
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    for (const name of AWS_DISALLOWED) {
      assert.equal(isDisallowedHeader(name, eventType), true, `${name} at ${eventType}`);
      assert.equal(isDisallowedHeader(name.toUpperCase(), eventType), true, `${name.toUpperCase()} at ${eventType}`);
      assert.equal(isHiddenHeader(name), true);
    }
  }
});

test("X-Amz-Cf-* and X-Edge-* are disallowed as families; near misses are not", () => {
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    for (const name of ["X-Amz-Cf-Id", "x-amz-cf-pop", "X-Edge-Location", "x-edge-request-id", "X-EDGE-ANYTHING"]) {
      assert.equal(isDisallowedHeader(name, eventType), true, `${name} at ${eventType}`);
    }
    for (const name of ["X-Amz-Date", "X-Amzn-Trace-Id", "X-Edgeless", "X-Cache-Status", "X-Forwarded-For", "X-Forwarded-Host", "Via", "Host"]) {
      assert.equal(isDisallowedHeader(name, eventType), false, `${name} at ${eventType}`);
    }
  }
});

test("CloudFront-Viewer-Country is disallowed only at viewer-request, and still shown there", () => {
  assert.equal(isDisallowedHeader("CloudFront-Viewer-Country", "viewer-request"), true);
  assert.equal(isDisallowedHeader("CloudFront-Viewer-Country", "origin-request"), false);
  assert.equal(isDisallowedHeader("CloudFront-Viewer-Country", "origin-response"), false);
  assert.equal(isDisallowedHeader("CloudFront-Viewer-Country", "viewer-response"), false);
  assert.equal(isHiddenHeader("CloudFront-Viewer-Country"), false);
  for (const name of ["CloudFront-Forwarded-Proto", "CloudFront-Is-Mobile-Viewer", "CloudFront-Is-Desktop-Viewer"]) {
    for (const eventType of CLOUDFRONT_EVENT_TYPES) assert.equal(isDisallowedHeader(name, eventType), false);
  }
});

// "Read-only headers" per event, from the guide.
const AWS_READ_ONLY = {
  "viewer-request": ["CDN-Loop", "Content-Length", "Host", "Transfer-Encoding", "Via"],
  "origin-request": [
    "Accept-Encoding",
    "CDN-Loop",
    "Content-Length",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Transfer-Encoding",
    "Via",
  ],
  "origin-response": ["Transfer-Encoding", "Via"],
  "viewer-response": ["Via", "Warning"],
} as const;

test("read-only headers are exactly the documented set for each event", () => {
  for (const eventType of CLOUDFRONT_EVENT_TYPES) {
    const expected = AWS_READ_ONLY[eventType].map((n) => n.toLowerCase());
    assert.deepEqual([...READ_ONLY_HEADERS[eventType]].sort(), [...expected].sort(), eventType);
    for (const name of AWS_READ_ONLY[eventType]) {
      assert.equal(isReadOnlyHeader(name, eventType), true, `${name} at ${eventType}`);
      assert.equal(isReadOnlyHeader(name.toUpperCase(), eventType), true);
      assert.equal(isDisallowedHeader(name, eventType), false, `${name} is read-only, not disallowed`);
    }
  }
});

test("a header read-only at one event is writable at the others", () => {
  assert.equal(isReadOnlyHeader("Host", "origin-request"), false);
  assert.equal(isReadOnlyHeader("Accept-Encoding", "viewer-request"), false);
  assert.equal(isReadOnlyHeader("If-None-Match", "viewer-request"), false);
  assert.equal(isReadOnlyHeader("Content-Length", "origin-response"), false);
  assert.equal(isReadOnlyHeader("Content-Length", "viewer-response"), false);
  assert.equal(isReadOnlyHeader("Content-Encoding", "viewer-response"), false);
  assert.equal(isReadOnlyHeader("Warning", "origin-response"), false);
  assert.equal(isReadOnlyHeader("Set-Cookie", "viewer-response"), false);
});
