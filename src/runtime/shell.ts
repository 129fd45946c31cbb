/**
 * A guest shell: a new isolate with its context, the host bridge and the guest
 * prelude already run, not yet bound to any function. A Sandbox adopts one and
 * loads a bundle into it. Shells hold no user code, so the pool can make them
 * ahead of need (spares) and a cold start pays only for the bundle.
 *
 * The host callbacks installed in the context forward to the shell's owner,
 * set once when a Sandbox adopts it; before that they refuse to work.
 */
import ivm from "isolated-vm";
import { MAILBOX_BODY, type Emit, type LogLevel } from "./bridge/protocol.ts";
import type { Prelude, PreludeLinker } from "./prelude.ts";
import { urlParse, urlSet } from "./url-host.ts";
// Caps each WebAssembly memory before the first isolate exists (see wasm-cap.ts).
import { gcFunctionOf } from "./wasm-cap.ts";

/** What the host bridge calls into: the Sandbox that adopted the shell. */
export interface ShellOwner {
  log(level: LogLevel, text: string): void;
  startOp(opId: number, kind: string, payload: unknown): void;
  setTimer(timerId: number, delay: number): void;
  clearTimer(timerId: number): void;
  emit(message: Emit): void;
  /** A lazy prelude part starts / finished loading (outermost only): its CPU is the platform's. */
  platformWork(start: boolean): void;
  /** The isolate's WebAssembly memories hold `bytes` of linear memory now; true when that puts the isolate over its limit. */
  wasmMemory(bytes: number): boolean;
}

export type GuestFn = "init" | "prepareEnv" | "dispatch" | "dispatchFetch" | "dispatchCloudFront" | "settle" | "fireTimer" | "pull" | "cancelStream" | "socket" | "finish" | "warm";
const GUEST_FNS: GuestFn[] = ["init", "prepareEnv", "dispatch", "dispatchFetch", "dispatchCloudFront", "settle", "fireTimer", "pull", "cancelStream", "socket", "finish", "warm"];

/**
 * The mailbox (MAILBOX_BODY in bridge/protocol.ts): memory shared with the guest's trusted prelude (never reachable from user code), read by the
 * host without a crossing: int32 0 is the id of an invocation that went idle with every waitUntil
 * fulfilled (0 = none; the host clears it); int32 1 and 2 are the id of an invocation whose
 * Lambda@Edge result is posted (0 = none) and that result's length in UTF-16 code units, its
 * JSON text from byte MAILBOX_BODY (`takeResult`); from byte MAILBOX_BODY too, a response body
 * small enough to fit, copied out by the host inside the `respond` call that names its length
 * (a Lambda@Edge invocation never responds, a Workers one never posts a result). Each is a
 * Callback argument that is no longer structure-cloned (~2 µs each; issue 2, warm dispatch), or a
 * Callback crossing saved (the result, ~2–5 µs; issue 4).
 */
const MAILBOX_BYTES = MAILBOX_BODY + 16 * 1024;

export interface GuestShell {
  readonly isolate: ivm.Isolate;
  /** The shared mailbox's words (see MAILBOX_BODY). */
  readonly mailbox: Int32Array;
  readonly context: ivm.Context;
  readonly guest: Record<GuestFn, ivm.Reference<(...args: unknown[]) => unknown>>;
  readonly memoryMb: number;
  readonly prelude: Prelude;
  /** This isolate's prelude modules (lazy parts, code cache refresh). */
  readonly linker: PreludeLinker;
  /** Binds the shell to its one owner for good. */
  adopt(owner: ShellOwner): void;
  /** A copy of the first `length` bytes of the mailbox's body area (a body the guest posted there). */
  readInline(length: number): Uint8Array;
  /** The guest's clock (`HostBridge.now()`, ms since the isolate's time origin), read on the host. */
  now(): number;
  /**
   * Emits the Lambda@Edge result the guest posted in the mailbox, if any (see MAILBOX_BODY): after
   * every entry, and before any emit that crosses as a Callback, so the owner sees the emits in the
   * order the guest made them.
   */
  takeResult(): void;
}

