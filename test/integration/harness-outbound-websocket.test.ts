/**
 * Outbound WebSockets in the harness (a `ws` server on 127.0.0.1): the address
 * rules and the subrequest limit of fetch() apply to handshakes; the caps on a
 * server's message (inflated, when compressed) and on what waits for a slow server; an accepted socket
 * holds the invocation after it answered (its listeners keep running, the report
 * settles when it closes) while one never accepted is dropped; a Worker spinning
 * in a server's message costs that connection (CPU per message, as for a
 * returned socket); before answering, the wall budget still applies.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import { Verge } from "../../src/index.ts";

const WORKER = `
export default { async fetch(req, env) {
  const u = new URL(req.url);
  const target = env.ECHO + u.pathname;
  const closeOf = (ws) => new Promise((r) => ws.addEventListener("close", (e) => r(e.code + " " + e.reason)));
  try {
    if (u.pathname === "/refused-fetch") {
      await fetch(target, { headers: { Upgrade: "websocket" } });
      return new Response("connected");
    }
    if (u.pathname === "/refused-ctor") {
      const ws = new WebSocket(target.replace("http", "ws"));
      const seen = [];
      ws.addEventListener("error", (e) => seen.push("error " + e.message));
      seen.push("close " + await closeOf(ws));
      return new Response(seen.join("\\n"));
    }
    if (u.pathname === "/two") {
      const a = await fetch(target, { headers: { Upgrade: "websocket" } });
      a.webSocket.accept();
      a.webSocket.close(1000);
      await fetch(target, { headers: { Upgrade: "websocket" } });
      return new Response("two");
    }
    if (u.pathname === "/big" || u.pathname === "/flood") {
      const res = await fetch(target, { headers: { Upgrade: "websocket" } });
      const ws = res.webSocket;
      ws.accept();
      const closed = closeOf(ws);
      if (u.pathname === "/flood") { const mib = "f".repeat(1024 * 1024); for (let i = 0; i < 17; i++) ws.send(mib); }
      else ws.send("send me a big one");
      return new Response("closed " + await closed);
    }
    if (u.pathname === "/held" || u.pathname === "/spin") {
      const res = await fetch(target, { headers: { Upgrade: "websocket" } });
      const ws = res.webSocket;
      ws.accept();
      ws.addEventListener("message", (e) => {
        if (e.data === "spin") for (;;);
        if (e.data === "echo:last") return ws.close(4000, "done after the response");
        ws.send("seen " + e.data);
      });
      ws.send(u.pathname === "/spin" ? "ask spin" : "ping");
      return new Response("answered");
    }
    if (u.pathname === "/unaccepted") {
      await fetch(target, { headers: { Upgrade: "websocket" } });
      return new Response("left it");
    }
    if (u.pathname === "/bomb") {
      const ws = new WebSocket(target.replace("http", "ws"));
      await new Promise((r) => ws.addEventListener("open", r));
      const closed = closeOf(ws);
      let messages = 0;
      ws.addEventListener("message", () => messages++);
      ws.send("send a bomb");
      return new Response(ws.extensions + " closed " + await closed + " after " + messages + " messages");
    }
    if (u.pathname === "/never") {
      const res = await fetch(target, { headers: { Upgrade: "websocket" } });
      res.webSocket.accept();
      await new Promise(() => {});
    }
  } catch (e) {
    return new Response("threw " + e.name + ": " + e.message);
  }
  return new Response("unknown path", { status: 404 });
} };`;

let server: WebSocketServer;
const logs = new Map<string, string[]>();
const sockets = new Map<string, ServerSocket>();
let echo: string;
/** The wall budget of the tests that need one, and how long the server waits past it. */
const WALL_MS = 2_000;
const HELD_PAST_MS = WALL_MS + 500;

before(async () => {
  server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * 1024 * 1024, perMessageDeflate: true });
  server.on("connection", (ws, req) => {
    const path = req.url ?? "";
    const log: string[] = [];
    logs.set(path, log);
    sockets.set(path, ws);
    ws.on("message", (data) => {
      const text = String(data);
      log.push(`got ${text.length > 40 ? `${text.length} bytes` : text}`);
      if (text === "send me a big one") ws.send("b".repeat(1024 * 1024 + 1));
      else if (text === "send a bomb") ws.send(Buffer.alloc(8 * 1024 * 1024), { compress: true });
      else if (text === "ask spin") ws.send("spin");
      // Later than the Worker's wall budget: only an invocation held open past it still listens.
      else if (text === "ping") setTimeout(() => ws.send("echo:ping"), HELD_PAST_MS);
      else if (text === "seen echo:ping") ws.send("echo:last");
    });
    ws.on("close", (code, reason) => log.push(`closed ${code} ${String(reason)}`));
  });
  await new Promise((resolve) => server.once("listening", resolve));
  echo = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const c of server.clients) c.terminate();
  await new Promise((resolve) => server.close(resolve));
});

