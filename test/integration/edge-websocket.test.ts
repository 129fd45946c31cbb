/**
 * WebSockets through an edge node: the handshake runs viewer-request and
 * origin-request (Lambda@Edge) like a request, a 101 from the origin joins the
 * two connections, anything else goes to the viewer as an answer. A Workers
 * handler's own WebSockets are in edge-websocket-workers.test.ts. The origin
 * here is a small WebSocket echo server written on node:http (RFC 6455 framing
 * for short text frames), the client is Node's own `WebSocket`.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { startFleet, lambda, type Fleet } from "../helpers/fleet.ts";

let fleet: Fleet;
let origin: Server;
let originUrl: string;
/** Handshakes the origin saw, newest last. */
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
const HOST = "127.0.0.1";

/** One unmasked text frame (server to client), payload under 126 bytes. */
const frame = (text: string) => Buffer.concat([Buffer.from([0x81, Buffer.byteLength(text)]), Buffer.from(text)]);

/** Echoes every short masked text frame back as `echo: <text>`; a close frame closes. */
function echo(socket: Duplex): void {
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 6) {
      const opcode = buffered[0]! & 0x0f;
      const length = buffered[1]! & 0x7f;
      if (buffered.length < 6 + length) return;
      const mask = buffered.subarray(2, 6);
      const payload = Buffer.from(buffered.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
      buffered = buffered.subarray(6 + length);
      if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0]));
      if (opcode === 0x1) socket.write(frame(`echo: ${payload.toString()}`));
    }
  });
  socket.on("error", () => socket.destroy());
}

before(async () => {
  origin = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    res.writeHead(200, { "content-type": "text/plain" }).end(`plain answer to ${req.headers.upgrade ?? "no upgrade"}`);
  });
  origin.on("upgrade", (req, socket: Duplex) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    socket.on("error", () => socket.destroy());
    if (req.url?.startsWith("/refused")) return void socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nnot for you\r\n");
    const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-origin: yes\r\n\r\n`);
    socket.write(frame("hello from the origin"));
    echo(socket);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", () => r()));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

  fleet = await startFleet({ nodes: 1 });
  await fleet.publish("guard", lambda(`
    const r = cf.request;
    if (!r.querystring.includes("token=ok")) return { status: "401", statusDescription: "Unauthorized", body: "token needed" };
    r.headers["x-user"] = [{ key: "X-User", value: "alice" }];
    return r;`));
  await fleet.publish("oreq", lambda(`cf.request.headers["x-oreq"] = [{ key: "X-Oreq", value: "ran" }]; return cf.request;`));
  await fleet.publish("worker", `export default { fetch: (request) => fetch(request) };\n`);
  const fn = (name: string) => ({ function: name, alias: "live", includeBody: false });
  const seq = await fleet.distribution("live", {
    hostnames: [HOST],
    origins: [{ id: "web", url: originUrl, connectTimeoutMs: 1000, readTimeoutMs: 1000 }, { id: "down", url: "http://127.0.0.1:9", connectTimeoutMs: 500, readTimeoutMs: 500 }],
    behaviors: [
      { pathPattern: "/private/*", originId: "web", functions: { "viewer-request": fn("guard"), "origin-request": fn("oreq") } },
      { pathPattern: "/worker/*", originId: "web", functions: { "viewer-request": fn("worker") } },
      { pathPattern: "/worker-oreq/*", originId: "web", functions: { "origin-request": fn("worker") } },
      { pathPattern: "/down/*", originId: "down", functions: {} },
    ],
    defaultBehavior: { originId: "web", functions: {} },
  });
  await fleet.waitApplied(seq);
});

after(async () => {
  await fleet?.close();
  origin?.closeAllConnections();
  await new Promise((r) => origin?.close(r));
});

/** Opens a WebSocket to the node, collects messages until `count` arrived, sends `send` after the first. */
function talk(path: string, send: string[], count: number): Promise<{ messages: string[]; protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${fleet.nodes[0]!.url.replace("http:", "ws:")}${path}`);
    const messages: string[] = [];
    const timer = setTimeout(() => reject(new Error(`no ${count} messages on ${path}: ${JSON.stringify(messages)}`)), 5000);
    ws.addEventListener("message", (e) => {
      messages.push(String(e.data));
      if (messages.length === 1) for (const s of send) ws.send(s);
      if (messages.length === count) {
        clearTimeout(timer);
        ws.close();
        resolve({ messages, protocol: ws.protocol });
      }
    });
    ws.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error(`WebSocket to ${path} failed`));
    });
  });
}

