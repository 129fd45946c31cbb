/**
 * The relay's close handshake with a real viewer (Node's WebSocket over HTTP on
 * 127.0.0.1) and a scripted function side: the viewer's close frame reaches the
 * function before the node answers it, the function's own close is the answer,
 * and a function that never answers still gets the connection closed.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket as WsClient } from "ws";
import type { WebSocketEnd, WebSocketPeer } from "../src/shared/websocket.ts";
import { CLOSE_REPLY_MS, createRelay } from "./websocket-relay.ts";

interface Scripted extends WebSocketEnd {
  calls: string[];
  peer: WebSocketPeer | null;
  closed: Promise<[number | undefined, string | undefined]>;
}

/** A function side that records what the viewer did and answers a close with `answer` (nothing when undefined). */
function scripted(answer?: [number, string]): Scripted {
  let closedWith!: (v: [number | undefined, string | undefined]) => void;
  const end: Scripted = {
    calls: [],
    peer: null,
    closed: new Promise((resolve) => (closedWith = resolve)),
    send: (data) => void end.calls.push(`message ${data.length > 100 ? `of ${data.length}` : String(data)}`),
    close(code, reason) {
      end.calls.push(`close ${code} ${reason}`);
      closedWith([code, reason]);
      if (answer !== undefined) queueMicrotask(() => end.peer?.close(answer[0], answer[1]));
    },
    abort: () => void end.calls.push("abort"),
    attach: (peer) => void (end.peer = peer),
  };
  return end;
}

const relay = createRelay();
let next: Scripted | undefined;
const server = createServer();
/** The node's side of the latest connection, to count what crossed the wire. */
let lastSocket: import("node:stream").Duplex | undefined;
/** Every connection, destroyed at the end so a failed test cannot hold the server open. */
const connections = new Set<import("node:stream").Duplex>();
server.on("upgrade", (req, socket, head) => {
  lastSocket = socket;
  connections.add(socket);
  relay(req, socket, head, { headers: [], end: next! });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
after(() => {
  for (const socket of connections) socket.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Waits (up to 10 s) until `end` has recorded `n` calls. */
async function calls(end: Scripted, n: number): Promise<string[]> {
  for (let i = 0; i < 1000 && end.calls.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  return end.calls;
}

async function viewer(): Promise<{ ws: WebSocket; closed: Promise<CloseEvent> }> {
  const ws = new WebSocket(url);
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  return { ws, closed };
}

test("the function's close while it handles the viewer's is the node's answer", async () => {
  next = scripted([4005, "from the function"]);
  const end = next;
  const v = await viewer();
  v.ws.send("hi");
  v.ws.close(4001, "leaving");
  const ev = await v.closed;
  assert.deepEqual([ev.code, ev.reason], [4005, "from the function"]);
  assert.deepEqual(end.calls, ["message hi", "close 4001 leaving"]);
});

test("a code a peer may not send becomes a close without one; a close without a code reaches the function as 1005", async () => {
  next = scripted([1005, ""]);
  const end = next;
  const v = await viewer();
  v.ws.close();
  const ev = await v.closed;
  assert.equal(ev.code, 1005);
  assert.deepEqual(end.calls, ["close 1005 "]);
});

test(`a function that does not answer within ${CLOSE_REPLY_MS} ms: the node answers with the viewer's code and reason`, async () => {
  next = scripted();
  const end = next;
  const v = await viewer();
  v.ws.close(4002, "no answer");
  assert.deepEqual(await end.closed, [4002, "no answer"]);
  const ev = await v.closed;
  assert.deepEqual([ev.code, ev.reason], [4002, "no answer"]);
});

test("the function failing (1006) while the node holds its answer drops the connection", async () => {
  next = scripted([1006, ""]);
  const v = await viewer();
  v.ws.close(4003, "x");
  const ev = await v.closed;
  assert.equal(ev.code, 1006);
});

test("a close the function starts is answered by the viewer and reaches the function as the viewer's close", async () => {
  next = scripted();
  const end = next;
  const v = await viewer();
  end.peer!.close(4010, "function first");
  const ev = await v.closed;
  assert.deepEqual([ev.code, ev.reason], [4010, "function first"]);
  // Node's client answers with the code only.
  assert.equal((await end.closed)[0], 4010);
});

/** A `ws` client that offers permessage-deflate, once open. */
async function compressingViewer(): Promise<{ ws: WsClient; closed: Promise<[number, string]>; next(): Promise<string> }> {
  const ws = new WsClient(url, { perMessageDeflate: true });
  const closed = new Promise<[number, string]>((resolve) => ws.on("close", (code, reason) => resolve([code, String(reason)])));
  const messages: string[] = [];
  const waiting: Array<() => void> = [];
  ws.on("message", (data) => {
    messages.push(String(data));
    waiting.splice(0).forEach((w) => w());
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let taken = 0;
  const next = async (): Promise<string> => {
    while (taken >= messages.length) await new Promise<void>((resolve) => waiting.push(resolve));
    return messages[taken++]!;
  };
  return { ws, closed, next };
}

test("permessage-deflate when the viewer offers it: large messages both ways, compressed on the wire", async () => {
  next = scripted([1000, ""]);
  const end = next;
  const v = await compressingViewer();
  assert.match(v.ws.extensions, /^permessage-deflate/);
  const big = "abc".repeat(100_000);
  v.ws.send(big);
  end.peer!.message(big.toUpperCase());
  assert.equal(await v.next(), big.toUpperCase());
  // The viewer's message is inflated on zlib's thread pool: it may arrive after the function's.
  assert.deepEqual(await calls(end, 1), [`message of ${big.length}`]);
  const socket = lastSocket as import("node:net").Socket;
  assert.ok(socket.bytesRead < 20_000 && socket.bytesWritten < 20_000, `${socket.bytesRead} bytes read, ${socket.bytesWritten} written for two 300 kB messages`);
  v.ws.close(1000);
  await v.closed;
});

test("a compressed message that inflates past 1 MiB (a zip bomb) closes the connection with 1009 and never reaches the function", async () => {
  next = scripted();
  const end = next;
  const v = await compressingViewer();
  const bomb = Buffer.alloc(8 * 1024 * 1024);
  v.ws.send(bomb);
  const [code] = await v.closed;
  assert.equal(code, 1009);
  assert.deepEqual(await end.closed, [1009, "Message is too large"]);
  assert.deepEqual(end.calls, ["close 1009 Message is too large"]);
});
