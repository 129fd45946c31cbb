/**
 * A Workers handler's WebSockets on a real edge node, over HTTP on 127.0.0.1:
 * its own WebSocketPair relayed frame by frame (echo, close both ways, the
 * Worker's 101 headers and subprotocol, 1009 over 1 MiB), auth then pass-through
 * to an origin, and hostile handlers (one spinning in a message handler, one
 * flooding a viewer that does not read) that cost their own connection only.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { WebSocketServer } from "ws";
import { startFleet, type Fleet } from "../helpers/fleet.ts";

let fleet: Fleet;
let originPort = 0;
let origin: WebSocketServer;
const HOST = "127.0.0.1";

const ECHO = `
export default { async fetch(req) {
  if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  let onClose = "same";
  server.addEventListener("message", (ev) => {
    if (ev.data === "spin") for (;;);
    if (ev.data === "answer-mine" || ev.data === "answer-none" || ev.data === "answer-late") return void (onClose = ev.data);
    if (ev.data === "flood") { const mib = "f".repeat(1024 * 1024); for (let i = 0; i < 12; i++) server.send(mib); return; }
    if (ev.data === "bye") return server.close(4000, "as asked");
    server.send(typeof ev.data === "string" ? "echo:" + ev.data : new Uint8Array(ev.data).reverse());
  });
  server.addEventListener("close", (ev) => {
    console.log("closed", ev.code);
    if (onClose === "answer-mine") return server.close(4201, "mine, not " + ev.code + " " + ev.reason);
    if (onClose === "answer-none") return;
    if (onClose === "answer-late") return void setTimeout(() => server.close(4202, "later"), 50);
    server.close(ev.code === 1005 ? 1000 : ev.code, "bye");
  });
  return new Response(null, { status: 101, webSocket: client, headers: { "x-made-by": "worker", "sec-websocket-protocol": "chat" } });
} };`;

const AUTH = `
export default { async fetch(req) {
  if (new URL(req.url).searchParams.get("token") !== "ok") return new Response("token needed", { status: 401 });
  return fetch(req);
} };`;

/** Opens the origin's connection through fetch(), then fails instead of returning it. */
const OPENS_THEN_THROWS = `
export default { async fetch(req) {
  await fetch(req);
  throw new Error("changed my mind");
} };`;

/** Outbound WebSockets to the origin's server by another name (localhost: not this distribution's host). */
const OUTBOUND = `
export default { async fetch(req, env) {
  const u = new URL(req.url);
  const port = u.searchParams.get("port");
  if (u.pathname.startsWith("/proxy/")) return fetch("http://localhost:" + port + "/proxied", { headers: { Upgrade: "websocket" } });
  const ws = new WebSocket("ws://localhost:" + port + "/outbound");
  const seen = [];
  const next = () => new Promise((r) => ws.addEventListener("message", (e) => r(e.data), { once: true }));
  let got = next();
  await new Promise((r) => ws.addEventListener("open", r));
  seen.push(await got);
  got = next();
  ws.send("from the worker");
  seen.push(await got);
  ws.close(4300, "done");
  return new Response(seen.join("|"));
} };`;

/** Origin connections by path, to see which the node closed. */
const originConnections = new Map<string, import("ws").WebSocket>();

before(async () => {
  origin = new WebSocketServer({ host: HOST, port: 0 });
  origin.on("connection", (ws, req) => {
    originConnections.set(req.url ?? "", ws);
    ws.send(`origin saw ${req.url}`);
    ws.on("message", (data) => ws.send(`origin echo: ${String(data)}`));
  });
  await new Promise((resolve) => origin.once("listening", resolve));
  const port = (origin.address() as { port: number }).port;
  originPort = port;
  fleet = await startFleet({ nodes: 1 });
  await fleet.publish("echo", ECHO, { cpuMs: 200 });
  await fleet.publish("auth", AUTH);
  await fleet.publish("throws", OPENS_THEN_THROWS);
  await fleet.publish("outbound", OUTBOUND);
  const fn = (name: string) => ({ function: name, alias: "live", includeBody: false });
  const seq = await fleet.distribution("live", {
    hostnames: [HOST],
    origins: [{ id: "ws", url: `http://${HOST}:${port}`, connectTimeoutMs: 1000, readTimeoutMs: 1000 }, { id: "down", url: "http://127.0.0.1:9", connectTimeoutMs: 500, readTimeoutMs: 500 }],
    behaviors: [
      { pathPattern: "/pass/*", originId: "ws", functions: { "viewer-request": fn("auth") } },
      { pathPattern: "/pass-down/*", originId: "down", functions: { "viewer-request": fn("auth") } },
      { pathPattern: "/opens-then-throws/*", originId: "ws", functions: { "viewer-request": fn("throws") } },
      { pathPattern: "/outbound/*", originId: "ws", functions: { "viewer-request": fn("outbound") } },
      { pathPattern: "/proxy/*", originId: "ws", functions: { "viewer-request": fn("outbound") } },
    ],
    defaultBehavior: { originId: "ws", functions: { "viewer-request": fn("echo") } },
  });
  await fleet.waitApplied(seq);
});