/** The node's answer to a raw handshake: a 101 (and its headers) or the status, headers and body it sent instead. */
function handshake(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { port } = new URL(fleet.nodes[0]!.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13", ...headers } });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a WebSocket goes through to the origin and back: messages both ways; the origin sees the handshake, X-Forwarded-For and Via", async () => {
  const { messages } = await talk("/chat?room=1", ["one", "two"], 3);
  assert.deepEqual(messages, ["hello from the origin", "echo: one", "echo: two"]);
  const sent = seen.at(-1)!;
  assert.equal(sent.url, "/chat?room=1");
  assert.equal(sent.headers.upgrade, "websocket");
  assert.match(String(sent.headers["sec-websocket-key"]), /==$/);
  assert.equal(sent.headers["sec-websocket-version"], "13");
  assert.equal(sent.headers.host, new URL(originUrl).host);
  assert.equal(sent.headers["x-forwarded-for"], "127.0.0.1");
  assert.match(String(sent.headers.via), /verge/);
  const raw = await handshake("/chat");
  assert.equal(raw.status, 101);
  assert.equal(raw.headers["x-origin"], "yes");
  assert.match(String(raw.headers["x-verge-request-id"]), /==$/);
  assert.match(String(raw.headers.via), /verge/);
  // Each handshake is a request in the node's records.
  const metrics = await (await fetch(`${fleet.nodes[0]!.url}/_verge/metrics`)).text();
  assert.match(metrics, /verge_requests_total\{[^}]*status="101"[^}]*\} [2-9]/);
});

test("viewer-request guards the handshake: its generated response refuses the WebSocket; its request goes on, through origin-request", async () => {
  const refused = await handshake("/private/feed");
  assert.equal(refused.status, 401);
  assert.equal(refused.body, "token needed");
  const before = seen.length;
  await assert.rejects(talk("/private/feed", [], 1));
  assert.equal(seen.length, before, "a refused handshake never reaches the origin");
  const { messages } = await talk("/private/feed?token=ok", ["hi"], 2);
  assert.deepEqual(messages, ["hello from the origin", "echo: hi"]);
  assert.equal(seen.at(-1)!.headers["x-user"], "alice");
  assert.equal(seen.at(-1)!.headers["x-oreq"], "ran");
});

test("a Workers handler at viewer-request that fetches the handshake passes it through to the origin", async () => {
  const { messages } = await talk("/worker/chat", ["through the worker"], 2);
  assert.deepEqual(messages, ["hello from the origin", "echo: through the worker"]);
  assert.equal(seen.at(-1)!.url, "/worker/chat");
  assert.equal(seen.at(-1)!.headers.upgrade, "websocket");
});

test("the origin's refusal, an unreachable origin and a Workers handler at origin-request are answers, never a tunnel", async () => {
  const refused = await handshake("/refused");
  assert.deepEqual([refused.status, refused.body], [403, "not for you\r\n"]);
  const down = await handshake("/down/x");
  assert.equal(down.status, 502);
  assert.equal(down.headers["x-verge-error"], "ERR_ORIGIN_UNREACHABLE");
  const worker = await handshake("/worker-oreq/x");
  assert.equal(worker.status, 501);
  assert.equal(worker.headers["x-verge-error"], "ERR_UPGRADE_UNSUPPORTED");
  const statusOf = (method: string, host: string) =>
    new Promise<number>((resolve, reject) => {
      const { port } = new URL(fleet.nodes[0]!.url);
      const req = httpRequest({ host: "127.0.0.1", port, method, path: "/chat", headers: { host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
      req.on("response", (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.on("upgrade", () => reject(new Error("upgraded")));
      req.on("error", reject);
      req.end();
    });
  assert.equal(await statusOf("GET", "nobody.test"), 404, "no distribution for the host");
  assert.equal(await statusOf("POST", HOST), 400, "a handshake is a GET");
});

test("another Upgrade (h2c) is an ordinary request: the node answers it, without switching", async () => {
  const { port } = new URL(fleet.nodes[0]!.url);
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/plain", headers: { connection: "Upgrade, HTTP2-Settings", upgrade: "h2c", "http2-settings": "" } });
    req.on("response", (r) => {
      let body = "";
      r.on("data", (c: Buffer) => (body += c.toString()));
      r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on("upgrade", () => reject(new Error("upgraded")));
    req.on("error", reject);
    req.end();
  });
  assert.deepEqual(res, { status: 200, body: "plain answer to no upgrade" });
});

test("/_verge/metrics counts the WebSockets open through the node", async () => {
  const open = () => fetch(`${fleet.nodes[0]!.url}/_verge/metrics`).then((r) => r.text()).then((t) => Number(/verge_websockets_open\{[^}]*\} (\d+)/.exec(t)?.[1]));
  const settled = async (n: number) => {
    for (let i = 0; i < 100 && (await open()) !== n; i++) await new Promise((r) => setTimeout(r, 20));
    return open();
  };
  // The tunnels of the tests before close as their close handshakes finish.
  assert.equal(await settled(0), 0);
  const ws = new WebSocket(`${fleet.nodes[0]!.url.replace("http:", "ws:")}/chat`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("message", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  assert.equal(await open(), 1);
  ws.close();
  assert.equal(await settled(0), 0);
});

test("/_verge/metrics shows what the node sent for verge logs", async () => {
  // The guard function ran on /private/feed: that request is an event the node sends.
  const sent = async () => Number(/verge_log_events_sent\{[^}]*\} (\d+)/.exec(await (await fetch(`${fleet.nodes[0]!.url}/_verge/metrics`)).text())?.[1]);
  for (let i = 0; i < 100 && !((await sent()) > 0); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok((await sent()) > 0);
  const metrics = await (await fetch(`${fleet.nodes[0]!.url}/_verge/metrics`)).text();
  assert.match(metrics, /verge_log_events_dropped\{[^}]*\} 0/);
});