function verge(options: { allow?: boolean; limits?: Record<string, number> } = {}): Verge {
  const v = new Verge({ modules: true, script: WORKER, bindings: { ECHO: echo }, ...(options.allow === false ? {} : { outbound: { allowHosts: ["127.0.0.1"] } }), ...(options.limits ? { limits: options.limits } : {}) });
  after(() => v.dispose());
  return v;
}

async function closedLine(path: string): Promise<string> {
  for (let i = 0; i < 1500; i++) {
    const line = logs.get(path)?.find((l) => l.startsWith("closed"));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  return `no close for ${path}: ${JSON.stringify(logs.get(path))}`;
}

test("the fetch guard's address rules: loopback refused unless allowed, for fetch() and new WebSocket()", async () => {
  const v = verge({ allow: false });
  const refused = await (await v.dispatchFetch("http://localhost/refused-fetch")).text();
  assert.match(refused, /^threw TypeError: fetch to 127\.0\.0\.1:\d+ refused: 127\.0\.0\.1 is a loopback address/);
  const ctor = await (await v.dispatchFetch("http://localhost/refused-ctor")).text();
  assert.match(ctor, /^error Uncaught TypeError: Failed to establish the WebSocket connection: fetch to 127\.0\.0\.1:\d+ refused/);
  assert.match(ctor, /\nclose 1006 Failed to establish websocket connection$/);
  assert.equal(logs.has("/refused-fetch"), false, "the server was not reached");
});

test("a handshake counts as a subrequest", async () => {
  const v = verge({ limits: { subrequests: 1 } });
  const body = await (await v.dispatchFetch("http://localhost/two")).text();
  assert.equal(body, "threw Error: Too many subrequests: the limit is 1 per invocation");
});

test("a server message over 1 MiB closes the connection with 1009; a Worker sending more than 16 MiB at once loses it (1006)", async () => {
  const v = verge({ limits: { cpuMs: 2_000 } });
  assert.equal(await (await v.dispatchFetch("http://localhost/big")).text(), "closed 1009 Message is too large");
  assert.equal(await closedLine("/big"), "closed 1009 ");
  assert.equal(await (await v.dispatchFetch("http://localhost/flood")).text(), "closed 1006 ");
  assert.equal(await closedLine("/flood"), "closed 1006 ");
});

test("new WebSocket() negotiates compression; a compressed message inflating past 1 MiB closes with 1009 and is never delivered", async () => {
  const v = verge();
  assert.match(await (await v.dispatchFetch("http://localhost/bomb")).text(), /^permessage-deflate.* closed 1009 Message is too large after 0 messages$/);
  assert.equal(await closedLine("/bomb"), "closed 1009 ");
});

test("an accepted socket holds the invocation after it answered; one never accepted is dropped when it ends", async () => {
  const v = verge({ limits: { wallMs: WALL_MS } });
  const res = await v.dispatchFetch("http://localhost/held");
  assert.equal(await res.text(), "answered");
  // The listeners ran after the response, past the wall budget: the Worker answered the server twice, then closed.
  assert.equal(await closedLine("/held"), "closed 4000 done after the response");
  assert.deepEqual(logs.get("/held")!.slice(0, 2), ["got ping", "got seen echo:ping"]);
  const report = await v.reportOf(res);
  assert.equal(report?.error, undefined);
  const left = await v.dispatchFetch("http://localhost/unaccepted");
  assert.equal(await left.text(), "left it");
  await v.reportOf(left);
  assert.equal(await closedLine("/unaccepted"), "closed 1006 ");
});

test("a Worker spinning in a server's message is stopped (ERR_CPU_LIMIT) and the server sees 1006; before answering, the wall budget applies", async () => {
  const v = verge({ limits: { cpuMs: 50, wallMs: WALL_MS } });
  const res = await v.dispatchFetch("http://localhost/spin");
  assert.equal(await res.text(), "answered");
  assert.equal((await v.reportOf(res))?.error?.code, "ERR_CPU_LIMIT");
  assert.equal(await closedLine("/spin"), "closed 1006 ");
  await assert.rejects(v.dispatchFetch("http://localhost/never"), { code: "ERR_WALL_LIMIT" });
  assert.equal(await closedLine("/never"), "closed 1006 ");
});