/**
 * Creates a shell: 1. isolate with a heap cap (ivm's floor is 8 MB); 2. context;
 * 3. host bridge on `__verge_host`; 4. the prelude's eager part, which captures the
 * bridge and publishes `__verge_guest`; 5. references to the guest entry points,
 * then the global is deleted; 6. with `warm`, the request path run once. Throws (and
 * disposes the isolate) if any step fails.
 */
export interface ShellOptions {
  /**
   * Run the guest's request path once on synthetic data (GuestApi.warm) and refresh the prelude's
   * code cache from it: for shells made ahead of need, so the request that adopts one does not
   * pay for that (~0.5 ms of a first call).
   */
  warm?: boolean;
}

export function createShell(prelude: Prelude, memoryMb: number, options: ShellOptions = {}): GuestShell {
  const isolate = new ivm.Isolate({ memoryLimit: Math.max(8, Math.ceil(memoryMb)) });
  try {
    const context = isolate.createContextSync();
    const timeOrigin = performance.now();
    let owner: ShellOwner | null = null;
    let linker: PreludeLinker | null = null;
    let chunkDepth = 0;
    const shared = new SharedArrayBuffer(MAILBOX_BYTES);
    const inlineBody = new Uint8Array(shared, MAILBOX_BODY);
    const words = new Int32Array(shared, 0, 3);
    const resultText = Buffer.from(shared, MAILBOX_BODY, MAILBOX_BYTES - MAILBOX_BODY);
    const takeResult = (): void => {
      const invocation = words[1]!;
      if (invocation === 0) return;
      words[1] = 0;
      const units = Math.min(words[2]!, (MAILBOX_BYTES - MAILBOX_BODY) >> 1);
      let value: unknown;
      try {
        value = JSON.parse(resultText.toString("utf16le", 0, units * 2));
      } catch {
        // Not reachable from user code (the prelude posts what its captured JSON.stringify made).
        owner?.emit({ type: "error", invocation, error: { name: "VergeInvalidResult", message: "the handler's result did not arrive whole", stack: "" }, passThrough: false });
        return;
      }
      owner?.emit({ type: "result", invocation, value });
    };
    // Every emit that crosses as a Callback comes after a result posted in the mailbox before it.
    const posted = (message: Emit): void => {
      takeResult();
      owner?.emit(message);
    };
    const now = () => performance.now() - timeOrigin;
    const bound = (): ShellOwner => {
      if (owner === null) throw new Error("verge: this isolate is not running a function yet");
      return owner;
    };
    installHost(context, {
      log: (level: LogLevel, text: string) => owner?.log(level, text),
      now,
      randomBytes: (n: number) => {
        if (!Number.isInteger(n) || n < 0 || n > 65536) throw new RangeError("randomBytes: 0..65536 bytes");
        return crypto.getRandomValues(new Uint8Array(n));
      },
      randomUUID: () => crypto.randomUUID(),
      urlParse,
      urlSet,
      startOp: (opId: number, kind: string, payload: unknown) => bound().startOp(opId, kind, payload),
      setTimer: (timerId: number, delay: number) => bound().setTimer(timerId, delay),
      clearTimer: (timerId: number) => owner?.clearTimer(timerId),
      emit: posted,
      // The frequent emits, with primitive arguments (see HostBridge.respond).
      respond: (invocation: number, status: number, statusText: string, headers: string, body: Uint8Array | number | null, inline: number) =>
        posted({
          type: "response",
          invocation,
          head: { status, statusText, headers: JSON.parse(headers) },
          // slice: the caller gets its own bytes, never a view of shared memory.
          body: inline >= 0 ? inlineBody.slice(0, Math.min(inline, inlineBody.length)) : typeof body === "number" ? { stream: body } : body,
        }),
      result: (invocation: number, json: string) => posted({ type: "result", invocation, value: JSON.parse(json) }),
      idle: (invocation: number, errors: string) => posted({ type: "idle", invocation, waitUntilErrors: errors === "" ? [] : JSON.parse(errors) }),
      chunk: (stream: number, chunk: Uint8Array | null) => posted({ type: "chunk", stream, chunk }),
      socket: (socket: number, data: string | Uint8Array | null, code: number, reason: string) =>
        posted({ type: "socket", socket, data: typeof data === "string" || data instanceof Uint8Array ? data : null, code: Number(code), reason: String(reason) }),
      // Runs inside the guest entry that asked (its CPU and timeout backstop cover it); the guest
      // gets the part's module namespace itself, not a Reference.
      loadChunk: (name: string) => {
        // A part may load another while it evaluates: only the outermost load is timed.
        if (chunkDepth++ === 0) owner?.platformWork(true);
        if (linker === null || typeof name !== "string") throw new TypeError("verge: the prelude is not linked yet");
        return linker.load(name).derefInto();
      },
      chunkLoaded: () => {
        if (chunkDepth === 0) return;
        if (--chunkDepth === 0) owner?.platformWork(false);
      },
      loadWasm: (name: string) => prelude.wasm(name).copyInto({ release: true }),
      wasmMemory: (bytes: number) => (typeof bytes === "number" && owner !== null ? owner.wasmMemory(bytes) : false),
      loadGc: () => gcFunctionOf(isolate),
    }, shared, memoryMb);
    linker = prelude.instantiate(isolate, context);
    const guest = takeGuestApi(context);
    if (options.warm === true) {
      guest.warm.applySync(undefined, [], { timeout: 2_000 });
      linker.refreshAfterUse();
    }
    return {
      isolate,
      mailbox: new Int32Array(shared, 0, 1),
      context,
      guest,
      memoryMb,
      prelude,
      linker,
      adopt(o) {
        if (owner !== null) throw new Error("verge: shell already adopted");
        owner = o;
      },
      // slice: the caller gets its own bytes, never a view of shared memory.
      readInline: (length) => inlineBody.slice(0, Math.min(length, inlineBody.length)),
      now,
      takeResult,
    };
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose();
    throw err;
  }
}

