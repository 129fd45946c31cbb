/** Proxy hardening: checks in the pipeline itself, and end to end behind @hono/node-server with raw HTTP/1.1. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import { normalizePath } from "./hardening.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, startOrigin, type TestEdge, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
let edge: TestEdge;
let server: http.Server;
let port: number;

before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((req, res) => res.end(`origin ${req.url}`));
  edge = createTestEdge(runtime);
  edge.state.putDistribution(testDistribution({ originUrl: origin.url }));
  server = http.createServer(getRequestListener((request) => edge.pipeline.handle(request, { clientIp: "127.0.0.1", scheme: "http" })));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await edge.close();
  await origin.close();
  runtime.dispose();
});

/** Sends raw bytes, returns the status line and the rest of the answer. */
async function raw(request: string): Promise<{ status: number; text: string }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.write(request); // not end(): a half-closed socket makes Node drop the request before the answer
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("latin1");
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
}

test("dot segments are resolved; a path that climbs above / or hides \"..\" in an encoding is refused", () => {
  assert.deepEqual(normalizePath("/a/b/../c"), { ok: true, path: "/a/c" });
  assert.deepEqual(normalizePath("/a/%2E%2e/b/./c/."), { ok: true, path: "/b/c/" });
  assert.deepEqual(normalizePath("/a/.."), { ok: true, path: "/" });
  assert.deepEqual(normalizePath("/plain/%41path"), { ok: true, path: "/plain/%41path" }, "left as sent without dot segments");
  assert.equal(normalizePath("/..").ok, false);
  assert.equal(normalizePath("/a/../../etc/passwd").ok, false);
  assert.equal(normalizePath("/a/..%2f..%2fetc").ok, false);
  assert.equal(normalizePath("/a/..%5c..%5cwin").ok, false);
  assert.equal(normalizePath("*").ok, false);
});

test("in the pipeline: two Host values, Content-Length with Transfer-Encoding, and an oversized header block are refused", async () => {
  const dup = await edge.request("/", { headers: { host: "site.test, evil.test" } });
  assert.equal(dup.status, 400);
  assert.equal(dup.headers.get("x-verge-error"), "ERR_BAD_REQUEST");
  await dup.arrayBuffer();

  const smuggle = await edge.request("/", { method: "POST", body: "x", headers: { "content-length": "1", "transfer-encoding": "chunked" } });
  assert.equal(smuggle.status, 400);
  await smuggle.arrayBuffer();

  const lengths = await edge.request("/", { method: "POST", body: "x", headers: { "content-length": "1, 2" } });
  assert.equal(lengths.status, 400);
  await lengths.arrayBuffer();

  const big = await edge.request("/", { headers: { "x-big": "a".repeat(17 * 1024) } });
  assert.equal(big.status, 431);
  assert.equal(big.headers.get("x-verge-error"), "ERR_HEADERS_TOO_LARGE");
  await big.arrayBuffer();

  const other = await edge.pipeline.handle(new Request("http://evil.test/x", { headers: { host: "site.test" } }), { clientIp: "127.0.0.1", scheme: "http" });
  assert.equal(other.status, 400, "the URL's authority and Host disagree: an absolute-form target");
  await other.arrayBuffer();
});

test("over HTTP: an absolute-form target naming another host is refused; naming this host it is served", async () => {
  const evil = await raw("GET http://evil.test/x HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
  assert.equal(evil.status, 400);
  const same = await raw("GET http://site.test/x HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
  assert.equal(same.status, 200);
  assert.match(same.text, /origin \/x$/);
});

test("over HTTP: a second Host header is refused", async () => {
  const r = await raw("GET / HTTP/1.1\r\nHost: site.test\r\nHost: evil.test\r\nConnection: close\r\n\r\n");
  assert.equal(r.status, 400);
});

test("over HTTP: dot segments never reach the origin, encoded traversal is refused", async () => {
  const seen = origin.seen.length;
  const plain = await raw("GET /a/b/../c HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
  assert.match(plain.text, /origin \/a\/c$/);
  const encoded = await raw("GET /a/%2e%2e/%2E%2E/%2e%2e/etc HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
  assert.ok(encoded.status === 400 || /origin \/etc$/.test(encoded.text), encoded.text);
  const slashes = await raw("GET /static/..%2f..%2fsecret HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
  assert.equal(slashes.status, 400);
  for (const s of origin.seen.slice(seen)) assert.ok(!/\.\.|%2e/i.test(s.url), s.url);
});

test("over HTTP: Content-Length with Transfer-Encoding, oversized headers and TRACE are refused", async () => {
  const smuggle = await raw("POST / HTTP/1.1\r\nHost: site.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n");
  assert.equal(smuggle.status, 400);
  const big = await raw(`GET / HTTP/1.1\r\nHost: site.test\r\nX-Big: ${"a".repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`);
  assert.equal(big.status, 431);
  const trace = await raw("TRACE / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
  assert.equal(trace.status, 405);
});

test("an origin response longer than its Content-Length is cut at Content-Length", async () => {
  const liar = net.createServer((socket) => {
    socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: no-store\r\n\r\nhelloSMUGGLED HTTP/1.1 200 OK\r\n\r\n"));
  });
  await new Promise<void>((r) => liar.listen(0, r));
  const local = createTestEdge(runtime);
  local.state.putDistribution(testDistribution({ originUrl: `http://localhost:${(liar.address() as AddressInfo).port}` }));
  const res = await local.request("/");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "hello");
  await local.close();
  await new Promise<void>((r) => liar.close(() => r()));
});
