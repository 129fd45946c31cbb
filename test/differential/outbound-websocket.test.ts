/**
 * Outbound WebSockets, Miniflare 4 (workerd) against verge's harness: one Worker
 * opens connections to a `ws` echo server on 127.0.0.1 (both runtimes may reach
 * it: Miniflare by default, verge with `outbound.allowHosts`), with
 * `fetch(url, { headers: { Upgrade: "websocket" } })` and `new WebSocket(url)`,
 * and reports what it saw; the echo server records what it saw of each
 * connection. Both reports must match, per path.
 *
 * The echo server takes permessage-deflate when offered: `new WebSocket` offers
 * it in both, and a fetch() that asks for it gets it.
 *
 * Not compared (they differ, recorded in DIVERGENCES.md): an `error` event
 * workerd dispatches on a constructed socket the Worker closes ("Network
 * connection lost"), and how the server's request spells the
 * Sec-WebSocket-Protocol and Sec-WebSocket-Extensions offers (workerd "a, b"
 * and "permessage-deflate", `ws` "a,b" and "permessage-deflate; client_max_window_bits").
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Miniflare } from "miniflare";
import { WebSocketServer } from "ws";
import { Verge } from "../../src/index.ts";
import { assertSameTranscript, runSocket } from "./sockets.ts";

const WORKER = `
export default { async fetch(req, env) {
  const u = new URL(req.url);
  const target = env.ECHO + u.pathname;
  const out = [];
  const closeOf = (ws) => new Promise((r) => ws.addEventListener("close", (e) => r("close " + e.code + " " + JSON.stringify(e.reason) + " " + e.wasClean)));
  const next = (ws) => new Promise((r) => ws.addEventListener("message", (e) => r(typeof e.data === "string" ? "text " + e.data : "bytes " + new Uint8Array(e.data).join(",")), { once: true }));
  try {
    if (u.pathname === "/echo") {
      const res = await fetch(target, { headers: { Upgrade: "websocket" } });
      const ws = res.webSocket;
      out.push(res.status + " " + res.statusText + " " + typeof ws + " rs " + ws.readyState + " url " + ws.url + " protocol " + JSON.stringify(ws.protocol) + " extensions " + JSON.stringify(ws.extensions));
      out.push("accept/upgrade headers " + ["upgrade", "connection"].map((h) => res.headers.get(h)).join(" "));
      ws.accept();
      let got = next(ws);
      ws.send("hi");
      out.push(await got);
      got = next(ws);
      ws.send(new Uint8Array([1, 2, 3]));
      out.push(await got);
      const closed = closeOf(ws);
      ws.close(4001, "done");
      out.push("after close rs " + ws.readyState, await closed, "rs " + ws.readyState);
    } else if (u.pathname === "/deflate") {
      const res = await fetch(target, { headers: { Upgrade: "websocket", "Sec-WebSocket-Extensions": "permessage-deflate" } });
      const ws = res.webSocket;
      ws.accept();
      out.push("header " + res.headers.get("sec-websocket-extensions") + " extensions " + JSON.stringify(ws.extensions));
      const got = next(ws);
      ws.send("z".repeat(100000));
      out.push((await got).length);
      ws.close(1000);
    } else if (u.pathname === "/noaccept") {
      const res = await fetch(target, { headers: { Upgrade: "websocket" } });
      for (const f of [() => res.webSocket.send("x"), () => res.webSocket.close()]) try { f(); out.push("ok"); } catch (e) { out.push(e.name + ": " + e.message); }
    } else if (u.pathname === "/http") {
      const res = await fetch(env.PLAIN, { headers: { Upgrade: "websocket" } });
      out.push(res.status + " " + res.webSocket + " " + (await res.text()));
    } else if (u.pathname === "/post") {
      const res = await fetch(target, { method: "POST", headers: { Upgrade: "websocket" } });
      out.push(res.status + " " + typeof res.webSocket);
    } else if (u.pathname === "/proto") {
      const res = await fetch(target, { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "a, b", "x-custom": "yes" } });
      res.webSocket.accept();
      out.push(res.status + " protocol " + JSON.stringify(res.webSocket.protocol) + " header " + res.headers.get("sec-websocket-protocol"));
      res.webSocket.close(1000);
    } else if (u.pathname === "/server-closes") {
      const res = await fetch(target, { headers: { Upgrade: "websocket" } });
      const ws = res.webSocket;
      ws.accept();
      const closed = closeOf(ws);
      ws.addEventListener("close", (e) => ws.close(4006, "worker's answer to " + e.code));
      ws.send("close me");
      out.push(await closed);
    } else if (u.pathname === "/ctor") {
      const ws = new WebSocket(target.replace("http", "ws"), ["a", "b"]);
      out.push("rs " + ws.readyState + " url " + ws.url + " binaryType " + ws.binaryType);
      try { ws.send("early"); } catch (e) { out.push(e.name + ": " + e.message); }
      await new Promise((resolve) => ws.addEventListener("open", (e) => { out.push("open " + e.type + " rs " + ws.readyState + " protocol " + ws.protocol + " extensions " + ws.extensions); resolve(); }));
      const got = next(ws);
      ws.send("x");
      out.push(await got);
      ws.accept();
      const closed = closeOf(ws);
      ws.close(4002, "bye");
      out.push(await closed, "rs " + ws.readyState);
    } else if (u.pathname === "/ctor-refused") {
      const ws = new WebSocket(env.PLAIN.replace("http", "ws"));
      await new Promise((resolve) => {
        ws.addEventListener("open", () => out.push("open"));
        ws.addEventListener("error", (e) => out.push("error " + e.constructor.name + " " + e.message));
        ws.addEventListener("close", (e) => { out.push("close " + e.code + " " + e.reason + " " + e.wasClean + " rs " + ws.readyState); resolve(); });
      });
    } else if (u.pathname === "/ctor-bad") {
      for (const a of [undefined, "http://127.0.0.1/x", "ftp://x", "not a url", "ws://127.0.0.1/x#frag"]) {
        try { new WebSocket(a); out.push("made"); } catch (e) { out.push(e.name + " " + (e instanceof DOMException) + ": " + e.message); }
      }
    } else if (u.pathname === "/return") {
      return fetch(target, { headers: { Upgrade: "websocket" } });
    }
  } catch (e) { out.push("threw " + e.name + ": " + e.message); }
  return new Response(out.join("\\n"));
} };`;

let echo: WebSocketServer;
let plain: Server;
let mf: Miniflare;
let verge: Verge;
/** What the echo server saw, by path. */
const seen = new Map<string, string[]>();

