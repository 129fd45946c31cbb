import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cfRequestToRequestData,
  cfResponseToResponseData,
  requestDataToCfRequest,
  responseDataToCfResponse,
  splitUrl,
  type BufferedRequestData,
  type BufferedResponseData,
} from "./convert.ts";
import { canonicalHeaderKey, cfHeadersToHeaderList, headerListToCfHeaders } from "./headers.ts";
import type { CloudFrontGeneratedResponse, CloudFrontRequest } from "./types.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function cfRequest(): CloudFrontRequest {
  return {
    clientIp: "203.0.113.178",
    headers: {
      host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
      "user-agent": [{ key: "User-Agent", value: "curl/8.5.0" }],
      accept: [{ key: "accept", value: "*/*" }],
      cookie: [
        { key: "Cookie", value: "a=1" },
        { key: "cookie", value: "b=2" },
      ],
    },
    method: "POST",
    querystring: "q=a%20b&x=%2F&empty=&flag",
    uri: "/path/%7Euser/./x",
    body: { inputTruncated: false, action: "read-only", encoding: "base64", data: Buffer.from("hello body").toString("base64") },
  };
}

test("cfRequestToRequestData: URL is built raw, headers flattened in order, body decoded", () => {
  const data = cfRequestToRequestData(cfRequest(), { scheme: "https" });
  assert.equal(data.method, "POST");
  assert.equal(data.url, "https://d111111abcdef8.cloudfront.net/path/%7Euser/./x?q=a%20b&x=%2F&empty=&flag");
  assert.deepEqual(data.headers, [
    ["host", "d111111abcdef8.cloudfront.net"],
    ["user-agent", "curl/8.5.0"],
    ["accept", "*/*"],
    ["cookie", "a=1"],
    ["cookie", "b=2"],
  ]);
  assert.deepEqual(data.body, bytes("hello body"));
});

test("cfRequestToRequestData: options.host wins, empty querystring adds no '?', text body, no body", () => {
  const req = cfRequest();
  req.querystring = "";
  req.body = { inputTruncated: false, action: "replace", encoding: "text", data: "héllo" };
  const data = cfRequestToRequestData(req, { scheme: "http", host: "example.com:8080" });
  assert.equal(data.url, "http://example.com:8080/path/%7Euser/./x");
  assert.deepEqual(data.body, bytes("héllo"));
  delete req.body;
  assert.equal(cfRequestToRequestData(req, { scheme: "http" }).body, null);
});

test("cfRequestToRequestData: no host anywhere is an ERR_INVALID_EVENT naming the field", () => {
  const req = cfRequest();
  req.headers = {};
  assert.throws(() => cfRequestToRequestData(req, { scheme: "https" }), (err: Error & { code?: string }) => {
    assert.equal(err.code, "ERR_INVALID_EVENT");
    assert.match(err.message, /request\.headers\.host/);
    return true;
  });
});

