/**
 * The node's own listener (listener.ts): a plain GET or HEAD goes to the pipeline
 * from Node's request and its answer is written with the status, headers, body
 * and record the Hono app gives; other requests reach the app. Two servers over
 * one pipeline and one real LMDB cache: with the listener, and the app alone.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type RequestListener, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { createHostServices, createRuntime, type Runtime } from "../src/runtime/index.ts";
import { testDistribution } from "../src/pipeline/testing.ts";
import { createTestEdge, lambda, startOrigin, until, type TestEdge, type TestOrigin } from "../src/pipeline/testing-edge.ts";
import { createEdgeApp } from "./app.ts";
import { setup } from "./cache/test-support.ts";
import { createEdgeListener } from "./listener.ts";

const BINARY = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
const BIG = Buffer.alloc(40 * 1024, "b");

let runtime: Runtime;
let origin: TestOrigin;
before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((req, res) => {
    const path = new URL(req.url ?? "/", "http://o").pathname;
    const cached = { "cache-control": "max-age=600", "x-origin": "yes", etag: '"e1"' };
    if (path === "/bin") res.writeHead(200, { ...cached, "content-type": "application/octet-stream" }).end(BINARY);
    else if (path === "/big") res.writeHead(200, cached).end(BIG);
    else if (path === "/sized") res.writeHead(200, { ...cached, "content-length": "5" }).end("sized");
    else if (path === "/empty") res.writeHead(204, cached).end();
    else res.writeHead(200, { ...cached, "content-type": "text/plain; charset=utf-8" }).end(`origin says ${req.url} é`);
  });
});
after(async () => {
  await origin.close();
  runtime.dispose();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Servers {
  edge: TestEdge;
  /** Requests the listener passed on to the app. */
  passed: string[];
  fast: string;
  plain: string;
}

