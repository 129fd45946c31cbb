import { test } from "node:test";
import assert from "node:assert/strict";
import type { RequestData, ResponseData } from "../http.ts";
import { buildCloudFrontEvent, createRequestId, getCloudFrontRecord, getEventType } from "./event.ts";
import type { CloudFrontCustomOrigin, CloudFrontEvent, CloudFrontS3Origin } from "./types.ts";

const distribution = { domainName: "d111111abcdef8.cloudfront.net", id: "EDFDVBD6EXAMPLE" };
const requestId = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==";
const bytes = (s: string) => new TextEncoder().encode(s);

function viewerRequest(body: Uint8Array | null = null): RequestData {
  return {
    method: "GET",
    url: "https://d111111abcdef8.cloudfront.net/picture.jpg?size=large",
    headers: [
      ["host", "d111111abcdef8.cloudfront.net"],
      ["user-agent", "curl/7.66.0"],
      ["accept", "*/*"],
    ],
    body,
  };
}

const custom: CloudFrontCustomOrigin = {
  customHeaders: {},
  domainName: "example.org",
  keepaliveTimeout: 5,
  path: "",
  port: 443,
  protocol: "https",
  readTimeout: 30,
  sslProtocols: ["TLSv1.2"],
};

const originResponse: ResponseData = {
  status: 200,
  statusText: "OK",
  headers: [
    ["content-type", "image/jpeg"],
    ["set-cookie", "theme=light"],
    ["set-cookie", "sessionToken=abc123"],
  ],
  body: bytes("not exposed"),
};

// Literal fixtures in the shape of the AWS developer guide's example events.
test("viewer-request event matches the documented shape", () => {
  const event = buildCloudFrontEvent({ eventType: "viewer-request", request: viewerRequest(), clientIp: "203.0.113.178", distribution, requestId });
  const expected: CloudFrontEvent = {
    Records: [
      {
        cf: {
          config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "viewer-request", requestId },
          request: {
            clientIp: "203.0.113.178",
            headers: {
              host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
              "user-agent": [{ key: "User-Agent", value: "curl/7.66.0" }],
              accept: [{ key: "Accept", value: "*/*" }],
            },
            method: "GET",
            querystring: "size=large",
            uri: "/picture.jpg",
          },
        },
      },
    ],
  };
  assert.deepEqual(event, expected);
  assert.equal("body" in event.Records[0].cf.request, false, "no body without include body");
  assert.equal("origin" in event.Records[0].cf.request, false);
});

test("origin-request event carries the origin and, with include body, the body", () => {
  const event = buildCloudFrontEvent({
    eventType: "origin-request",
    request: { ...viewerRequest(bytes("name=verge")), method: "POST" },
    clientIp: "203.0.113.178",
    distribution,
    requestId,
    origin: { custom },
    includeBody: true,
  });
  assert.deepEqual(event, {
    Records: [
      {
        cf: {
          config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "origin-request", requestId },
          request: {
            clientIp: "203.0.113.178",
            headers: {
              host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
              "user-agent": [{ key: "User-Agent", value: "curl/7.66.0" }],
              accept: [{ key: "Accept", value: "*/*" }],
            },
            method: "POST",
            querystring: "size=large",
            uri: "/picture.jpg",
            body: { inputTruncated: false, action: "read-only", encoding: "base64", data: "bmFtZT12ZXJnZQ==" },
            origin: { custom },
          },
        },
      },
    ],
  });
  assert.notEqual(event.Records[0].cf.request.origin, undefined);
  assert.notEqual((event.Records[0].cf.request.origin as { custom: CloudFrontCustomOrigin }).custom, custom, "origin is copied");
});

test("origin-response event: response with string status and repeated headers, no body, origin kept", () => {
  const s3: CloudFrontS3Origin = { authMethod: "none", customHeaders: {}, domainName: "bucket.s3.amazonaws.com", path: "/static", region: "us-east-1" };
  const event = buildCloudFrontEvent({
    eventType: "origin-response",
    request: viewerRequest(bytes("ignored")),
    response: originResponse,
    clientIp: "203.0.113.178",
    distribution,
    requestId,
    origin: { s3 },
  });
  assert.deepEqual(event.Records[0].cf, {
    config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "origin-response", requestId },
    request: {
      clientIp: "203.0.113.178",
      headers: {
        host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
        "user-agent": [{ key: "User-Agent", value: "curl/7.66.0" }],
        accept: [{ key: "Accept", value: "*/*" }],
      },
      method: "GET",
      querystring: "size=large",
      uri: "/picture.jpg",
      origin: { s3 },
    },
    response: {
      status: "200",
      statusDescription: "OK",
      headers: {
        "content-type": [{ key: "Content-Type", value: "image/jpeg" }],
        "set-cookie": [
          { key: "Set-Cookie", value: "theme=light" },
          { key: "Set-Cookie", value: "sessionToken=abc123" },
        ],
      },
    },
  });
});

test("viewer-response event: response, no origin, no body; origin given at a viewer event is ignored", () => {
  const event = buildCloudFrontEvent({
    eventType: "viewer-response",
    request: viewerRequest(),
    response: originResponse,
    clientIp: "2001:db8::1",
    distribution,
    requestId,
    origin: { custom },
    keys: { response: { "set-cookie": [{ key: "set-cookie", value: "" }] } },
  });
  const cf = event.Records[0].cf;
  assert.equal(cf.config.eventType, "viewer-response");
  assert.equal("origin" in cf.request, false);
  assert.equal("body" in cf.response, false);
  assert.deepEqual(cf.response.headers["set-cookie"], [
    { key: "set-cookie", value: "theme=light" },
    { key: "set-cookie", value: "sessionToken=abc123" },
  ]);
});

