/**
 * WebSocket scenarios for the differential suite: a script may export `sockets`,
 * each a handshake sent to both runtimes whose 101's `webSocket` is then driven
 * by the same steps. What the client sees (the handshake's status and the
 * Worker's own headers, then each message and the close, in order) must match.
 *
 * Not compared: `wasClean` of the client's close event (Miniflare's client, over
 * `ws`, reports false for a close the Worker started; verge's harness true, as
 * the close handshake completed), and the handshake headers an HTTP server adds
 * (`upgrade`, `sec-websocket-accept`, `sec-websocket-extensions`): Miniflare
 * dispatches over a real WebSocket connection, verge's harness hands over the
 * Worker's Response.
 */
import assert from "node:assert/strict";

export interface SocketScenario {
  name: string;
  path: string;
  /** In order: send text, send bytes, close, or wait until this many events were seen. */
  steps: Array<{ send: string } | { sendBytes: number[] } | { close: [number, string] | [] } | { await: number }>;
  /** The transcript is complete with this many events (messages and the close). */
  events: number;
}

interface ClientSocket extends EventTarget {
  accept(): void;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

export interface Transcript {
  status: number;
  headers: Array<[string, string]>;
  events: string[];
}

const HANDSHAKE_HEADERS = new Set(["upgrade", "sec-websocket-accept", "sec-websocket-extensions", "connection", "date", "server"]);

function describe(data: unknown): string {
  if (typeof data === "string") return `text ${JSON.stringify(data)}`;
  if (data instanceof ArrayBuffer) return `bytes [${[...new Uint8Array(data)].join(",")}]`;
  return `other ${Object.prototype.toString.call(data)}`;
}

/** Runs one scenario on one runtime and returns what its client saw. */
export async function runSocket(dispatch: (url: string, init: RequestInit) => Promise<Response>, origin: string, s: SocketScenario, deadlineMs: number): Promise<Transcript> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${s.name}: no complete transcript within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    const res = await Promise.race([dispatch(origin + s.path, { headers: { upgrade: "websocket" } }), deadline]);
    const headers = [...res.headers].filter(([k]) => !HANDSHAKE_HEADERS.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const ws = (res as Response & { webSocket?: ClientSocket | null }).webSocket;
    const events: string[] = [];
    if (ws === undefined || ws === null) return { status: res.status, headers, events: [`no webSocket: ${await res.text()}`] };
    const waiters: Array<() => void> = [];
    const note = (line: string): void => {
      events.push(line);
      for (const w of waiters.splice(0)) w();
    };
    ws.addEventListener("message", (e) => note(`message ${describe((e as MessageEvent).data)}`));
    ws.addEventListener("close", (e) => note(`close ${(e as CloseEvent).code} ${JSON.stringify((e as CloseEvent).reason)}`));
    const until = async (n: number): Promise<void> => {
      while (events.length < n) await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), deadline]);
    };
    ws.accept();
    for (const step of s.steps) {
      if ("send" in step) ws.send(step.send);
      else if ("sendBytes" in step) ws.send(new Uint8Array(step.sendBytes));
      else if ("close" in step) ws.close(...(step.close as [number, string]));
      else await until(step.await);
    }
    await until(s.events);
    return { status: res.status, headers, events };
  } finally {
    clearTimeout(timer);
  }
}

export function assertSameTranscript(name: string, miniflare: Transcript, verge: Transcript): void {
  assert.deepEqual(verge, miniflare, `${name}: verge's client saw something else than Miniflare's`);
}