before(async () => {
  echo = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: true, handleProtocols: (offered) => (offered.has("b") ? "b" : false) });
  echo.on("connection", (ws, req) => {
    const path = (req.url ?? "").split("?")[0]!;
    const log = seen.get(path) ?? [];
    seen.set(path, log);
    log.push(`connected x-custom=${req.headers["x-custom"]} extensions=${ws.extensions}`);
    ws.on("message", (data, isBinary) => {
      log.push(`got ${isBinary ? "bytes" : "text"} ${String(data).length > 40 ? `${String(data).length} characters` : String(data)}`);
      if (String(data) === "close me") ws.close(4005, "server closing");
      else ws.send(isBinary ? data : `echo:${String(data)}`, { binary: isBinary });
    });
    ws.on("close", (code, reason) => log.push(`closed ${code} ${String(reason)}`));
  });
  await new Promise((resolve) => echo.once("listening", resolve));
  plain = createServer((_, res) => {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("no websocket here");
  });
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  const bindings = { ECHO: `http://127.0.0.1:${(echo.address() as AddressInfo).port}`, PLAIN: `http://127.0.0.1:${(plain.address() as AddressInfo).port}/` };
  mf = new Miniflare({ modules: true, script: WORKER, bindings, compatibilityDate: "2025-06-01" });
  verge = new Verge({ modules: true, script: WORKER, bindings, compatibilityDate: "2025-06-01", outbound: { allowHosts: ["127.0.0.1"] } });
  await Promise.all([mf.ready, verge.ready]);
});

after(async () => {
  await Promise.allSettled([mf?.dispose(), verge?.dispose()]);
  for (const c of echo?.clients ?? []) c.terminate();
  await new Promise((resolve) => echo?.close(resolve));
  await new Promise((resolve) => plain?.close(resolve));
});

/** What the server saw of `path` once its connection closed (or nothing more arrives). */
async function serverSaw(path: string): Promise<string[]> {
  for (let i = 0; i < 200 && seen.has(path) && !seen.get(path)!.some((l) => l.startsWith("closed")); i++) await new Promise((r) => setTimeout(r, 10));
  const log = seen.get(path) ?? [];
  seen.delete(path);
  return log;
}

for (const path of ["/echo", "/deflate", "/noaccept", "/http", "/post", "/proto", "/server-closes", "/ctor", "/ctor-refused", "/ctor-bad"]) {
  test(`${path}: what the Worker and the server saw`, async () => {
    const mfBody = await (await mf.dispatchFetch(`http://localhost${path}`)).text();
    const mfServer = await serverSaw(path);
    const vgBody = await (await verge.dispatchFetch(`http://localhost${path}`)).text();
    const vgServer = await serverSaw(path);
    assert.deepEqual({ body: vgBody, server: vgServer }, { body: mfBody, server: mfServer });
  });
}

test("/return: a fetched WebSocket returned in the 101 joins the client to the server", async () => {
  const scenario = { name: "return", path: "/return", steps: [{ send: "via the worker" }, { await: 1 }, { sendBytes: [7, 8] }, { await: 2 }, { close: [4100, "client done"] as [number, string] }], events: 3 };
  const mfOut = await runSocket((u, i) => mf.dispatchFetch(u, i as never) as unknown as Promise<Response>, "http://localhost", scenario, 15_000);
  const mfServer = await serverSaw("/return");
  const vgOut = await runSocket((u, i) => verge.dispatchFetch(u, i), "http://localhost", scenario, 15_000);
  const vgServer = await serverSaw("/return");
  // The 101's own header lines are the server's in both (sec-websocket-accept differs by key: dropped by runSocket).
  assertSameTranscript("/return", mfOut, vgOut);
  assert.deepEqual(vgServer, mfServer);
});
