// Exercises: WebSocketPair inside one Worker (both sides local): shape, errors for
// send before accept / after close and bad close codes, delivery order, on<type>
// handlers before listeners, close events; then a handshake whose server sends
// and closes before its 101 is returned, and one that reports the client's close.
export const requests = [
  { name: "shape and errors", path: "/errors" },
  { name: "local delivery", path: "/local" },
];

export const sockets = [
  { name: "server closes before returning", path: "/early-close", steps: [], events: 3 },
  { name: "client close without a code", path: "/report", steps: [{ send: "a" }, { await: 1 }, { close: [] }], events: 2 },
];

const tick = () => new Promise((r) => setTimeout(r, 5));

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/errors") {
      const out = {};
      const t = (k, f) => {
        try {
          const v = f();
          out[k] = v === undefined ? "ok" : v;
        } catch (e) {
          out[k] = `${e.name}: ${e.message}`;
        }
      };
      const pair = new WebSocketPair();
      const [c, s] = Object.values(pair);
      t("keys", () => Object.keys(pair));
      t("tags", () => [Object.prototype.toString.call(pair), Object.prototype.toString.call(s)]);
      t("states", () => [c.readyState, s.readyState, WebSocket.OPEN, WebSocket.READY_STATE_CLOSED, s.CLOSING]);
      t("sendBefore", () => s.send("x"));
      t("code999", () => s.close(999));
      t("code1006", () => s.close(1006));
      t("reasonOnly", () => s.close(undefined, "why"));
      t("accept", () => s.accept());
      t("code2999", () => { const [a] = Object.values(new WebSocketPair()); a.accept(); a.close(2999); return a.readyState; });
      t("close", () => s.close(1000, "done"));
      t("sendAfter", () => s.send("y"));
      t("closeAgain", () => s.close());
      t("r101", () => new Response(null, { status: 101, webSocket: c }).status);
      t("r200", () => new Response(null, { status: 200, webSocket: new WebSocketPair()[0] }).status);
      t("notSocket", () => new Response(null, { status: 101, webSocket: {} }).status);
      t("callPair", () => WebSocketPair());
      return Response.json(out);
    }
    if (path === "/local") {
      const [c, s] = Object.values(new WebSocketPair());
      const log = [];
      c.accept();
      c.send("before accept");
      s.onmessage = (e) => log.push(`onmessage ${e.data}`);
      s.addEventListener("message", (e) => log.push(`listener ${e.data instanceof ArrayBuffer ? `bytes ${e.data.byteLength}` : e.data}`));
      log.push("sync");
      await tick();
      s.accept();
      c.send(new Uint8Array([1, 2, 3, 4]).subarray(1));
      s.send("to client");
      c.addEventListener("message", (e) => log.push(`client got ${e.data}`));
      await tick();
      c.close(3001, "client closing");
      s.addEventListener("close", (e) => log.push(`server close ${e.code} ${e.reason} ${e.wasClean} ${s.readyState}`));
      await tick();
      log.push(`states ${c.readyState} ${s.readyState}`);
      return Response.json(log);
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    if (path === "/early-close") {
      server.send("one");
      server.send(new Uint8Array([7, 8]));
      server.close(4002, "closing early");
    } else {
      const seen = [];
      server.addEventListener("message", (e) => {
        seen.push(e.data);
        server.send(`seen ${seen.join(",")}`);
      });
      server.addEventListener("close", (e) => server.close(1000, `client sent ${e.code} "${e.reason}" ${e.wasClean}`));
    }
    return new Response(null, { status: 101, webSocket: client });
  },
};