async function listen(listener: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function start(t: import("node:test").TestContext): Promise<Servers> {
  const cache = setup(t).cache;
  const edge = createTestEdge(runtime, { cache });
  const digest = edge.state.addVersion("vreq", lambda(`cf.request.headers["x-vreq"] = [{ key: "x-vreq", value: "1" }]; return cf.request;`));
  edge.state.putDistribution(
    testDistribution({ originUrl: origin.url, behaviors: [{ pathPattern: "/fn/*", functions: { "viewer-request": { function: "vreq", version: digest, includeBody: false } } }] }),
  );
  const app = createEdgeApp({ pipeline: edge.pipeline, health: () => ({ ok: true }) as never, metrics: async () => "" });
  const passed: string[] = [];
  const fast = await listen(createEdgeListener(edge.pipeline, (request, env) => (passed.push(`${request.method} ${env.incoming.url}`), app.fetch(request, env))).listener);
  const plain = await listen(getRequestListener(app.fetch));
  t.after(async () => {
    for (const s of [fast.server, plain.server]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await edge.close();
  });
  return { edge, passed, fast: fast.url, plain: plain.url };
}

function send(base: string, path: string, init: { method?: string; host?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = httpRequest({ hostname, port, path, method: init.method ?? "GET", setHost: false, headers: { host: init.host ?? "site.test", ...init.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Asks the app for `path` until its answer comes from the cache (an entry is stored once the fill's body was read). */
async function stored(s: Servers, path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const reply = await send(s.plain, path);
    if (reply.headers["x-verge-cache"] === "Hit") return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${path} was not stored`);
}

/** The headers two answers must share: all but those of one request (its id, and the connection's own). */
function stable(headers: Reply["headers"]): Record<string, unknown> {
  const { "x-verge-request-id": _id, connection: _c, "keep-alive": _k, date: _d, ...rest } = headers;
  return rest;
}

test("a fresh hit is written by the listener: the body byte for byte, the headers and status the app gives, Content-Length, a new request id", async (t) => {
  const s = await start(t);
  for (const path of ["/page?q=1", "/bin", "/big", "/sized"]) {
    const miss = await send(s.fast, path);
    assert.equal(miss.headers["x-verge-cache"], "Miss", path);
    await stored(s, path);
    const hit = await send(s.fast, path);
    const viaApp = await send(s.plain, path);
    assert.equal(hit.status, 200);
    assert.equal(hit.headers["x-verge-cache"], "Hit");
    assert.deepEqual(hit.body, viaApp.body, path);
    assert.deepEqual(stable(hit.headers), stable(viaApp.headers), path);
    assert.equal(hit.headers["content-length"], String(hit.body.byteLength));
    assert.notEqual(hit.headers["x-verge-request-id"], viaApp.headers["x-verge-request-id"]);
    assert.match(String(hit.headers["x-verge-request-id"]), /^[\w-]{54}==$/);
  }
  assert.deepEqual((await send(s.fast, "/bin")).body, BINARY, "binary bytes unchanged");
  assert.equal((await send(s.fast, "/page?q=1")).body.toString("utf8"), "origin says /page?q=1 é");

  const head = await send(s.fast, "/bin", { method: "HEAD" });
  const headViaApp = await send(s.plain, "/bin", { method: "HEAD" });
  assert.equal(head.body.byteLength, 0);
  assert.deepEqual(stable(head.headers), stable(headViaApp.headers));
  assert.deepEqual(s.passed, [], "no request reached the app");
});

test("each immediate hit leaves one record, as the app's hits do", async (t) => {
  const s = await start(t);
  await stored(s, "/bin");
  const hit = await send(s.fast, "/bin");
  const head = await send(s.fast, "/bin", { method: "HEAD" });
  const recordOf = async (reply: Reply) => {
    const id = reply.headers["x-verge-request-id"];
    await until(() => s.edge.records.some((r) => r.requestId === id));
    return s.edge.records.filter((r) => r.requestId === id);
  };
  const [record, ...more] = await recordOf(hit);
  assert.equal(more.length, 0, "one record");
  assert.equal(record!.status, 200);
  assert.equal(record!.cache, "Hit");
  assert.equal(record!.bytesOut, BINARY.byteLength);
  assert.equal(record!.distribution, "acme/site");
  assert.equal(record!.host, "site.test");
  assert.equal(record!.path, "/bin");
  assert.equal(record!.method, "GET");
  assert.deepEqual(record!.invocations, []);
  const [headRecord] = await recordOf(head);
  assert.equal(headRecord!.bytesOut, 0);
  assert.equal(headRecord!.method, "HEAD");
});

test("other answers of the pipeline (a function's, a 204, a viewer's 304, an error) are the app's answers; a streamed one too", async (t) => {
  const s = await start(t);
  for (const path of ["/fn/a", "/empty", "/page"]) await stored(s, path);
  const cases: Array<[string, string, Parameters<typeof send>[2]]> = [
    ["a viewer-request function, then a hit", "/fn/a", {}],
    ["a stored 204", "/empty", {}],
    ["a viewer's conditional request", "/page", { headers: { "if-none-match": '"e1"' } }],
    ["an unknown host", "/page", { host: "nobody.test" }],
    ["HEAD of a hit behind a function", "/fn/a", { method: "HEAD" }],
    ["a byte range of a hit", "/page", { headers: { range: "bytes=2-5" } }],
  ];
  for (const [what, path, init] of cases) {
    const reply = await send(s.fast, path, init);
    const viaApp = await send(s.plain, path, init);
    assert.equal(reply.status, viaApp.status, what);
    assert.deepEqual(stable(reply.headers), stable(viaApp.headers), what);
    // An error's body names its request.
    const own = (r: Reply) => r.body.toString("latin1").replace(String(r.headers["x-verge-request-id"]), "<id>");
    assert.equal(own(reply), own(viaApp), what);
  }
  assert.equal((await send(s.fast, "/page", { headers: { "if-none-match": '"e1"' } })).status, 304);
  const ranged = await send(s.fast, "/page", { headers: { range: "bytes=2-5" } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.body.toString("latin1"), "igin");
  assert.equal(origin.seen.filter((r) => r.url === "/fn/a").at(-1)?.headers["x-vreq"], "1");
  // Misses: the origin's body is streamed through (the adapter writes it).
  const miss = await send(s.fast, "/big?fresh=1");
  assert.equal(miss.headers["x-verge-cache"], "Miss");
  assert.deepEqual(miss.body, BIG);
  const small = await send(s.fast, "/fresh?x=1");
  assert.equal(small.headers["x-verge-cache"], "Miss");
  assert.equal(small.body.toString("utf8"), "origin says /fresh?x=1 é");
  assert.deepEqual(s.passed, [], "none of these reached the app");
});

test("other methods, the operator's routes and URLs the adapter normalises go through the app", async (t) => {
  const s = await start(t);
  await stored(s, "/page");
  const cases: Array<[string, string, Parameters<typeof send>[2]]> = [
    ["POST", "/page", { method: "POST" }],
    ["a Host in capitals", "/page", { host: "SITE.test" }],
    ["a percent-encoded dot segment", "/x/%2e%2e/page", {}],
    ["the operator's health route", "/_verge/health", {}],
  ];
  for (const [what, path, init] of cases) {
    const before = s.passed.length;
    const reply = await send(s.fast, path, init);
    assert.equal(s.passed.length, before + 1, `${what}: through the app`);
    const viaApp = await send(s.plain, path, init);
    assert.equal(reply.status, viaApp.status, what);
    assert.deepEqual(stable(reply.headers), stable(viaApp.headers), what);
  }
  assert.equal((await send(s.fast, "/x/%2e%2e/page")).headers["x-verge-cache"], "Hit", "normalised to /page by the adapter");
});

test("a request with two Host lines is refused by the app, not answered from the cache", async (t) => {
  const s = await start(t);
  await stored(s, "/page");
  const { port } = new URL(s.fast);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.end("GET /page HTTP/1.1\r\nHost: site.test\r\nHost: other.test\r\nConnection: close\r\n\r\n"));
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.match(raw, /x-verge-error: ERR_BAD_REQUEST/i);
});
