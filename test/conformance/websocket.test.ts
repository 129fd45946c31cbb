/**
 * WebSocketPair, WebSocket and their events inside the isolate. Each expected
 * value is what Miniflare 4's workerd gave for the same snippet (probed when
 * this was written; test/differential/scripts/48-* and 49-* compare what
 * crosses to the client).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

const tick = `const tick = () => new Promise((r) => setTimeout(r, 5));`;

test("WebSocketPair: own enumerable 0 and 1, iterable, new only; WebSocket constants and shape", async () => {
  const r = (await evalGuest(`
    const pair = new WebSocketPair();
    const [c, s] = Object.values(pair);
    const d = Object.getOwnPropertyDescriptor(pair, 0);
    let called; try { WebSocketPair(); } catch (e) { called = e.name + ": " + e.message; }
    let made; try { new WebSocket(); } catch (e) { made = e.name; }
    return {
      keys: Object.keys(pair),
      desc: [d.writable, d.enumerable, d.configurable],
      iter: [...pair].length === 2 && [...pair][0] === c,
      tags: [Object.prototype.toString.call(pair), Object.prototype.toString.call(s)],
      states: [c.readyState, s.readyState],
      consts: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED, s.OPEN, WebSocket.READY_STATE_CLOSED, s.READY_STATE_OPEN],
      attrs: [s.url, s.protocol, s.extensions, s.binaryType],
      isTarget: s instanceof EventTarget,
      names: [WebSocketPair.name, WebSocket.name, MessageEvent.name, CloseEvent.name, ErrorEvent.name],
      called, made,
    };
  `)) as Record<string, unknown>;
  assert.deepEqual(r.keys, ["0", "1"]);
  assert.deepEqual(r.desc, [false, true, true]);
  assert.equal(r.iter, true);
  assert.deepEqual(r.tags, ["[object WebSocketPair]", "[object WebSocket]"]);
  assert.deepEqual(r.states, [1, 1]);
  assert.deepEqual(r.consts, [0, 1, 2, 3, 1, 3, 1]);
  assert.deepEqual(r.attrs, [null, "", "", "arraybuffer"]);
  assert.equal(r.isTarget, true);
  assert.deepEqual(r.names, ["WebSocketPair", "WebSocket", "MessageEvent", "CloseEvent", "ErrorEvent"]);
  assert.equal(r.called, "TypeError: Failed to construct 'WebSocketPair': Please use the 'new' operator, this object constructor cannot be called as a function.");
  assert.equal(r.made, "TypeError");
});

test("WebSocket errors: send before accept, bad close codes, reason without code, send after close", async () => {
  const r = (await evalGuest(`
    const out = {};
    const t = (k, f) => { try { const v = f(); out[k] = v === undefined ? "ok" : v; } catch (e) { out[k] = e.name + ": " + e.message; } };
    const [c, s] = Object.values(new WebSocketPair());
    t("sendBefore", () => s.send("x"));
    t("closeBefore", () => s.close());
    t("code999", () => s.close(999));
    t("code1005", () => s.close(1005));
    t("code5000", () => s.close(5000));
    t("codeNaN", () => s.close(NaN));
    t("reasonOnly", () => { s.accept(); s.close(undefined, "r"); });
    for (const code of [1000, 1001, 1004, 1006, 1011, 1015, 1016, 2999, 3000, 4999, "4000", 4000.5, -1]) {
      t("code" + code, () => { const [a] = Object.values(new WebSocketPair()); a.accept(); a.close(code); return a.readyState; });
    }
    t("accept2", () => s.accept());
    t("close", () => s.close(1000, "a"));
    t("state", () => s.readyState);
    t("sendAfter", () => s.send("y"));
    t("closeAgain", () => s.close());
    t("acceptAfter", () => s.accept());
    t("binaryType", () => { s.binaryType = "blob"; s.binaryType = "nope"; return s.binaryType; });
    return out;
  `)) as Record<string, unknown>;
  const accept = "TypeError: You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.";
  assert.equal(r.sendBefore, accept);
  assert.equal(r.closeBefore, accept);
  assert.equal(r.code999, "InvalidAccessError: Invalid WebSocket close code: 999.");
  assert.equal(r.code1005, "InvalidAccessError: Invalid WebSocket close code: 1005.");
  assert.equal(r.code5000, "InvalidAccessError: Invalid WebSocket close code: 5000.");
  assert.equal(r.codeNaN, "InvalidAccessError: Invalid WebSocket close code: 0.");
  assert.equal(r.reasonOnly, "InvalidAccessError: If you specify a WebSocket close reason, you must also specify a code.");
  for (const ok of [1000, 1001, 1011, 1016, 2999, 3000, 4999, "4000", 4000.5]) assert.equal(r[`code${ok}`], 2, `close(${ok})`);
  for (const bad of [1004, 1006, 1015, -1]) assert.equal(r[`code${bad}`], `InvalidAccessError: Invalid WebSocket close code: ${bad}.`);
  assert.equal(r.accept2, "ok");
  assert.equal(r.close, "ok");
  assert.equal(r.state, 2);
  assert.equal(r.sendAfter, "TypeError: Can't call WebSocket send() after close().");
  assert.equal(r.closeAgain, "ok");
  assert.equal(r.acceptAfter, "ok");
  assert.equal(r.binaryType, "blob");
});

test("a pair delivers messages in order on later turns; binary arrives as ArrayBuffer; onmessage runs before listeners", async () => {
  const r = await evalGuest(`
    ${tick}
    const [c, s] = Object.values(new WebSocketPair());
    const log = [];
    s.accept(); c.accept();
    s.addEventListener("message", (e) => log.push(["s-msg", typeof e.data, e.data instanceof ArrayBuffer ? "ab" + e.data.byteLength : e.data, Object.prototype.toString.call(e)]));
    c.addEventListener("message", (e) => log.push(["c-msg", e.data instanceof ArrayBuffer ? "ab" + e.data.byteLength : e.data]));
    c.addEventListener("close", (e) => log.push(["c-close", e.code, e.reason, e.wasClean, Object.prototype.toString.call(e), c.readyState]));
    s.addEventListener("close", (e) => log.push(["s-close", e.code, e.reason, e.wasClean, s.readyState]));
    s.onmessage = () => log.push(["s-onmessage"]);
    c.send("hi"); c.send(new Uint8Array([1, 2, 3]).subarray(1)); s.send("back"); s.send(new Uint16Array([1]));
    log.push(["sync-end", c.readyState, s.readyState]);
    await tick();
    s.close(4000, "done");
    log.push(["after-close", c.readyState, s.readyState]);
    await tick();
    log.push(["end", c.readyState, s.readyState]);
    return log;
  `);
  assert.deepEqual(r, [
    ["sync-end", 1, 1],
    ["s-onmessage"],
    ["s-msg", "string", "hi", "[object MessageEvent]"],
    ["s-onmessage"],
    ["s-msg", "object", "ab2", "[object MessageEvent]"],
    ["c-msg", "back"],
    ["c-msg", "ab2"],
    ["after-close", 1, 2],
    ["c-close", 4000, "done", true, "[object CloseEvent]", 2],
    ["end", 2, 2],
  ]);
});

test("what arrives before accept() waits for it; close without a code is 1005; both closed is CLOSED", async () => {
  const r = await evalGuest(`
    ${tick}
    const [c, s] = Object.values(new WebSocketPair());
    const log = [];
    c.accept();
    c.send("early");
    await tick();
    s.accept();
    s.addEventListener("message", (e) => log.push(["s-msg", e.data]));
    await tick();
    c.close();
    s.addEventListener("close", (e) => { log.push(["s-close", e.code, e.reason, e.wasClean]); try { s.send("after peer close"); log.push("sent"); } catch (x) { log.push(x.message); } s.close(1000, "y"); });
    c.addEventListener("message", (e) => log.push(["c-msg", e.data]));
    c.addEventListener("close", (e) => log.push(["c-close", e.code, e.reason]));
    await tick();
    log.push(["states", c.readyState, s.readyState]);
    return log;
  `);
  assert.deepEqual(r, [["s-msg", "early"], ["s-close", 1005, "", true], "sent", ["c-msg", "after peer close"], ["c-close", 1000, "y"], ["states", 3, 3]]);
});

test("Response: webSocket only with status 101, 101 only with a webSocket; the getter gives it back", async () => {
  const r = (await evalGuest(`
    const out = {};
    const t = (k, f) => { try { out[k] = f(); } catch (e) { out[k] = e.name + ": " + e.message; } };
    t("r101", () => { const p = new WebSocketPair(); const res = new Response(null, { status: 101, webSocket: p[0] }); return [res.status, res.webSocket === p[0], res.ok, [...res.headers]]; });
    t("r101NoSocket", () => new Response(null, { status: 101 }).status);
    t("r200Socket", () => new Response(null, { status: 200, webSocket: new WebSocketPair()[0] }).status);
    t("notSocket", () => new Response(null, { status: 101, webSocket: {} }).status);
    t("nullSocket", () => new Response(null, { webSocket: null }).webSocket);
    t("plain", () => new Response("x").webSocket);
    t("accepted", () => { const p = new WebSocketPair(); p[0].accept(); return new Response(null, { status: 101, webSocket: p[0] }).status; });
    return out;
  `)) as Record<string, unknown>;
  assert.deepEqual(r.r101, [101, true, false, []]);
  assert.match(String(r.r101NoSocket), /^RangeError: /);
  assert.equal(r.r200Socket, "RangeError: Responses with a WebSocket must have status code 101.");
  assert.equal(r.notSocket, "TypeError: Incorrect type for the 'webSocket' field on 'InitializerDict': the provided value is not of type 'WebSocket'.");
  assert.equal(r.nullSocket, null);
  assert.equal(r.plain, null);
  assert.equal(r.accepted, 101);
});

test("MessageEvent, CloseEvent and ErrorEvent take their init dictionaries", async () => {
  const r = await evalGuest(`
    const ce = new CloseEvent("close", { code: 1000, reason: "x", wasClean: true });
    const cd = new CloseEvent("close");
    const me = new MessageEvent("message", { data: 1 });
    const ee = new ErrorEvent("error", { message: "m", error: 7 });
    return [[ce.code, ce.reason, ce.wasClean, ce.type], [cd.code, cd.reason, cd.wasClean], [me.data, me.type, me.origin, me.lastEventId], [ee.message, ee.error, ee instanceof Event]];
  `);
  assert.deepEqual(r, [[1000, "x", true, "close"], [0, "", false], [1, "message", "", ""], ["m", 7, true]]);
});