test("requestDataToCfRequest: raw uri and querystring, grouped headers with canonical keys", () => {
  const data: BufferedRequestData = {
    method: "GET",
    url: "https://example.com/a%20b/../c?x=1&x=2&y=%zz",
    headers: [
      ["host", "example.com"],
      ["x-forwarded-for", "198.51.100.1"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ],
    body: null,
  };
  assert.deepEqual(requestDataToCfRequest(data, { clientIp: "198.51.100.1" }), {
    clientIp: "198.51.100.1",
    headers: {
      host: [{ key: "Host", value: "example.com" }],
      "x-forwarded-for": [{ key: "X-Forwarded-For", value: "198.51.100.1" }],
      "set-cookie": [
        { key: "Set-Cookie", value: "a=1" },
        { key: "Set-Cookie", value: "b=2" },
      ],
    },
    method: "GET",
    querystring: "x=1&x=2&y=%zz",
    uri: "/a%20b/../c",
  });
});

test("requestDataToCfRequest: body option encodes base64, cuts at the limit and keeps origin", () => {
  const data: BufferedRequestData = { method: "POST", url: "https://example.com", headers: [], body: bytes("0123456789") };
  const origin = { s3: { authMethod: "none" as const, customHeaders: {}, domainName: "b.s3.amazonaws.com", path: "", region: "us-east-1" } };
  const req = requestDataToCfRequest(data, { clientIp: "::1", body: { limit: 4 }, origin });
  assert.equal(req.uri, "/");
  assert.equal(req.querystring, "");
  assert.deepEqual(req.body, { inputTruncated: true, action: "read-only", encoding: "base64", data: Buffer.from("0123").toString("base64") });
  assert.deepEqual(req.origin, origin);
  const whole = requestDataToCfRequest(data, { clientIp: "::1", body: { limit: 10, encoding: "text", action: "replace" } });
  assert.deepEqual(whole.body, { inputTruncated: false, action: "replace", encoding: "text", data: "0123456789" });
});

test("request round trip cf -> data -> cf is exact (key casing, repeats, raw query, body)", () => {
  const original = cfRequest();
  const data = cfRequestToRequestData(original, { scheme: "https" });
  const back = requestDataToCfRequest(data, { clientIp: original.clientIp, keys: original.headers, body: { action: "read-only", encoding: "base64" } });
  assert.deepEqual(back, original);
});

test("request round trip data -> cf -> data is exact when repeated headers are contiguous", () => {
  const data: BufferedRequestData = {
    method: "PUT",
    url: "https://example.com/x?a=%41&b",
    headers: [
      ["host", "example.com"],
      ["accept", "text/html"],
      ["accept", "application/json"],
      ["content-type", "application/octet-stream"],
    ],
    body: new Uint8Array([0, 255, 1, 254]),
  };
  const cf = requestDataToCfRequest(data, { clientIp: "::1", body: {} });
  assert.deepEqual(cfRequestToRequestData(cf, { scheme: "https" }), data);
});

test("cfResponseToResponseData: string status becomes a number, repeated set-cookie kept, bodies decoded", () => {
  const cf: CloudFrontGeneratedResponse = {
    status: "302",
    statusDescription: "Found",
    headers: {
      location: [{ key: "Location", value: "https://example.com/" }],
      "set-cookie": [
        { key: "Set-Cookie", value: "theme=light" },
        { key: "Set-Cookie", value: "session=abc; Secure" },
      ],
    },
  };
  assert.deepEqual(cfResponseToResponseData(cf), {
    status: 302,
    statusText: "Found",
    headers: [
      ["location", "https://example.com/"],
      ["set-cookie", "theme=light"],
      ["set-cookie", "session=abc; Secure"],
    ],
    body: null,
  });
  assert.deepEqual(cfResponseToResponseData({ status: 200, body: "hé" }).body, bytes("hé"), "no bodyEncoding means text");
  assert.deepEqual(cfResponseToResponseData({ status: "200", body: "AAH/", bodyEncoding: "base64" }).body, new Uint8Array([0, 1, 255]));
  assert.equal(cfResponseToResponseData({ status: "200" }).statusText, "");
  assert.deepEqual(cfResponseToResponseData({ status: "200" }).headers, []);
});

test("cfResponseToResponseData: a non-numeric status is ERR_INVALID_RESULT", () => {
  assert.throws(() => cfResponseToResponseData({ status: "OK" }), { code: "ERR_INVALID_RESULT" });
});

test("responseDataToCfResponse: number status becomes a string, body base64 by default, text on request", () => {
  const data: BufferedResponseData = { status: 200, statusText: "OK", headers: [["content-type", "text/plain"]], body: bytes("hi") };
  assert.deepEqual(responseDataToCfResponse(data), {
    status: "200",
    statusDescription: "OK",
    headers: { "content-type": [{ key: "Content-Type", value: "text/plain" }] },
    body: "aGk=",
    bodyEncoding: "base64",
  });
  assert.equal(responseDataToCfResponse(data, { bodyEncoding: "text" }).body, "hi");
  const noBody = responseDataToCfResponse({ ...data, body: null });
  assert.equal("body" in noBody, false);
  assert.equal("bodyEncoding" in noBody, false);
});

test("response round trips are exact both ways", () => {
  const cf: CloudFrontGeneratedResponse = {
    status: "404",
    statusDescription: "Not Here",
    headers: {
      server: [{ key: "server", value: "MyOrigin" }],
      "set-cookie": [
        { key: "Set-Cookie", value: "a=1" },
        { key: "set-cookie", value: "b=2" },
      ],
    },
    body: Buffer.from([1, 2, 3]).toString("base64"),
    bodyEncoding: "base64",
  };
  assert.deepEqual(responseDataToCfResponse(cfResponseToResponseData(cf), { keys: cf.headers }), cf);
  const data: BufferedResponseData = { status: 201, statusText: "Created", headers: [["etag", '"x"'], ["vary", "a"], ["vary", "b"]], body: bytes("{}") };
  assert.deepEqual(cfResponseToResponseData(responseDataToCfResponse(data)), data);
  assert.deepEqual(cfResponseToResponseData(responseDataToCfResponse(data, { bodyEncoding: "text" })), data);
});

test("headers: interleaved repeats are grouped; __proto__ is stored as a header; keys reuse original casing", () => {
  const cf = headerListToCfHeaders([["a", "1"], ["b", "2"], ["a", "3"], ["__proto__", "x"]]);
  assert.deepEqual(Object.keys(cf), ["a", "b", "__proto__"]);
  assert.equal(Object.getPrototypeOf(cf), Object.prototype);
  assert.deepEqual(cf["__proto__"], [{ key: "__proto__", value: "x" }]);
  assert.deepEqual(cfHeadersToHeaderList(cf), [["a", "1"], ["a", "3"], ["b", "2"], ["__proto__", "x"]]);
  const keyed = headerListToCfHeaders([["x-a", "1"], ["x-a", "2"], ["x-a", "3"]], { "x-a": [{ key: "x-A", value: "" }, { key: "X-a", value: "" }] });
  assert.deepEqual(keyed["x-a"]!.map((e) => e.key), ["x-A", "X-a", "x-A"]);
  assert.equal(canonicalHeaderKey("x-amz-cf-id"), "X-Amz-Cf-Id");
  assert.equal(canonicalHeaderKey("WWW-authenticate"), "Www-Authenticate");
});

test("splitUrl keeps the path and query raw and rejects relative URLs", () => {
  assert.deepEqual(splitUrl("https://h"), { uri: "/", querystring: "" });
  assert.deepEqual(splitUrl("https://h?x"), { uri: "/", querystring: "x" });
  assert.deepEqual(splitUrl("http://user@h:81/a//b?c=d?e#frag"), { uri: "/a//b", querystring: "c=d?e" });
  assert.throws(() => splitUrl("/relative"), { code: "ERR_INVALID_EVENT" });
});
