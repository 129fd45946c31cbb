// Exercises: a Worker that accepts WebSockets with WebSocketPair: a plain request
// answered 426, then handshakes whose client sends text and bytes, reads what the
// server sent before returning its 101, and closes (or asks the server to).
export const requests = [{ name: "no upgrade header", path: "/" }];

export const sockets = [
  {
    name: "echo, then the client closes",
    path: "/echo",
    steps: [{ await: 1 }, { send: "x" }, { sendBytes: [1, 2, 3] }, { send: "" }, { await: 4 }, { close: [1000, "client done"] }],
    events: 5,
  },
  {
    name: "the server closes when asked",
    path: "/echo",
    steps: [{ await: 1 }, { send: "close please" }],
    events: 2,
  },
  {
    name: "types the server sees",
    path: "/types",
    steps: [{ send: "text" }, { sendBytes: [] }, { sendBytes: [255] }, { await: 3 }, { close: [4321, "custom"] }],
    events: 4,
  },
];

export default {
  async fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") return new Response("expected websocket", { status: 426 });
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    const path = new URL(request.url).pathname;
    if (path === "/types") {
      server.addEventListener("message", (e) => {
        const d = e.data;
        server.send(JSON.stringify([typeof d, d instanceof ArrayBuffer, d instanceof ArrayBuffer ? d.byteLength : d, Object.prototype.toString.call(e)]));
      });
    } else {
      server.send("hello before the response");
      server.addEventListener("message", (e) => {
        if (e.data === "close please") return server.close(4000, "as you asked");
        server.send(typeof e.data === "string" ? `echo:${e.data}` : new Uint8Array(e.data).reverse());
      });
    }
    server.addEventListener("close", (e) => server.close(e.code, `bye ${e.code} ${e.reason}`));
    return new Response(null, { status: 101, webSocket: client, headers: { "x-worker": "echo" } });
  },
};