/**
 * Installs the host bridge in one call into the isolate (a setSync per function was ~15 entries),
 * with the isolate's memory budget: the shell is made for one (a spare too, for functions of that
 * budget only: pool.ts), and the guest reserves WebAssembly memory against it (guest/wasm/).
 */
function installHost(context: ivm.Context, fns: Record<string, (...args: never[]) => unknown>, mailbox: SharedArrayBuffer, memoryMb: number): void {
  const names = Object.keys(fns);
  const fields = names.map((n, i) => `${n}: $${i}`).join(", ");
  context.evalClosureSync(`globalThis.__verge_host = { ${fields}, mailbox: $${names.length}, memoryMb: $${names.length + 1} };`, [
    ...names.map((n) => new ivm.Callback(fns[n]!)),
    new ivm.ExternalCopy(mailbox).copyInto({ release: true }),
    memoryMb,
  ]);
}

function takeGuestApi(context: ivm.Context): Record<GuestFn, ivm.Reference<(...args: unknown[]) => unknown>> {
  const api = context.global.getSync("__verge_guest", { reference: true }) as ivm.Reference<Record<string, unknown>>;
  const out = {} as Record<GuestFn, ivm.Reference<(...args: unknown[]) => unknown>>;
  for (const n of GUEST_FNS) out[n] = api.getSync(n, { reference: true }) as ivm.Reference<(...args: unknown[]) => unknown>;
  api.release();
  context.evalSync("delete globalThis.__verge_guest");
  return out;
}

/**
 * A shell for a Sandbox that has no spare: while no isolate of this process has refreshed the
 * prelude's code cache, the shell runs the request path once before the function is in it (not
 * charged to anyone), so the process's first function is not charged for compiling it.
 */
export function shellFor(prelude: Prelude, memoryMb: number): GuestShell {
  return createShell(prelude, memoryMb, prelude.refreshed ? {} : { warm: true });
}