after(async () => {
  await fleet?.close();
  for (const c of origin?.clients ?? []) c.terminate();
  await new Promise((resolve) => origin?.close(resolve));
});

const wsUrl = (path: string) => `${fleet.nodes[0]!.url.replace("http:", "ws:")}${path}`;

interface Client {
  ws: WebSocket;
  messages: unknown[];
  closed: Promise<CloseEvent>;
  next(): Promise<unknown>;
}

async function open(path: string, protocols?: string[]): Promise<Client> {
  const ws = new WebSocket(wsUrl(path), protocols);
  ws.binaryType = "arraybuffer";
  const messages: unknown[] = [];
  const waiting: Array<() => void> = [];
  let taken = 0;
  ws.addEventListener("message", (e) => {
    messages.push(e.data);
    waiting.splice(0).forEach((w) => w());
  });
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`WebSocket to ${path} failed`)), { once: true });
  });
  const next = async (): Promise<unknown> => {
    while (taken >= messages.length) await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), closed.then(() => Promise.reject(new Error(`closed before message ${taken + 1}: ${JSON.stringify(messages)}`)))]);
    return messages[taken++];
  };
  return { ws, messages, closed, next };
}

/** What the node answers a raw handshake it does not upgrade (the connection then closes). */
function rawHandshake(path: string): Promise<string> {
  const { port } = new URL(fleet.nodes[0]!.url);
  return new Promise<string>((resolve, reject) => {
    const s = connect(Number(port), HOST, () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    let text = "";
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
}

const metric = async (name: string) => Number(new RegExp(`${name}\\{[^}]*\\} (\\d+)`).exec(await (await fetch(`${fleet.nodes[0]!.url}/_verge/metrics`)).text())?.[1]);
async function openSockets(n: number): Promise<number> {
  for (let i = 0; i < 100 && (await metric("verge_websockets_open")) !== n; i++) await new Promise((r) => setTimeout(r, 20));
  return metric("verge_websockets_open");
}

test("the Worker's WebSocket: echo both ways (text and bytes), its subprotocol, and a close the viewer starts", async () => {
  const c = await open("/chat", ["other", "chat"]);
  assert.equal(c.ws.protocol, "chat");
  c.ws.send("hi");
  assert.equal(await c.next(), "echo:hi");
  c.ws.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual([...new Uint8Array((await c.next()) as ArrayBuffer)], [3, 2, 1]);
  assert.equal(await openSockets(1), 1);
  c.ws.close(4100, "leaving");
  const ev = await c.closed;
  // The function's answer to the viewer's close (its own reason) is what the viewer gets, as from workerd.
  assert.deepEqual([ev.code, ev.reason], [4100, "bye"]);
  assert.equal(await openSockets(0), 0);
});

test("a viewer's close: the code and reason the function closes with reach the viewer; without one, its own come back", async () => {
  const mine = await open("/close-mine");
  mine.ws.send("answer-mine");
  mine.ws.close(4100, "leaving");
  const a = await mine.closed;
  assert.deepEqual([a.code, a.reason], [4201, "mine, not 4100 leaving"]);
  // A close the function makes in a timer after the close event is too late: the runtime's automatic reply went first.
  const late = await open("/close-late");
  late.ws.send("answer-late");
  late.ws.close(4101, "going");
  const b = await late.closed;
  assert.deepEqual([b.code, b.reason], [4101, "going"]);
  const none = await open("/close-none");
  none.ws.send("answer-none");
  none.ws.close(4102, "gone");
  const c = await none.closed;
  assert.deepEqual([c.code, c.reason], [4102, "gone"]);
  const empty = await open("/close-empty");
  empty.ws.close();
  const d = await empty.closed;
  assert.deepEqual([d.code, d.reason], [1000, "bye"]);
  assert.equal(await openSockets(0), 0);
});

test("the 101 carries the Worker's headers with the node's; a close the Worker starts reaches the viewer", async () => {
  const { port } = new URL(fleet.nodes[0]!.url);
  const head = await new Promise<string>((resolve, reject) => {
    const s = connect(Number(port), HOST, () => s.write(`GET /x HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    let text = "";
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (text.includes("\r\n\r\n")) (s.destroy(), resolve(text));
    });
    s.on("error", reject);
  });
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nx-made-by: worker\r\n/i);
  assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  assert.match(head, /\r\nx-verge-request-id: /i);
  assert.match(head, /\r\nvia: .*verge/i);
  const c = await open("/bye");
  c.ws.send("bye");
  const ev = await c.closed;
  assert.deepEqual([ev.code, ev.reason], [4000, "as asked"]);
});

test("a viewer message over 1 MiB closes the connection with 1009", async () => {
  const c = await open("/big");
  c.ws.send("x".repeat(1024 * 1024 + 1));
  const ev = await c.closed;
  assert.equal(ev.code, 1009);
});

test("auth, then fetch(request): refused without a token, passed through to the origin with one (an unreachable one answers 502)", async () => {
  // A raw handshake (fetch() will not send an Upgrade header) shows the answer.
  const status = await rawHandshake("/pass/feed");
  assert.match(status, /^HTTP\/1\.1 401 /);
  assert.match(status, /token needed$/);
  const down = await rawHandshake("/pass-down/feed?token=ok");
  assert.match(down, /^HTTP\/1\.1 502 /);
  assert.match(down, /\r\nx-verge-error: ERR_ORIGIN_UNREACHABLE\r\n/i);
  const c = await open("/pass/feed?token=ok");
  assert.equal(await c.next(), "origin saw /pass/feed?token=ok");
  c.ws.send("through");
  assert.equal(await c.next(), "origin echo: through");
  c.ws.close();
  await c.closed;
});

test("a handler that fetched the origin's WebSocket and then threw: the viewer gets an error and the origin's connection is closed", async () => {
  const answer = await rawHandshake("/opens-then-throws/feed");
  assert.match(answer, /^HTTP\/1\.1 5\d\d /);
  const originSide = originConnections.get("/opens-then-throws/feed");
  assert.ok(originSide !== undefined, "the function's fetch() reached the origin");
  if (originSide.readyState !== originSide.CLOSED) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise((resolve) => originSide.once("close", resolve)),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the origin connection the function opened stayed open")), 10_000))),
    ]);
    clearTimeout(timer);
  }
});

test("a handler that spins in a message handler loses its connection (1006); the node serves the next one", async () => {
  const c = await open("/spin");
  c.ws.send("spin");
  const ev = await c.closed;
  assert.equal(ev.code, 1006);
  const d = await open("/after-spin");
  d.ws.send("still");
  assert.equal(await d.next(), "echo:still");
  d.ws.close();
  await d.closed;
  const page = await fetch(`${fleet.nodes[0]!.url}/plain`);
  assert.equal(page.status, 426);
  assert.equal(await page.text(), "expected websocket");
  assert.equal(await openSockets(0), 0);
});

test("a handler that floods a viewer that does not read loses that connection only", async () => {
  const { port } = new URL(fleet.nodes[0]!.url);
  // A viewer that sends three masked text frames ("flood": 12 MiB back each) and does not read.
  const s: Socket = await new Promise((resolve, reject) => {
    const sock = connect(Number(port), HOST, () => {
      sock.write(`GET /flood HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      const mask = [1, 2, 3, 4];
      const payload = Buffer.from("flood").map((b, i) => b ^ mask[i % 4]!);
      const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 5, ...mask]), payload]);
      sock.write(Buffer.concat([frame, frame, frame]));
      sock.pause();
      resolve(sock);
    });
    sock.on("error", reject);
  });
  const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
  // The same isolate's budget is per connection: another viewer is served meanwhile.
  const other = await open("/meanwhile");
  other.ws.send("ok?");
  assert.equal(await other.next(), "echo:ok?");
  other.ws.close();
  await other.closed;
  // The node drops the flooded connection once more than 16 MiB wait for it (kernel buffers hold some first).
  s.resume();
  s.on("data", () => {});
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the flooded connection was not dropped")), 15_000)))]);
  clearTimeout(timer);
  assert.equal(await openSockets(0), 0);
});

test("outbound WebSockets on an edge node: new WebSocket() from a request's handler, and a fetched socket returned to the viewer", async () => {
  const res = await fetch(`${fleet.nodes[0]!.url}/outbound/x?port=${originPort}`, { headers: { host: HOST } });
  assert.equal(await res.text(), "origin saw /outbound|origin echo: from the worker");
  const c = await open(`/proxy/feed?port=${originPort}`);
  assert.equal(await c.next(), "origin saw /proxied");
  c.ws.send("through the worker");
  assert.equal(await c.next(), "origin echo: through the worker");
  const originSide = originConnections.get("/proxied")!;
  const originClosed = new Promise<number>((resolve) => originSide.once("close", (code) => resolve(code)));
  c.ws.close(4100, "viewer done");
  assert.equal(await originClosed, 4100);
  await c.closed;
  assert.equal(await openSockets(0), 0);
});
