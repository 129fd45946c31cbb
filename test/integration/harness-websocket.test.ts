/**
 * The harness's `dispatchFetch` with a Worker that accepts WebSockets, used as
 * Miniflare tests use it: `res.webSocket.accept()`, `send`, events, close both ways.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Verge } from "../../src/index.ts";
import type { VergeWebSocket } from "../../src/index.ts";

const ECHO = `
export default { async fetch(req) {
  if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.addEventListener("message", (ev) => {
    if (ev.data === "spin") for (;;);
    if (ev.data === "bye") return server.close(4000, "as asked");
    server.send(\`echo:\${typeof ev.data === "string" ? ev.data : "bytes " + ev.data.byteLength}\`);
  });
  server.addEventListener("close", (ev) => server.close(ev.code, "bye"));
  return new Response(null, { status: 101, webSocket: client });
} };`;

const verge = new Verge({ modules: true, script: ECHO, limits: { cpuMs: 50 } });
after(() => verge.dispose());

interface Seen {
  messages: unknown[];
  closed: Promise<CloseEvent>;
  next(): Promise<unknown>;
}

function watch(ws: VergeWebSocket): Seen {
  const messages: unknown[] = [];
  const waiting: Array<(v: unknown) => void> = [];
  ws.addEventListener("message", (e) => {
    const data = (e as MessageEvent).data;
    messages.push(data);
    waiting.shift()?.(data);
  });
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", (e) => resolve(e as CloseEvent)));
  let taken = 0;
  return {
    messages,
    closed,
    next: () => (taken < messages.length ? Promise.resolve(messages[taken++]) : new Promise((resolve) => waiting.push((v) => (taken++, resolve(v))))),
  };
}

async function connect(path = "/"): Promise<{ res: Response; ws: VergeWebSocket }> {
  const res = await verge.dispatchFetch(`http://localhost${path}`, { headers: { Upgrade: "websocket" } });
  const ws = (res as Response & { webSocket: VergeWebSocket | null }).webSocket;
  assert.ok(ws, "the response has a webSocket");
  return { res, ws };
}

test("the Worker from the README: 101, echo, and a close the client starts answered with the server's reason", async () => {
  const { res, ws } = await connect();
  assert.equal(res.status, 101);
  assert.equal(res.ok, false);
  assert.equal(ws.readyState, 1);
  const seen = watch(ws);
  assert.throws(() => ws.send("early"), /You must call accept\(\) on this WebSocket before sending messages/);
  ws.accept();
  ws.send("x");
  assert.equal(await seen.next(), "echo:x");
  ws.send(new Uint8Array([1, 2, 3]));
  assert.equal(await seen.next(), "echo:bytes 3");
  ws.close(1000, "done");
  const ev = await seen.closed;
  assert.deepEqual([ev.code, ev.reason, ev.wasClean], [1000, "bye", true]);
  assert.equal(ws.readyState, 3);
  assert.throws(() => ws.send("late"), /after close/);
  const report = await verge.reportOf(res);
  assert.equal(report?.error, undefined);
});

test("a close the Worker starts reaches the client, which answers it; the invocation then ends", async () => {
  const { res, ws } = await connect();
  const seen = watch(ws);
  ws.accept();
  ws.send("bye");
  const ev = await seen.closed;
  assert.deepEqual([ev.code, ev.reason, ev.wasClean], [4000, "as asked", true]);
  const report = await verge.reportOf(res);
  assert.equal(report?.error, undefined);
});

test("a handler that spins is stopped: the client sees 1006 and the report ERR_CPU_LIMIT; the next connection works", async () => {
  const first = await connect();
  const seen = watch(first.ws);
  first.ws.accept();
  first.ws.send("spin");
  const ev = await seen.closed;
  assert.deepEqual([ev.code, ev.wasClean], [1006, false]);
  assert.equal((await verge.reportOf(first.res))?.error?.code, "ERR_CPU_LIMIT");
  const second = await connect();
  const seen2 = watch(second.ws);
  second.ws.accept();
  second.ws.send("again");
  assert.equal(await seen2.next(), "echo:again");
  second.ws.close(1000);
  await seen2.closed;
});

test("a request without Upgrade gets the Worker's own answer; a WebSocket for one is ERR_INVALID_RESULT", async () => {
  const plain = await verge.dispatchFetch("http://localhost/");
  assert.equal(plain.status, 426);
  assert.equal((plain as Response & { webSocket?: unknown }).webSocket, undefined);
  const other = new Verge({ modules: true, script: `export default { fetch() { const p = new WebSocketPair(); p[1].accept(); return new Response(null, { status: 101, webSocket: p[0] }); } };` });
  try {
    await assert.rejects(other.dispatchFetch("http://localhost/"), { code: "ERR_INVALID_RESULT" });
  } finally {
    await other.dispose();
  }
});

test("several connections at once each get their own isolate; disposing the harness closes an open one with 1006", async () => {
  const local = new Verge({ modules: true, script: ECHO });
  const a = await local.dispatchFetch("http://localhost/", { headers: { upgrade: "websocket" } });
  const b = await local.dispatchFetch("http://localhost/", { headers: { upgrade: "websocket" } });
  const wa = (a as Response & { webSocket: VergeWebSocket }).webSocket;
  const wb = (b as Response & { webSocket: VergeWebSocket }).webSocket;
  const sa = watch(wa);
  const sb = watch(wb);
  wa.accept();
  wb.accept();
  wa.send("to a");
  wb.send("to b");
  assert.equal(await sa.next(), "echo:to a");
  assert.equal(await sb.next(), "echo:to b");
  await local.dispose();
  const [ea, eb] = await Promise.all([sa.closed, sb.closed]);
  assert.deepEqual([ea.code, eb.code], [1006, 1006]);
});
