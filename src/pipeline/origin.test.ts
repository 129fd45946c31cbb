/** The origin leg: headers both ways, custom headers and path, streaming, framing, function-chosen origins. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { connect, type AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import { enforceContentLength, originError } from "./origin.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, lambda, startOrigin, until, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;

before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((req, res) => {
    if (req.url === "/etag") {
      if (req.headers["if-none-match"] === '"v1"') res.writeHead(304, { etag: '"v1"', "cache-control": "max-age=1" }).end();
      else res.writeHead(200, { etag: '"v1"', "cache-control": "max-age=1" }).end("tagged");
      return;
    }
    if (req.url === "/gzip") {
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" }).end(gzipSync("zipped"));
      return;
    }
    res.writeHead(200, {
      connection: "x-hop-res",
      "x-hop-res": "1",
      "keep-alive": "timeout=5",
      "proxy-authenticate": "Basic",
      "x-kept": "yes",
      "x-verge-error": "forged",
    });
    res.end(`origin ${req.url}`);
  });
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

test("to the origin: Host is the origin's, X-Forwarded-For and Via appended, custom headers added, hop-by-hop headers dropped both ways", async () => {
  const edge = createTestEdge(runtime);
  edge.state.putDistribution(testDistribution({ originUrl: `${origin.url}/base`, origin: { customHeaders: { "X-Origin-Key": "k1" } } }));
  const before = origin.seen.length;
  const res = await edge.request("/p?q=1", {
    headers: { connection: "x-hop", "x-hop": "1", te: "trailers", "proxy-authorization": "Basic eA==", "x-forwarded-for": "198.51.100.1", via: "1.1 upstream", "x-keep": "1" },
  });
  assert.equal(await res.text(), "origin /base/p?q=1");
  const seen = origin.seen[before]!;
  assert.equal(seen.url, "/base/p?q=1");
  assert.equal(seen.headers.host, `localhost:${origin.port}`);
  assert.equal(seen.headers["x-forwarded-for"], "198.51.100.1, 203.0.113.7");
  assert.equal(seen.headers.via, "1.1 upstream, 1.1 edge-test (verge)");
  assert.equal(seen.headers["x-origin-key"], "k1");
  assert.equal(seen.headers["x-keep"], "1");
  for (const h of ["x-hop", "te", "proxy-authorization"]) assert.equal(seen.headers[h], undefined, h);

  assert.equal(res.headers.get("x-kept"), "yes");
  for (const h of ["x-hop-res", "keep-alive", "proxy-authenticate"]) assert.equal(res.headers.get(h), null, h);
  assert.equal(res.headers.get("x-verge-error"), null, "an origin cannot forge the node's error header");
  assert.equal(res.headers.get("via"), "1.1 edge-test (verge)");
  await edge.close();
});

test("the viewer's validators stay at the cache; a stale entry is revalidated with the cache's own, which origin-request sees", async () => {
  let clock = 0;
  const edge = createTestEdge(runtime, {}, () => clock);
  const digest = edge.state.addVersion("seer", lambda(`cf.request.headers["x-inm"] = [{ value: String(cf.request.headers["if-none-match"]?.[0]?.value) }]; return cf.request;`));
  edge.state.putDistribution(testDistribution({ originUrl: origin.url, functions: { "origin-request": { function: "seer", version: digest, includeBody: false } } }));
  const before = origin.seen.length;
  const first = await edge.request("/etag", { headers: { "if-none-match": '"other"' } });
  assert.equal(first.headers.get("x-verge-cache"), "Miss");
  assert.equal(await first.text(), "tagged");
  assert.equal(origin.seen[before]!.headers["if-none-match"], undefined);
  assert.equal(origin.seen[before]!.headers["x-inm"], "undefined");
  clock += 2_000;
  const second = await edge.request("/etag");
  assert.equal(second.headers.get("x-verge-cache"), "RefreshHit");
  assert.equal(await second.text(), "tagged");
  assert.equal(origin.seen[before + 1]!.headers["x-inm"], '"v1"');
  await edge.close();
});

test("compressed origin bodies pass through as sent", async () => {
  const edge = createTestEdge(runtime);
  edge.state.putDistribution(testDistribution({ originUrl: origin.url }));
  const res = await edge.request("/gzip", { headers: { "accept-encoding": "gzip" } });
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), gzipSync("zipped"));
  await edge.close();
});

test("bodies stream: the viewer reads the first chunk before the origin has finished, the origin reads the first request chunk before the viewer has sent the rest", async () => {
  let finishResponse!: () => void;
  let firstRequestChunk = "";
  const streaming = http.createServer((req, res) => {
    if (req.method === "POST") {
      req.once("data", (c: Buffer) => (firstRequestChunk = c.toString()));
      req.resume();
      req.on("end", () => res.end("got all"));
      return;
    }
    res.writeHead(200, { "cache-control": "no-store" });
    res.write("first;");
    finishResponse = () => res.end("last");
  });
  await new Promise<void>((r) => streaming.listen(0, r));
  const edge = createTestEdge(runtime);
  edge.state.putDistribution(testDistribution({ originUrl: `http://localhost:${(streaming.address() as AddressInfo).port}` }));

  const res = await edge.request("/stream");
  const reader = res.body!.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "first;");
  finishResponse();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  assert.equal(rest, "last");

  let push!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
  push.enqueue(new TextEncoder().encode("part1"));
  const pending = edge.request("/upload", { method: "POST", body });
  await until(() => firstRequestChunk !== "");
  assert.equal(firstRequestChunk, "part1");
  push.enqueue(new TextEncoder().encode("part2"));
  push.close();
  assert.equal(await (await pending).text(), "got all");
  await edge.close();
  streaming.closeAllConnections();
  await new Promise<void>((r) => streaming.close(() => r()));
});

test("framing: a body longer than Content-Length is cut; one that ends short fails the stream", async () => {
  const long = enforceContentLength(new Response("0123456789", { headers: { "content-length": "4" } }));
  assert.equal(await long.text(), "0123");
  const short = enforceContentLength(new Response("01", { headers: { "content-length": "4" } }));
  await assert.rejects(short.text(), /ended after 2 of 4 bytes/);
  assert.throws(() => enforceContentLength(new Response("x", { headers: { "content-length": "1, 2" } })), { code: "ERR_ORIGIN_RESPONSE_INVALID" });

  // The same through the pipeline with an injected fetchOrigin.
  const edge = createTestEdge(runtime, { fetchOrigin: async () => new Response("abcdefgh", { headers: { "content-length": "3", "cache-control": "no-store" } }) });
  edge.state.putDistribution(testDistribution({ originUrl: "http://injected.test" }));
  assert.equal(await (await edge.request("/")).text(), "abc");
  await edge.close();
});

/** Whether this machine reaches the test origin over IPv6 loopback. */
function reachesIpv6(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "::1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

test("an origin configured by IP address is shown to origin-request functions as it is, and stays the operator's when returned", async (t) => {
  const hosts = ["127.0.0.1"];
  if (await reachesIpv6(origin.port)) hosts.push("[::1]");
  else t.diagnostic("no IPv6 loopback here: [::1] not tried");
  for (const host of hosts) {
    const edge = createTestEdge(runtime, { allowPrivateOrigins: false });
    const digest = edge.state.addVersion("same", lambda(`cf.request.headers["x-domain"] = [{ value: cf.request.origin.custom.domainName }]; cf.request.origin.custom.path = "/under"; return cf.request;`));
    edge.state.putDistribution(testDistribution({ originUrl: `http://${host}:${origin.port}`, functions: { "origin-request": { function: "same", version: digest, includeBody: false } } }));
    const before = origin.seen.length;
    const res = await edge.request("/by-ip");
    assert.equal(res.status, 200, `${host}: a loopback address, yet configured by the operator`);
    assert.equal(await res.text(), "origin /under/by-ip");
    assert.equal(origin.seen[before]!.headers["x-domain"], host);
    await edge.close();
  }
});

test("an address an origin-request function introduces is an invalid result, even with private origins allowed", async () => {
  const edge = createTestEdge(runtime, { allowPrivateOrigins: true });
  const digest = edge.state.addVersion("moves", lambda(`cf.request.origin.custom.domainName = "127.0.0.2"; return cf.request;`));
  edge.state.putDistribution(testDistribution({ originUrl: `http://127.0.0.1:${origin.port}`, functions: { "origin-request": { function: "moves", version: digest, includeBody: false } } }));
  const res = await edge.request("/moved");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  await res.arrayBuffer();
  assert.match(String((await edge.logLine((l) => l["code"] === "ERR_INVALID_RESULT"))["message"]), /not an IPv4 address, found "127\.0\.0\.2"/);
  await edge.close();
});

test("a function cannot reach a private address spelled as a number", async () => {
  const edge = createTestEdge(runtime, { allowPrivateOrigins: false });
  const digest = edge.state.addVersion("sneaky", lambda(`cf.request.origin = { custom: { ...cf.request.origin.custom, domainName: "0x7f000001", port: ${origin.port} } }; return cf.request;`));
  edge.state.putDistribution(testDistribution({ originUrl: "http://unused.test", functions: { "origin-request": { function: "sneaky", version: digest, includeBody: false } } }));
  const res = await edge.request("/n");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
  await res.arrayBuffer();
  await edge.close();
});

test("an origin chosen by an origin-request function is refused at a private address unless the operator allows it", async () => {
  const code = lambda(`cf.request.origin = { custom: { ...cf.request.origin.custom, domainName: "localhost", port: ${origin.port} } }; return cf.request;`);
  for (const allow of [false, true]) {
    const edge = createTestEdge(runtime, { allowPrivateOrigins: allow });
    const digest = edge.state.addVersion("route", code);
    edge.state.putDistribution(testDistribution({ originUrl: "http://unused.test", functions: { "origin-request": { function: "route", version: digest, includeBody: false } } }));
    const res = await edge.request("/chosen");
    if (allow) assert.equal(await res.text(), "origin /chosen");
    else {
      assert.equal(res.status, 502);
      assert.equal(res.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
      await res.arrayBuffer();
    }
    await edge.close();
  }
});

test("another port on the configured origin's host is a function's choice: refused at a private address unless allowed", async (t) => {
  // A second server on the same loopback host stands for a service the operator never exposed.
  const inner = await startOrigin((req, res) => res.end(`inner ${req.url}`));
  t.after(() => inner.close());
  const code = lambda(`cf.request.origin = { custom: { ...cf.request.origin.custom, port: ${inner.port} } }; return cf.request;`);
  for (const allow of [false, true]) {
    const edge = createTestEdge(runtime, { allowPrivateOrigins: allow });
    const digest = edge.state.addVersion("port", code);
    edge.state.putDistribution(testDistribution({ originUrl: `http://127.0.0.1:${origin.port}`, functions: { "origin-request": { function: "port", version: digest, includeBody: false } } }));
    const res = await edge.request("/other-port");
    if (allow) assert.equal(await res.text(), "inner /other-port");
    else {
      assert.equal(res.status, 502, "the configured host, but not the configured port");
      assert.equal(res.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
      await res.arrayBuffer();
    }
    await edge.close();
  }
});

test("an origin host the operator allows by name is reachable at a private address, other names are still refused", async () => {
  const code = lambda(`cf.request.origin = { custom: { ...cf.request.origin.custom, domainName: "localhost", port: ${origin.port} } }; return cf.request;`);
  for (const allowed of [["LocalHost"], ["origin.internal"]]) {
    const edge = createTestEdge(runtime, { allowPrivateOrigins: false, allowOriginHosts: allowed });
    const digest = edge.state.addVersion("named", code);
    edge.state.putDistribution(testDistribution({ originUrl: "http://unused.test", functions: { "origin-request": { function: "named", version: digest, includeBody: false } } }));
    const res = await edge.request("/named");
    if (allowed[0] === "LocalHost") assert.equal(await res.text(), "origin /named", "allowed by name, in any case");
    else {
      assert.equal(res.status, 502, "another name is allowed, not this one");
      assert.equal(res.headers.get("x-verge-error"), "ERR_FETCH_BLOCKED");
      await res.arrayBuffer();
    }
    await edge.close();
  }
});

test("origin failures map to what the viewer is told, also when wrapped by fetch", () => {
  const url = "http://origin.test:8080/x";
  const err = (code: string, name = "Error") => Object.assign(new Error(code), { code, name });
  const cases: Array<[unknown, string]> = [
    [err("UND_ERR_CONNECT_TIMEOUT"), "ERR_ORIGIN_UNREACHABLE"],
    [err("ECONNREFUSED"), "ERR_ORIGIN_UNREACHABLE"],
    [err("ENOTFOUND"), "ERR_ORIGIN_UNREACHABLE"],
    [err("UND_ERR_HEADERS_TIMEOUT"), "ERR_ORIGIN_TIMEOUT"],
    [err("UND_ERR_BODY_TIMEOUT"), "ERR_ORIGIN_TIMEOUT"],
    [err("HPE_UNEXPECTED_CONTENT_LENGTH", "HTTPParserError"), "ERR_ORIGIN_RESPONSE_INVALID"],
    [Object.assign(new TypeError("fetch failed"), { cause: err("UND_ERR_HEADERS_TIMEOUT") }), "ERR_ORIGIN_TIMEOUT"],
    [new Error("something else"), "ERR_ORIGIN_UNREACHABLE"],
  ];
  for (const [input, code] of cases) {
    const mapped = originError(input, url);
    assert.equal(mapped.code, code, String((input as Error).message));
    assert.ok(!mapped.message.includes("/x"), "the message names the origin, not the path");
  }
});
