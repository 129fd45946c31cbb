import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeBody, decodedBodyLength, encodeBody, exposeRequestBody, isBase64 } from "./body.ts";

test("isBase64 accepts canonical padded base64 only", () => {
  for (const ok of ["", "YQ==", "YWI=", "YWJj", "+/+/", "AAAAAAAA"]) assert.equal(isBase64(ok), true, ok);
  for (const bad of ["YQ", "YQ=", "Y===", "YW Jj", "YWJj\n", "-_-_", "!!!!", "YQ==YQ=="]) assert.equal(isBase64(bad), false, bad);
});

test("encode and decode both ways; a missing encoding is text", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  assert.deepEqual(decodeBody(encodeBody(bytes, "base64"), "base64"), bytes);
  assert.equal(encodeBody(new TextEncoder().encode("héllo"), "text"), "héllo");
  assert.deepEqual(decodeBody("héllo", undefined), new TextEncoder().encode("héllo"));
  assert.equal(decodeBody("YQ==", "base64").buffer.byteLength, 1, "a copy, not a view of Node's shared pool");
});

test("decodedBodyLength counts bytes after decoding", () => {
  assert.equal(decodedBodyLength("YWJj", "base64"), 3);
  assert.equal(decodedBodyLength("YQ==", "base64"), 1);
  assert.equal(decodedBodyLength("é", "text"), 2);
  assert.equal(decodedBodyLength("é", undefined), 2);
});

test("exposeRequestBody cuts at the limit and says so", () => {
  const body = new TextEncoder().encode("hello");
  assert.deepEqual(exposeRequestBody(body, { limit: 4 }), { inputTruncated: true, action: "read-only", encoding: "base64", data: "aGVsbA==" });
  assert.deepEqual(exposeRequestBody(body, { limit: 5 }), { inputTruncated: false, action: "read-only", encoding: "base64", data: "aGVsbG8=" });
  assert.deepEqual(exposeRequestBody(body, { limit: null, encoding: "text", action: "replace" }), { inputTruncated: false, action: "replace", encoding: "text", data: "hello" });
  assert.deepEqual(exposeRequestBody(null, { limit: 0 }), { inputTruncated: false, action: "read-only", encoding: "base64", data: "" });
});
