/**
 * The client's side of a WebSocket a function returned from `dispatchFetch`
 * (`response.webSocket`), shaped as Miniflare's: `accept()` first, then
 * `send`, `close`, and `message` / `close` / `error` events (MessageEvent with
 * a string or an ArrayBuffer, CloseEvent). What the function sends before
 * `accept()` is kept for it. Like a WebSocket client library, it answers the
 * function's close with the same code if it has not closed itself.
 *
 * @example
 * const res = await verge.dispatchFetch("http://localhost/", { headers: { upgrade: "websocket" } });
 * const ws = res.webSocket!;
 * ws.accept();
 * ws.addEventListener("message", (e) => console.log(e.data));
 * ws.send("hi");
 */
import type { WebSocketEnd } from "../shared/websocket.ts";

const RESERVED = new Set([1004, 1005, 1006, 1015]);
/** Each socket's connection, for `asWebSocketEnd`'s abort. */
const ends = new WeakMap<WebSocket, WebSocketEnd>();

type Arrival = { kind: "message"; data: string | ArrayBuffer } | { kind: "close"; code: number; reason: string; wasClean: boolean };

export class WebSocket extends EventTarget {
  static readonly READY_STATE_CONNECTING = 0;
  static readonly READY_STATE_OPEN = 1;
  static readonly READY_STATE_CLOSING = 2;
  static readonly READY_STATE_CLOSED = 3;

  #end: WebSocketEnd;
  #accepted = false;
  #closedOut = false;
  #closedIn = false;
  #kept: Arrival[] | null = [];

  /** Made by the harness around a function's connection. */
  constructor(end: WebSocketEnd) {
    super();
    this.#end = end;
    ends.set(this, end);
    end.attach({
      message: (data) => this.#arrive({ kind: "message", data: typeof data === "string" ? data : bufferOf(data) }),
      close: (code, reason) => this.#arrive({ kind: "close", code, reason, wasClean: code !== 1006 }),
    });
  }

  get readyState(): number {
    return this.#closedOut && this.#closedIn ? 3 : this.#closedOut || this.#closedIn ? 2 : 1;
  }

  accept(): void {
    if (this.#accepted) return;
    this.#accepted = true;
    const kept = this.#kept ?? [];
    // After the code that called accept() has added its listeners.
    if (kept.length > 0) queueMicrotask(() => this.#flush());
    else this.#kept = null;
  }

  send(message: string | ArrayBuffer | ArrayBufferView): void {
    if (!this.#accepted) throw new TypeError("You must call accept() on this WebSocket before sending messages.");
    if (this.#closedOut) throw new TypeError("Can't call WebSocket send() after close().");
    if (typeof message === "string") this.#end.send(message);
    else if (message instanceof ArrayBuffer) this.#end.send(new Uint8Array(message.slice(0)));
    else if (ArrayBuffer.isView(message)) this.#end.send(new Uint8Array(message.buffer, message.byteOffset, message.byteLength).slice());
    else this.#end.send(String(message));
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined) {
      const c = Math.trunc(Number(code));
      if (!(c >= 1000 && c <= 4999) || RESERVED.has(c)) throw new TypeError(`Invalid WebSocket close code: ${code}.`);
    }
    if (reason !== undefined && code === undefined) throw new TypeError("If you specify a WebSocket close reason, you must also specify a code.");
    if (!this.#accepted) throw new TypeError("You must call accept() on this WebSocket before sending messages.");
    if (this.#closedOut) return;
    this.#closedOut = true;
    this.#end.close(code === undefined ? undefined : Math.trunc(Number(code)), reason);
  }

  #arrive(a: Arrival): void {
    if (a.kind === "close") {
      this.#closedIn = true;
      if (!this.#closedOut) {
        // The protocol's answer to a close frame, accepted or not: the same code back (none for 1005), as `ws` does.
        this.#closedOut = true;
        if (a.code !== 1006) this.#end.close(a.code === 1005 ? undefined : a.code, a.code === 1005 ? undefined : a.reason);
      }
    }
    if (this.#kept !== null) {
      this.#kept.push(a);
      return;
    }
    this.#dispatch(a);
  }

  #flush(): void {
    const kept = this.#kept ?? [];
    this.#kept = null;
    for (const a of kept) this.#dispatch(a);
  }

  #dispatch(a: Arrival): void {
    if (a.kind === "message") {
      this.dispatchEvent(new MessageEvent("message", { data: a.data }));
      return;
    }
    this.dispatchEvent(new CloseEvent("close", { code: a.code, reason: a.reason, wasClean: a.wasClean }));
  }
}

/**
 * The client side `ws` as a `WebSocketEnd` again, accepted, for a server that relays it to a
 * real viewer (`verge dev`, src/cli/dev/websocket.ts): the viewer's sends, closes and loss go
 * to the function; what the function sends goes to `attach`'s peer.
 */
export function asWebSocketEnd(ws: WebSocket): WebSocketEnd {
  const end = ends.get(ws);
  if (end === undefined) throw new TypeError("asWebSocketEnd: not a harness WebSocket");
  return {
    send(data) {
      try {
        ws.send(data);
      } catch {
        // Closed on this side (the function's close was answered): the message has nowhere to go.
      }
    },
    close(code, reason) {
      if (ws.readyState === 3) return;
      if (code === undefined || code === 1005) ws.close();
      else ws.close(code, reason);
    },
    abort: () => end.abort(),
    attach(peer) {
      ws.addEventListener("message", (e) => {
        const data = (e as MessageEvent).data as string | ArrayBuffer;
        peer.message(typeof data === "string" ? data : new Uint8Array(data));
      });
      ws.addEventListener("close", (e) => peer.close((e as CloseEvent).code, (e as CloseEvent).reason));
      ws.accept();
    },
  };
}

function bufferOf(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * The 101 `dispatchFetch` resolves with for a function that answered with a WebSocket: a
 * `Response` (whose constructor refuses 101) that reports status 101 and has `webSocket`.
 */
export class WebSocketResponse extends Response {
  #webSocket: WebSocket;
  #statusText: string;

  constructor(statusText: string, headers: Array<[string, string]>, webSocket: WebSocket) {
    const h = new Headers();
    for (const [name, value] of headers) h.append(name, value);
    super(null, { status: 200, headers: h });
    this.#webSocket = webSocket;
    this.#statusText = statusText;
  }
  get webSocket(): WebSocket {
    return this.#webSocket;
  }

  static {
    // Response's own status, ok and statusText are accessors on its prototype: these shadow them.
    Object.defineProperties(WebSocketResponse.prototype, {
      status: { get: () => 101, configurable: true },
      ok: { get: () => false, configurable: true },
      statusText: {
        get(this: WebSocketResponse) {
          return this.#statusText;
        },
        configurable: true,
      },
    });
  }
}
