/**
 * The parent's handle on a WebSocket in the child: what the child sends before the peer
 * attaches is kept, in order, up to MAX_WEBSOCKET_BUFFERED_BYTES; past that the connection
 * fails (the function is told it is lost, the peer gets a close 1006 that says why), directly
 * and through a real child whose function sends on timers while nobody attaches (without the
 * bound the peer got all 17 MiB, then the close).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_WEBSOCKET_BUFFERED_BYTES, type WebSocketPeer } from "../../shared/websocket.ts";
import { resolveLimits } from "../../shared/limits.ts";
import type { ToChild } from "./messages.ts";
import { KEPT_OVERFLOW_REASON, RemoteSocket } from "./remote-socket.ts";
import { createChildRuntime } from "./client.ts";

type Seen = Array<["message", string | Uint8Array] | ["close", number, string]>;

function recorder(): { peer: WebSocketPeer; seen: Seen } {
  const seen: Seen = [];
  return { seen, peer: { message: (data) => void seen.push(["message", data]), close: (code, reason) => void seen.push(["close", code, reason]) } };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

test("what the child sends before the peer attaches reaches the peer in order when it attaches", async () => {
  const sent: ToChild[] = [];
  const socket = new RemoteSocket(7, (m) => void sent.push(m));
  const bytes = new Uint8Array([1, 2, 3]);
  socket.message("one");
  socket.message(bytes);
  socket.closed(4000, "done");
  socket.message("after the close");
  const { peer, seen } = recorder();
  socket.attach(peer);
  assert.deepEqual(seen, [], "delivered on a later microtask, never inside attach");
  await turn();
  assert.deepEqual(seen, [["message", "one"], ["message", bytes], ["close", 4000, "done"]]);
  assert.deepEqual(sent, []);
});

test("past MAX_WEBSOCKET_BUFFERED_BYTES kept before the peer attaches, the connection fails: the child is told (ws-abort), the peer gets only a close 1006 saying why", async () => {
  const sent: ToChild[] = [];
  const socket = new RemoteSocket(7, (m) => void sent.push(m));
  const mib = "m".repeat(1024 * 1024);
  const count = MAX_WEBSOCKET_BUFFERED_BYTES / mib.length;
  for (let i = 0; i < count; i++) socket.message(mib);
  assert.deepEqual(sent, [], "exactly the limit is still kept");
  socket.message("x");
  assert.deepEqual(sent, [{ t: "ws-abort", id: 7 }]);
  // Nothing more from the child is kept, and the peer's calls no longer go to it.
  socket.message(mib);
  socket.closed(1000, "late");
  socket.send("to the function");
  socket.close(1000);
  assert.deepEqual(sent, [{ t: "ws-abort", id: 7 }]);
  const { peer, seen } = recorder();
  socket.attach(peer);
  await turn();
  assert.deepEqual(seen, [["close", 1006, KEPT_OVERFLOW_REASON]]);
  assert.match(KEPT_OVERFLOW_REASON, /more than 16 MiB .* before its peer was attached/);
});

test("once attached, messages go to the peer as they come: the bound is on what waits for a peer", async () => {
  const socket = new RemoteSocket(1, () => {});
  const { peer, seen } = recorder();
  socket.attach(peer);
  const mib = "a".repeat(1024 * 1024);
  const count = MAX_WEBSOCKET_BUFFERED_BYTES / mib.length + 2;
  for (let i = 0; i < count; i++) socket.message(mib);
  assert.equal(seen.length, count);
  assert.ok(seen.every((s) => s[0] === "message"));
});

test("a function in the child that keeps sending while its caller has not attached: its connection fails at the bound and it sees close 1006", { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  const rt = createChildRuntime({ fetch: {}, onLog: (entry) => void lines.push(entry.message) });
  try {
    // One MiB every 10 ms, each in its own guest entry (under the runtime's per-entry bound). The
    // child also fails a connection whose bytes the parent has not read pass the bound: whichever
    // fires first, the parent has received more than the bound by then and keeps only the failure.
    const code = `export default { fetch() {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      let n = 0;
      const chunk = "c".repeat(1024 * 1024);
      server.addEventListener("close", (e) => console.log("function saw close " + e.code + " after " + n + " MiB"));
      const tick = () => { if (n >= 64) return; try { server.send(chunk); n++; } catch { return; } setTimeout(tick, 10); };
      setTimeout(tick, 10);
      return new Response(null, { status: 101, webSocket: client });
    } };`;
    const fn = rt.register({ source: { id: "kept-flood", code, format: "esm" }, limits: resolveLimits({ cpuMs: 5_000, wallMs: 30_000 }), bindings: {} });
    const r = await rt.fetch(fn, { method: "GET", url: "http://t/", headers: [["upgrade", "websocket"]], body: null });
    assert.equal(r.type, "response");
    const end = r.type === "response" ? r.response.webSocket : undefined;
    assert.ok(end !== undefined, "the answer carries the connection");
    // Nobody attaches until the function has been told its connection is lost.
    const deadline = Date.now() + 30_000;
    while (!lines.some((l) => l.startsWith("function saw close"))) {
      if (Date.now() > deadline) assert.fail(`the function was never told; its lines: ${JSON.stringify(lines)}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const saw = lines.find((l) => l.startsWith("function saw close"))!;
    const [, closeCode, sentMiB] = /close (\d+) after (\d+) MiB/.exec(saw)!;
    assert.equal(closeCode, "1006");
    assert.ok(Number(sentMiB) > 16 && Number(sentMiB) < 64, `it was stopped past the bound, not at the end of its loop (${saw})`);
    const { peer, seen } = recorder();
    end.attach(peer);
    await turn();
    assert.deepEqual(seen, [["close", 1006, KEPT_OVERFLOW_REASON]]);
    if (r.type === "response") await r.finished;
  } finally {
    await rt.dispose();
  }
});
