/**
 * `verge dev` serving a Worker that accepts WebSockets: a real WebSocket client
 * against the dev server on 127.0.0.1 talks to the Worker's WebSocketPair; a
 * handshake the Worker answers otherwise gets that answer, and ordinary
 * requests are served as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { startDev } from "../helpers/dev.ts";

const WORKER = `export default { async fetch(req) {
  if (req.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
  if (new URL(req.url).pathname === "/nope") return new Response("not here", { status: 403 });
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.addEventListener("message", (ev) => server.send("echo:" + ev.data));
  server.addEventListener("close", (ev) => server.close(ev.code, "bye"));
  server.send("welcome");
  return new Response(null, { status: 101, webSocket: client });
} };
`;

test("verge dev accepts WebSocket connections to a Worker's WebSocketPair", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-ws-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), WORKER);
  const dev = await startDev(t, ["index.js"], dir);

  const ws = new WebSocket(`${dev.url.replace("http:", "ws:")}chat`);
  const messages: string[] = [];
  const waiting: Array<() => void> = [];
  ws.addEventListener("message", (e) => {
    messages.push(String(e.data));
    waiting.splice(0).forEach((w) => w());
  });
  const failed = new Promise<never>((_, reject) => ws.addEventListener("error", () => reject(new Error(`WebSocket failed:\n${dev.output()}`))));
  const got = async (n: number) => {
    while (messages.length < n) await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), failed]);
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  await got(1);
  ws.send("hi");
  await got(2);
  assert.deepEqual(messages, ["welcome", "echo:hi"]);
  ws.close(1000, "done");
  assert.equal((await closed).code, 1000);
  await dev.waitFor(/GET \/chat 101 WebSocket v1 closed/);

  const refused = await new Promise<string>((resolve, reject) => {
    const { port } = new URL(dev.url);
    const s = connect(Number(port), "127.0.0.1", () =>
      s.write("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    );
    let text = "";
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
  assert.match(refused, /^HTTP\/1\.1 403 /);
  assert.match(refused, /not here$/);

  const page = await fetch(dev.url);
  assert.equal(page.status, 426);
  assert.equal(await page.text(), "expected websocket");
});
