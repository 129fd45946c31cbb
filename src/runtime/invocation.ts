/**
 * The state of the one invocation a sandbox is running: answer, waitUntil,
 * response body pulls, budgets used, logs. It ends when the function answered,
 * every waitUntil settled and the response body was read (or on a kill).
 */
import { VergeError } from "../shared/errors.ts";
import type { Limits } from "../shared/limits.ts";
import type { Emit, GuestResponseHead } from "./bridge/protocol.ts";
import type { LimitReport, LogEntry } from "./report.ts";
import { ConsoleBudget, MAX_LOGS } from "./console-budget.ts";
import { round } from "./report.ts";
import type { CacheApiHost, HostServices, ServiceHost } from "./host-services.ts";
import type { Sandbox } from "./sandbox.ts";
import type { WebSocketEnd } from "../shared/websocket.ts";
import { HostSocket } from "./websocket.ts";

export interface InvocationResponse extends GuestResponseHead {
  body: null | Uint8Array | AsyncIterable<Uint8Array>;
  /** A 101's WebSocket: the connection to the function (its side is the pair's other socket). */
  webSocket?: WebSocketEnd;
  /** A 101 that returns the connection a handshake subrequest opened, by the token the host's fetch gave it. */
  tunnel?: number;
}

export interface InvocationReport {
  limits: LimitReport;
  logs: LogEntry[];
  /** A failure after the function answered (killed while streaming or in waitUntil). */
  error?: VergeError;
  waitUntilErrors: VergeError[];
}

export type InvocationOutcome =
  | { kind: "response"; response: InvocationResponse; finished: Promise<InvocationReport> }
  | { kind: "result"; result: unknown; finished: Promise<InvocationReport> }
  | { kind: "error"; error: VergeError; finished: Promise<InvocationReport> };

/** A generated response's header block (names, values, ": " and CRLF per line): Workers allows 128 KB. */
export const MAX_RESPONSE_HEADER_BYTES = 128 * 1024;

export class ActiveInvocation {
  readonly id: number;
  readonly outcome: Promise<InvocationOutcome>;
  readonly finished: Promise<InvocationReport>;
  #abort: AbortController | undefined;
  subrequests = 0;
  /** Binding operations (KV calls) so far; capped per invocation (host-ops.ts MAX_BINDING_OPS). */
  bindingOps = 0;
  responseBytes = 0;
  /** The guest holds timers or an outgoing body stream of this invocation: the sandbox must clear them. */
  leftGuestState = false;
  /** Where this invocation's `fetch()` calls go instead of the host's default (an edge pipeline's own continuation). */
  subrequest: HostServices["fetch"] | undefined;
  /** This invocation's Cache API instead of the host's default (an edge pipeline's, with its distribution). */
  caches: CacheApiHost | undefined;
  /** Where this invocation's service binding calls go instead of the host's default (an edge node's, bound to the request). */
  service: ServiceHost | undefined;

  #sandbox: Sandbox;
  #limits: Limits;
  /** The sandbox's CPU clock (µs) when the invocation started. */
  #cpuStart: number;
  #cpuUsedMs = 0;
  /** Where the CPU budget's window starts (µs of the sandbox's clock): the start, then each WebSocket peer event. */
  #cpuWindowStart: number;
  #wallStart = performance.now();
  /** Where the wall budget starts: the start, then the end of a WebSocket connection (none while one is open). */
  #wallBudgetStart = this.#wallStart;
  #onWallExpire: (() => void) | undefined;
  #socket: HostSocket | undefined;
  #socketOpen = false;
  #heapPeak = 0;
  readonly console = new ConsoleBudget(MAX_LOGS, "this invocation's");
  #deadline: NodeJS.Timeout | undefined;
  #answered = false;
  #idle = false;
  #bodyOpen = false;
  #ended = false;
  #lateError: VergeError | undefined;
  #waitUntilErrors: VergeError[] = [];
  #waiters = new Map<number, { resolve: (c: Uint8Array | null) => void; reject: (e: unknown) => void }>();
  #resolveOutcome!: (o: InvocationOutcome) => void;
  #resolveFinished!: (r: InvocationReport) => void;

