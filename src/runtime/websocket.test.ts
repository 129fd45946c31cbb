/**
 * A Workers handler's 101 with a WebSocket through the in-process runtime: the
 * connection (HostSocket) both ways, and the budgets around it.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "./runtime.ts";
import { createHostServices } from "./services.ts";
import { resolveLimits, type LimitsOptions } from "../shared/limits.ts";
import type { WebSocketEnd } from "../shared/websocket.ts";
import type { FunctionSpec } from "./pool.ts";

const services = createHostServices({});
const runtime = createRuntime({ services });
after(async () => {
  runtime.dispose();
  await services.close();
});

const ECHO = `
export default { async fetch(req) {
  if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.addEventListener("message", (ev) => {
    if (ev.data === "spin") for (;;);
    if (ev.data === "throw") throw new Error("boom in handler");
    if (ev.data === "close") return server.close(4001, "asked");
    if (ev.data === "burn") { const t = Date.now(); while (Date.now() - t < 30); }
    server.send("echo:" + (typeof ev.data === "string" ? ev.data : "bin" + ev.data.byteLength));
  });
  server.addEventListener("close", (ev) => server.close(ev.code, "bye"));
  server.send("hello");
  return new Response(null, { status: 101, webSocket: client, headers: { "x-made": "1" } });
} };`;

let n = 0;
function spec(code: string, limits: LimitsOptions = {}): FunctionSpec {
  return { source: { id: `ws-${++n}`, code, format: "esm" }, limits: resolveLimits({ cpuMs: 50, wallMs: 2_000, ...limits }), env: {}, bindings: {} };
}

const HANDSHAKE = [["upgrade", "websocket"]] as Array<[string, string]>;

/** Opens the function's WebSocket and records what it sends. */
async function open(s: FunctionSpec) {
  const r = await runtime.fetch(s, { method: "GET", url: "http://ws.test/", headers: HANDSHAKE, body: null });
  assert.equal(r.type, "response");
  if (r.type !== "response") throw new Error("unreachable");
  const end = r.response.webSocket as WebSocketEnd;
  assert.ok(end !== undefined, "the 101 carries a WebSocket");
  const got: Array<[string, unknown, unknown?]> = [];
  let onClose!: () => void;
  const closed = new Promise<void>((resolve) => (onClose = resolve));
  const waiters: Array<() => void> = [];
  end.attach({
    message: (data) => {
      got.push(["msg", typeof data === "string" ? data : [...data]]);
      waiters.splice(0).forEach((w) => w());
    },
    close: (code, reason) => {
      got.push(["close", code, reason]);
      onClose();
      waiters.splice(0).forEach((w) => w());
    },
  });
  /** Resolves once `count` events arrived. */
  const until = async (count: number) => {
    while (got.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { r, end, got, closed, until };
}

test("messages both ways, what the handler sent before returning first, and a close handshake started by the client", async () => {
  const c = await open(spec(ECHO));
  assert.equal(c.r.type === "response" && c.r.response.status, 101);
  assert.deepEqual(c.r.type === "response" && c.r.response.headers, [["x-made", "1"]]);
  c.end.send("a");
  c.end.send(new Uint8Array([1, 2, 3]));
  await c.until(3);
  c.end.close(1000, "client done");
  await c.closed;
  const report = await c.r.finished;
  assert.deepEqual(c.got, [["msg", "hello"], ["msg", "echo:a"], ["msg", "echo:bin3"], ["close", 1000, "bye"]]);
  assert.equal(report.error, undefined);
});

test("a close started by the function reaches the client; the invocation ends when the client answers it", async () => {
  const c = await open(spec(ECHO));
  c.end.send("close");
  await c.closed;
  assert.deepEqual(c.got.at(-1), ["close", 4001, "asked"]);
  c.end.close(4001, "asked");
  const report = await c.r.finished;
  assert.equal(report.error, undefined);
});

test("a handler that spins in a message handler is stopped (ERR_CPU_LIMIT), the client sees 1006, and the isolate is not reused", async () => {
  const s = spec(ECHO);
  const c = await open(s);
  await c.until(1);
  c.end.send("spin");
  await c.closed;
  const report = await c.r.finished;
  assert.equal(report.error?.code, "ERR_CPU_LIMIT");
  assert.deepEqual(c.got.at(-1), ["close", 1006, ""]);
  const next = await runtime.fetch(s, { method: "GET", url: "http://ws.test/", headers: [], body: null });
  assert.equal(next.cold, true, "a new isolate answers the next request");
});

test("each client message starts a new CPU window: a handler using most of its budget per message runs on", async () => {
  const c = await open(spec(ECHO, { cpuMs: 50 }));
  for (let i = 0; i < 6; i++) c.end.send("burn");
  await c.until(7);
  c.end.close(1000, "done");
  const report = await c.r.finished;
  assert.equal(report.error, undefined);
  assert.equal(c.got.filter(([, data]) => data === "echo:burn").length, 6);
});

test("a connection outlives the wall-time budget while it is open", async () => {
  const c = await open(spec(ECHO, { wallMs: 100 }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  c.end.send("still here");
  await c.until(2);
  c.end.close(1000, "done");
  const report = await c.r.finished;
  assert.equal(report.error, undefined);
  assert.deepEqual(c.got[1], ["msg", "echo:still here"]);
});

test("a listener that throws fails the connection: 1006 to the client, the error in the report and the log", async () => {
  const c = await open(spec(ECHO));
  c.end.send("throw");
  await c.closed;
  const report = await c.r.finished;
  assert.deepEqual(c.got.at(-1), ["close", 1006, ""]);
  assert.equal(report.error?.code, "ERR_FUNCTION_EXCEPTION");
  assert.match(report.error?.message ?? "", /boom in handler/);
  assert.ok(report.logs.some((l) => l.level === "error" && /Uncaught Error: boom in handler/.test(l.message)));
});

test("a message over 1 MiB closes the connection with 1009 on both sides", async () => {
  const code = `export default { fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("close", (e) => console.log("server saw", e.code, e.reason));
    return new Response(null, { status: 101, webSocket: client });
  } };`;
  const c = await open(spec(code));
  c.end.send("x".repeat(1024 * 1024 + 1));
  await c.closed;
  const report = await c.r.finished;
  assert.deepEqual(c.got, [["close", 1009, "Message is too large"]]);
  assert.ok(report.logs.some((l) => l.message === "server saw 1009 Message is too large"));
});

test("a WebSocket in answer to a request without Upgrade: websocket is ERR_INVALID_RESULT", async () => {
  const code = `export default { fetch() { const p = new WebSocketPair(); p[1].accept(); return new Response(null, { status: 101, webSocket: p[0] }); } };`;
  await assert.rejects(runtime.fetch(spec(code), { method: "GET", url: "http://ws.test/", headers: [], body: null }), (err: { code?: string; message?: string }) => {
    assert.equal(err.code, "ERR_INVALID_RESULT");
    assert.match(err.message ?? "", /Upgrade: websocket/);
    return true;
  });
});

test("a function that floods a socket nobody reads fails it (1006) instead of filling the host's memory", async () => {
  const code = `export default { fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    const mib = "x".repeat(1024 * 1024);
    for (let i = 0; i < 20; i++) server.send(mib);
    return new Response(null, { status: 101, webSocket: client });
  } };`;
  const r = await runtime.fetch(spec(code, { cpuMs: 2_000 }), { method: "GET", url: "http://ws.test/", headers: HANDSHAKE, body: null });
  assert.equal(r.type, "response");
  if (r.type !== "response") return;
  await r.finished;
  const got: unknown[] = [];
  await new Promise<void>((resolve) => r.response.webSocket!.attach({ message: () => got.push("msg"), close: (code) => (got.push(code), resolve()) }));
  assert.ok(got.length <= 17, `at most 16 MiB kept, found ${got.length - 1} messages`);
  assert.equal(got.at(-1), 1006);
});

test("one handler call that sends more than 16 MiB to a connected client fails the connection: 1006 both ways", async () => {
  const code = `export default { fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    const mib = "x".repeat(1024 * 1024);
    server.addEventListener("message", () => { for (let i = 0; i < 40; i++) server.send(mib); });
    server.addEventListener("close", (e) => console.log("server saw", e.code));
    return new Response(null, { status: 101, webSocket: client });
  } };`;
  const c = await open(spec(code, { cpuMs: 2_000 }));
  c.end.send("go");
  await c.closed;
  const report = await c.r.finished;
  const messages = c.got.filter(([kind]) => kind === "msg").length;
  assert.ok(messages <= 16, `at most 16 MiB went to the client, found ${messages} MiB`);
  assert.deepEqual(c.got.at(-1), ["close", 1006, ""]);
  assert.ok(report.logs.some((l) => l.message === "server saw 1006"));
});

test("a client's close ends the connection even when the function does not close back: the invocation is over", async () => {
  const c = await open(
    spec(`export default { async fetch() {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("message", (ev) => server.send("echo:" + ev.data));
      server.addEventListener("close", (ev) => console.log("saw close", ev.code, ev.reason));
      return new Response(null, { status: 101, webSocket: client });
    } };`),
  );
  c.end.send("a");
  await c.until(1);
  c.end.close(1000, "client done");
  let timer: NodeJS.Timeout | undefined;
  const report = await Promise.race([
    c.r.finished,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("the invocation stayed open after the client's close")), 5_000))),
  ]);
  clearTimeout(timer);
  assert.equal(report.error, undefined);
  assert.deepEqual(
    report.logs.map((l) => l.message),
    ["saw close 1000 client done"],
  );
});