test("include body: truncation at the limit, exact limit is not truncated, default quotas per event", () => {
  const build = (eventType: "viewer-request" | "origin-request", body: Uint8Array | null, bodyLimit?: number | null) =>
    buildCloudFrontEvent({ eventType, request: { ...viewerRequest(body), method: "POST" }, clientIp: "::1", distribution, origin: { custom }, includeBody: true, bodyLimit })
      .Records[0].cf.request.body!;
  assert.deepEqual(build("viewer-request", bytes("abcdef"), 3), { inputTruncated: true, action: "read-only", encoding: "base64", data: "YWJj" });
  assert.equal(build("viewer-request", bytes("abc"), 3).inputTruncated, false);
  assert.equal(build("viewer-request", bytes("abcdef"), null).inputTruncated, false);
  assert.deepEqual(build("viewer-request", null), { inputTruncated: false, action: "read-only", encoding: "base64", data: "" });

  const viewerMax = new Uint8Array(40 * 1024 + 1).fill(7);
  const viewer = build("viewer-request", viewerMax);
  assert.equal(viewer.inputTruncated, true);
  assert.equal(Buffer.from(viewer.data, "base64").byteLength, 40 * 1024);
  const origin = build("origin-request", viewerMax);
  assert.equal(origin.inputTruncated, false, "1 MB at origin-request");
  const originMax = new Uint8Array(1024 * 1024 + 5);
  const cut = build("origin-request", originMax);
  assert.equal(cut.inputTruncated, true);
  assert.equal(Buffer.from(cut.data, "base64").byteLength, 1024 * 1024);
});

test("headers CloudFront never exposes are left out of the event", () => {
  const event = buildCloudFrontEvent({
    eventType: "viewer-response",
    request: { ...viewerRequest(), headers: [["host", "h"], ["connection", "keep-alive"], ["x-amz-cf-id", "abc"], ["cloudfront-viewer-country", "FR"]] },
    response: { ...originResponse, headers: [["x-cache", "Miss"], ["x-edge-location", "CDG"], ["x-amzn-requestid", "1"], ["server", "o"]] },
    clientIp: "::1",
    distribution,
  });
  assert.deepEqual(Object.keys(event.Records[0].cf.request.headers), ["host", "cloudfront-viewer-country"]);
  assert.deepEqual(Object.keys(event.Records[0].cf.response.headers), ["server"]);
});

test("misuse is one ERR_INVALID_EVENT listing every problem", () => {
  assert.throws(
    () =>
      buildCloudFrontEvent({
        eventType: "origin-response",
        request: { ...viewerRequest(), body: (async function* () {})() },
        clientIp: "::1",
        distribution,
        includeBody: true,
      }),
    (err: Error & { code?: string; details?: { problems: string[] } }) => {
      assert.equal(err.code, "ERR_INVALID_EVENT");
      assert.deepEqual(
        err.details!.problems.map((p) => p.split(":")[0]),
        ["origin", "response", "includeBody", "request.body"],
      );
      return true;
    },
  );
  assert.throws(
    () => buildCloudFrontEvent({ eventType: "viewer-request", request: viewerRequest(), response: originResponse, clientIp: "::1", distribution }),
    /response: expected nothing at viewer-request/,
  );
});

test("requestId defaults to a CloudFront-shaped id", () => {
  const id = createRequestId();
  assert.match(id, /^[A-Za-z0-9_-]{54}==$/);
  assert.notEqual(createRequestId(), id);
  const event = buildCloudFrontEvent({ eventType: "viewer-request", request: viewerRequest(), clientIp: "::1", distribution });
  assert.match(event.Records[0].cf.config.requestId, /^[A-Za-z0-9_-]{54}==$/);
});

test("getCloudFrontRecord reads Records[0].cf and getEventType its event type", () => {
  const event = buildCloudFrontEvent({ eventType: "origin-response", request: viewerRequest(), response: originResponse, clientIp: "::1", distribution, origin: { custom } });
  const cf = getCloudFrontRecord(event);
  assert.equal(cf.request.uri, "/picture.jpg");
  assert.equal(cf.response!.status, "200");
  assert.equal(getEventType(event), "origin-response");
});

test("getCloudFrontRecord lists every problem with its path", () => {
  assert.throws(() => getCloudFrontRecord({}), /Records: expected an array with one record, found nothing/);
  assert.throws(() => getCloudFrontRecord({ Records: [{}] }), /Records\[0\]\.cf: expected an object, found nothing/);
  const bad = {
    Records: [{ cf: { config: { eventType: "viewer-thing", distributionId: 1 }, request: { uri: 5, headers: [] }, response: { status: 200 } } }],
  };
  assert.throws(
    () => getCloudFrontRecord(bad),
    (err: Error & { code?: string; details?: { problems: string[] } }) => {
      assert.equal(err.code, "ERR_INVALID_EVENT");
      const paths = err.details!.problems.map((p) => p.split(": ")[0]);
      assert.deepEqual(paths, [
        "Records[0].cf.config.eventType",
        "Records[0].cf.config.distributionDomainName",
        "Records[0].cf.config.distributionId",
        "Records[0].cf.config.requestId",
        "Records[0].cf.request.clientIp",
        "Records[0].cf.request.method",
        "Records[0].cf.request.querystring",
        "Records[0].cf.request.uri",
        "Records[0].cf.request.headers",
        "Records[0].cf.response.status",
        "Records[0].cf.response.headers",
      ]);
      assert.match(err.message, /Records\[0\]\.cf\.config\.distributionId: expected a string, found the number 1/);
      return true;
    },
  );
});