  constructor(id: number, sandbox: Sandbox, limits: Limits, cpuStart: number) {
    this.id = id;
    this.#sandbox = sandbox;
    this.#limits = limits;
    this.#cpuStart = cpuStart;
    this.#cpuWindowStart = cpuStart;
    this.outcome = new Promise((r) => (this.#resolveOutcome = r));
    this.finished = new Promise((r) => (this.#resolveFinished = r));
  }

  /** Aborts the invocation's subrequests when it ends; made on first use (aborting costs ~15 µs). */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  /** CPU used as of the last read. */
  get cpuUsedMs(): number {
    return this.#cpuUsedMs;
  }

  /** CPU used so far, from the sandbox's CPU clock `now` (µs). */
  cpuMs(now: number): number {
    this.#cpuUsedMs = (now - this.#cpuStart) / 1000;
    return this.#cpuUsedMs;
  }

  /** CPU used in the budget's current window (the invocation, or since the last WebSocket peer event). */
  windowCpuMs(now: number): number {
    this.cpuMs(now);
    return (now - this.#cpuWindowStart) / 1000;
  }

  /** A WebSocket peer event is about to enter the guest: the CPU budget starts again (Durable Objects' rule per message). */
  newCpuWindow(now: number): void {
    this.#cpuWindowStart = now;
  }

  /** Wall time left; unbounded while a WebSocket is open (Workers: no duration limit while the client is connected). */
  wallLeftMs(): number {
    if (this.#socketOpen) return Infinity;
    return this.#limits.wallMs - (performance.now() - this.#wallBudgetStart);
  }

  noteHeap(bytes: number): void {
    if (bytes > this.#heapPeak) this.#heapPeak = bytes;
  }

  /** Keeps a console line within the invocation's budget (console-budget.ts); 0 when kept, else how many were dropped. */
  addLog(entry: LogEntry): number {
    return this.console.add(entry);
  }

  /** Arms the wall deadline for the time the invocation has left (it started at construction). */
  armDeadline(onExpire: () => void): void {
    this.#onWallExpire = onExpire;
    if (this.#socketOpen || this.#ended) return;
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(onExpire, Math.max(1, this.wallLeftMs()));
  }

  /** Over, or only its end is left (answered, idle, no body to read, no WebSocket open): no deadline needed. */
  get settled(): boolean {
    return this.#ended || (this.#answered && this.#idle && !this.#bodyOpen && !this.#socketOpen);
  }

  onEmit(m: Emit): void {
    // Guest code of a cancelled invocation that ran on (a promise it awaited settled later): not this one's answer.
    if ("invocation" in m && m.invocation !== this.id) return;
    switch (m.type) {
      case "response":
        if (m.tunnel !== undefined) {
          if (this.#answer()) this.#resolveOutcome({ kind: "response", response: { ...m.head, body: null, tunnel: m.tunnel }, finished: this.finished });
          return;
        }
        return this.#answerResponse(m.head, m.body, m.webSocket);
      case "socket":
        this.#socket?.fromGuest(m.data, m.code, m.reason);
        return;
      case "result":
        if (this.#answer()) this.#resolveOutcome({ kind: "result", result: m.value, finished: this.finished });
        return;
      case "error": {
        const code = m.error.name === "VergeInvalidResult" ? "ERR_INVALID_RESULT" : "ERR_FUNCTION_EXCEPTION";
        const err = this.#sandbox.guestError(code, m.error, m.passThrough);
        if (this.#answer()) this.#resolveOutcome({ kind: "error", error: err, finished: this.finished });
        else this.#lateError ??= err;
        return;
      }
      case "idle":
        this.#idle = true;
        this.#waitUntilErrors = m.waitUntilErrors.map((e) => this.#sandbox.guestError("ERR_FUNCTION_EXCEPTION", e));
        return this.#maybeEnd();
      case "chunk":
      case "chunk-error": {
        const w = this.#waiters.get(m.stream);
        if (w === undefined) return;
        this.#waiters.delete(m.stream);
        if (m.type === "chunk") w.resolve(m.chunk);
        else w.reject(this.#sandbox.guestError("ERR_FUNCTION_EXCEPTION", m.error));
        return;
      }
      case "unhandled-rejection":
        this.addLog({ level: "error", message: `Uncaught (in promise) ${m.error.name}: ${m.error.message}`, timestamp: Date.now() });
        return;
    }
  }

  /** Terminal failure (kill, dispose, host error): answers if not yet answered, then ends. */
  fail(err: VergeError): void {
    if (this.#answer()) this.#resolveOutcome({ kind: "error", error: err, finished: this.finished });
    else this.#lateError ??= err;
    this.#socket?.kill();
    for (const w of this.#waiters.values()) w.reject(err);
    this.#waiters.clear();
    this.#end();
  }

  /**
   * The caller gave up before the function answered (its service binding call was aborted, or the
   * caller's invocation ended): the invocation ends as failed with `err`, without killing the isolate.
   * Host ops and timers of an ended invocation never settle in the guest, and the guest drops what it
   * held for them (`finish`), so the isolate serves the next invocation. After the answer it does
   * nothing: the body and waitUntil go on as after any answer (a reader that leaves cancels the body).
   */
  cancel(err: VergeError): boolean {
    if (this.#ended || this.#answered) return false;
    this.leftGuestState = true;
    this.fail(err);
    return true;
  }

  #answer(): boolean {
    if (this.#answered) return false;
    this.#answered = true;
    return true;
  }

  #answerResponse(head: GuestResponseHead, body: null | Uint8Array | { stream: number }, webSocket?: number): void {
    if (webSocket !== undefined) return this.#answerSocket(head, webSocket);
    if (!this.#answered) {
      let headerBytes = 0;
      for (const [name, value] of head.headers) headerBytes += name.length + value.length + 4;
      if (headerBytes > MAX_RESPONSE_HEADER_BYTES) {
        this.#answer();
        if (body !== null && !(body instanceof Uint8Array)) this.#cancelGuest(body.stream, "the response was refused: its headers are too large");
        const err = new VergeError(
          "ERR_RESPONSE_TOO_LARGE",
          `function ${this.#sandbox.source.id}: generated a response with ${head.headers.length} headers of ${headerBytes} bytes, over the limit of ${MAX_RESPONSE_HEADER_BYTES} bytes (128 KiB, as Workers)`,
        );
        this.#resolveOutcome({ kind: "error", error: err, finished: this.finished });
        return;
      }
    }
    if (!this.#answered && body instanceof Uint8Array) {
      this.responseBytes = body.byteLength;
      const cap = this.#limits.responseBytes;
      if (cap !== null && body.byteLength > cap) {
        this.#answer();
        const err = new VergeError("ERR_RESPONSE_TOO_LARGE", `function ${this.#sandbox.source.id}: generated a ${body.byteLength}-byte response body, over the limit of ${cap} bytes`);
        this.#resolveOutcome({ kind: "error", error: err, finished: this.finished });
        return;
      }
    }
    if (!this.#answer()) return;
    let out: InvocationResponse["body"];
    if (body === null || body instanceof Uint8Array) out = body;
    else {
      this.#bodyOpen = true;
      this.leftGuestState = true;
      const stream = body.stream;
      out = closedEvenUnstarted(this.#pullBody(stream), () => {
        this.#cancelGuest(stream, "the reader cancelled the response body");
        this.#bodyOpen = false;
        this.#maybeEnd();
      });
    }
    this.#resolveOutcome({ kind: "response", response: { ...head, body: out }, finished: this.finished });
  }

  /**
   * A 101 with the function's WebSocket: the invocation stays open until the connection is over,
   * without a wall deadline meanwhile; then the wall budget starts again for what is left (waitUntil).
   */
  #answerSocket(head: GuestResponseHead, id: number): void {
    if (!this.#answer()) return;
    this.leftGuestState = true;
    this.#socketOpen = true;
    clearTimeout(this.#deadline);
    const socket = new HostSocket({
      deliver: (data, code, reason) => {
        if (this.#ended) return;
        this.newCpuWindow(this.#sandbox.cpuClock);
        this.#sandbox.enter("socket", [id, data, code, reason], data instanceof Uint8Array);
      },
      onOver: () => {
        this.#socketOpen = false;
        this.#wallBudgetStart = performance.now();
        if (!this.#ended && !this.settled && this.#onWallExpire !== undefined) this.armDeadline(this.#onWallExpire);
        this.#maybeEnd();
      },
    });
    this.#socket = socket;
    this.#resolveOutcome({ kind: "response", response: { ...head, body: null, webSocket: socket }, finished: this.finished });
  }

  /** The next chunk of guest stream `stream` (null: its end), pulled by entering the guest. */
  #pull(stream: number): Promise<Uint8Array | null> {
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.#waiters.set(stream, { resolve, reject });
      try {
        this.#sandbox.enter("pull", [stream], false);
      } catch (e) {
        this.#waiters.delete(stream);
        reject(e);
      }
    });
  }

  /**
   * A guest stream that trusted guest code handed to a host op (a `cache.put` body),
   * read chunk by chunk; leaving it early cancels it in the guest. Unlike the
   * response body, it does not count against the response size budget.
   */
  guestStream(stream: number): AsyncGenerator<Uint8Array> {
    this.leftGuestState = true;
    return closedEvenUnstarted(this.#guestStream(stream), () => this.#cancelGuest(stream, "the host stopped reading the body"));
  }

  #guestStream(stream: number): AsyncGenerator<Uint8Array> {
    return this.#chunksOf(stream, "the host stopped reading the body");
  }

  /** Guest stream `stream`'s chunks, each passed to `each` first; a reader that stops early cancels it with `cancelReason`. */
  async *#chunksOf(stream: number, cancelReason: string, each?: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
    let done = false;
    try {
      while (true) {
        const chunk = await this.#pull(stream);
        if (chunk === null) {
          done = true;
          return;
        }
        each?.(chunk);
        yield chunk;
      }
    } finally {
      if (!done) this.#cancelGuest(stream, cancelReason);
    }
  }

  /** Cancels guest stream `stream` unless the invocation is over (a kill already ended it). */
  #cancelGuest(stream: number, reason: string): void {
    if (this.#ended) return;
    try {
      this.#sandbox.enter("cancelStream", [stream, reason], false);
    } catch {
      // a kill already ended the invocation
    }
  }

  /** A streamed response body: counted against the response size limit; the invocation may end once it is over. */
  async *#pullBody(stream: number): AsyncGenerator<Uint8Array> {
    try {
      yield* this.#chunksOf(stream, "the reader cancelled the response body", (chunk) => {
        this.responseBytes += chunk.byteLength;
        const cap = this.#limits.responseBytes;
        if (cap !== null && this.responseBytes > cap) {
          const err = new VergeError("ERR_RESPONSE_TOO_LARGE", `function ${this.#sandbox.source.id}: streamed more than the limit of ${cap} response bytes`);
          this.#lateError ??= err;
          throw err;
        }
      });
    } finally {
      this.#bodyOpen = false;
      this.#maybeEnd();
    }
  }

  #maybeEnd(): void {
    if (this.#answered && this.#idle && !this.#bodyOpen && !this.#socketOpen) {
      // Deferred: emits arrive while the guest is on the stack; leave it first.
      queueMicrotask(() => this.#end());
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#deadline);
    this.#socket?.kill();
    this.#abort?.abort();
    if (!this.#sandbox.disposed) this.cpuMs(this.#sandbox.cpuClock);
    this.#sandbox.release(this);
    const logs = this.console.report();
    const report: InvocationReport = { limits: this.report(), logs, waitUntilErrors: this.#waitUntilErrors };
    if (this.#lateError !== undefined) report.error = this.#lateError;
    this.#resolveFinished(report);
  }

  report(): LimitReport {
    const l = this.#limits;
    return {
      cpuMs: { used: round(this.#cpuUsedMs), limit: l.cpuMs },
      wallMs: { used: round(performance.now() - this.#wallStart), limit: l.wallMs },
      heapMb: { used: round(this.#heapPeak / (1024 * 1024)), limit: l.memoryMb },
      subrequests: { used: this.subrequests, limit: l.subrequests },
      responseBytes: { used: this.responseBytes, limit: l.responseBytes },
    };
  }
}

/**
 * `gen`, except that ending it before its first `next()` still runs `onUnstarted`:
 * an async generator's `return()` before it started skips its body, `finally`
 * included, so a reader that cancels a body it never read would leave the guest
 * stream (and the invocation) open until the wall deadline.
 */
function closedEvenUnstarted(gen: AsyncGenerator<Uint8Array>, onUnstarted: () => void): AsyncGenerator<Uint8Array> {
  let started = false;
  const endUnstarted = () => {
    if (started) return false;
    started = true;
    onUnstarted();
    return true;
  };
  const wrapped: AsyncGenerator<Uint8Array> = {
    next: (...args) => {
      started = true;
      return gen.next(...args);
    },
    return: (value) => {
      endUnstarted();
      return gen.return(value);
    },
    throw: (err) => (endUnstarted() ? gen.return(undefined).then(() => Promise.reject(err)) : gen.throw(err)),
    [Symbol.asyncIterator]: () => wrapped,
    [Symbol.asyncDispose]: async () => void (await wrapped.return(undefined)),
  };
  return wrapped;
}

/** `request.cf` as JSON; a frozen object (an edge pipeline's, the same for every request) is serialised once. */
const frozenCf = new WeakMap<object, string>();
export function cfJson(cf: Record<string, unknown>): string {
  if (!Object.isFrozen(cf)) return JSON.stringify(cf);
  let json = frozenCf.get(cf);
  if (json === undefined) frozenCf.set(cf, (json = JSON.stringify(cf)));
  return json;
}

/** The "response" emit of a head string `${status}\n${inline}\n${headersJson}\n${statusText}` (GuestApi.dispatchFetch). */
export function responseFromHead(invocation: number, head: string, readInline: (length: number) => Uint8Array): Emit {
  const i1 = head.indexOf("\n");
  const i2 = head.indexOf("\n", i1 + 1);
  const i3 = head.indexOf("\n", i2 + 1);
  const inline = Number(head.slice(i1 + 1, i2));
  return {
    type: "response",
    invocation,
    head: { status: Number(head.slice(0, i1)), statusText: head.slice(i3 + 1), headers: JSON.parse(head.slice(i2 + 1, i3)) as Array<[string, string]> },
    body: inline >= 0 ? readInline(inline) : null,
  };
}
