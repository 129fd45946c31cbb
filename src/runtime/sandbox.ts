/**
 * One isolate running one function version, one invocation at a time.
 *
 * Lifecycle:
 * 1. create: adopt a guest shell (isolate + context + host bridge + prelude, see
 *    shell.ts; a spare from the pool or a new one) → bundle evaluated under the
 *    startup CPU budget (bundle-loader.ts) → guest `init` finds the dialect;
 * 2. invoke: every guest entry is an `applySync` through `enter`, charged this
 *    thread's CPU (cpu-clock.ts, `#measured`) and given a timeout backstop; a wall
 *    deadline timer covers the time the guest waits on host work;
 * 3. kill: any budget overrun disposes the isolate; a killed sandbox is never reused;
 * 4. dispose: the pool drops idle sandboxes by LRU.
 */
import ivm from "isolated-vm";
import { VergeError, type VergeErrorCode } from "../shared/errors.ts";
import type { Limits } from "../shared/limits.ts";
import type { BindingSpec, DialectInfo, Emit, GuestError, Invocation, LogLevel } from "./bridge/protocol.ts";
import type { LogEntry } from "./report.ts";
import type { BindingHandler, CacheApiHost, HostServices, ServiceHost, SubtleHost } from "./host-services.ts";
import type { Prelude } from "./prelude.ts";
import { loadPrelude } from "./prelude.ts";
import { createStackMapper, type StackMapper } from "./source-map.ts";
import { HostOps } from "./host-ops.ts";
import { shellFor, type GuestFn, type GuestShell } from "./shell.ts";
import { ActiveInvocation, cfJson, responseFromHead, type InvocationOutcome } from "./invocation.ts";
import { ConsoleBudget, STARTUP_LOGS } from "./console-budget.ts";
import { backstopMs, busyFactor, clockRef, EXACT_AFTER_US, threadCpuUs } from "./cpu-clock.ts";
import { evaluateBundle, produceCodeCache } from "./bundle-loader.ts";
import { asVergeError, startupError } from "./sandbox-errors.ts";
import { HeldEmits } from "./websocket.ts";
import type { FunctionSource } from "./function-source.ts";

export type { FunctionSource } from "./function-source.ts";

export interface SandboxOptions {
  source: FunctionSource;
  limits: Limits;
  /** Plain `env` values: vars (strings, JSON) and secrets. */
  env: Record<string, unknown>;
  bindings: Record<string, BindingHandler>;
  services: HostServices;
  prelude?: Prelude;
  /** A spare isolate with the prelude already run (made by the pool ahead of need); else one is made now. */
  shell?: GuestShell;
  /** Code cache of the bundle produced earlier in this process (kept by the pool). */
  codeCache?: ivm.ExternalCopy<ArrayBuffer>;
  /** Called when this sandbox produced its bundle's code cache (after its first invocation). */
  onCodeCache?: (cache: ivm.ExternalCopy<ArrayBuffer>) => void;
}

/**
 * Reading heap statistics costs more than a short entry (4 µs warm, over 20 µs when the
 * process was idle): it is read after an entry or an invocation that used this much CPU,
 * and at least every HEAP_SAMPLE_EVERY invocations; between reads the report carries the
 * last reading.
 */
const HEAP_SAMPLE_CPU_MS = 1;
const HEAP_SAMPLE_EVERY = 16;

const DISALLOWED_GLOBAL =
  "Some functionality, such as asynchronous I/O, timeouts, and subrequests, can only be performed while handling a request.";

export class Sandbox {
  readonly source: FunctionSource;
  readonly limits: Limits;
  readonly dialect: DialectInfo;
  readonly startupCpuMs: number;
  readonly #startupConsole = new ConsoleBudget(STARTUP_LOGS, "the top level's");
  codeCache: ivm.ExternalCopy<ArrayBuffer> | undefined;
  lastUsed = Date.now();
  invocations = 0;

  #shell: GuestShell;
  #onCodeCache: SandboxOptions["onCodeCache"];
  #isolate: ivm.Isolate;
  #mailbox: Int32Array;
  #context: ivm.Context;
  #guest: Record<GuestFn, ivm.Reference<(...args: unknown[]) => unknown>>;
  #services: HostServices;
  #subtle: SubtleHost | undefined;
  #ops: HostOps;
  #stack: StackMapper;
  #dead: VergeError | null = null;
  #active: ActiveInvocation | null = null;
  #nextInvocation = 1;
  #heapBytes = 0;
  /** Guest entries running now (see enter) and the emits they made, delivered when they end. */
  #entries = 0;
  #held = new HeldEmits();
  /** WebAssembly linear memory of the isolate (user code's and HTMLRewriter's), which the heap limit does not see. */
  #wasmBytes = 0;

  /** Creates the isolate and evaluates the bundle. Throws a VergeError (ERR_BUNDLE_COMPILE, ERR_NO_HANDLER, ...). */
  constructor(options: SandboxOptions) {
    this.source = options.source;
    this.limits = options.limits;
    this.#services = options.services;
    this.#onCodeCache = options.onCodeCache;
    this.#stack = createStackMapper(options.source.filename ?? "worker.js", options.source.sourceMap);
    this.#ops = new HostOps(this, options.services, options.bindings);
    let shell: GuestShell;
    try {
      // The guest reserves WebAssembly memory against the budget its shell was made with.
      if (options.shell !== undefined && options.shell.memoryMb !== options.limits.memoryMb) throw new Error(`verge: a shell made for ${options.shell.memoryMb} MB cannot run a function with a ${options.limits.memoryMb} MB budget`);
      shell = options.shell ?? shellFor(options.prelude ?? loadPrelude(), options.limits.memoryMb);
    } catch (err) {
      throw this.#startupError(err);
    }
    this.#shell = shell;
    this.#isolate = shell.isolate;
    this.#mailbox = shell.mailbox;
    this.#context = shell.context;
    this.#guest = shell.guest;
    shell.adopt({
      log: (level, text) => this.#log(level, text),
      startOp: (opId, kind, payload) => {
        if (this.#active === null) throw new Error(DISALLOWED_GLOBAL);
        this.#ops.start(this.#active, opId, kind, payload);
      },
      setTimer: (timerId, delay) => {
        if (this.#active === null) throw new Error(DISALLOWED_GLOBAL);
        this.#ops.setTimer(this.#active, timerId, delay);
      },
      clearTimer: (timerId) => this.#ops.clearTimer(timerId),
      // Held until the entry that made them is charged (#enter's finally): a response made in an
      // entry that ran past the CPU budget must not reach the caller.
      emit: (message) => (this.#entries > 0 ? this.#held.hold(message) : this.#active?.onEmit(message)),
      platformWork: (start) => {
        if (start) this.#platformCpu0 = threadCpuUs(true);
        else this.#platformUs += Math.max(0, threadCpuUs(true) - this.#platformCpu0);
      },
      // Over the limit, the isolate goes now, as V8 ends one whose heap is (disposing it inside
      // this callback ends the running entry: "Isolate was disposed during execution").
      wasmMemory: (bytes) => {
        this.#wasmBytes = Math.max(0, bytes);
        if (this.heapBytes <= this.limits.memoryMb * 1048576) return false;
        this.kill("ERR_MEMORY_LIMIT", `exceeded the memory limit of ${this.limits.memoryMb} MB (${Math.ceil(this.#wasmBytes / 1048576)} MB of it WebAssembly linear memory)`);
        return true;
      },
    });
    try {
      options.services.onEnter?.(options.source.id);
      const cpu0 = this.#cpuUs;
      const specs: BindingSpec[] = Object.entries(options.bindings).map(([name, b]) => ({ name, kind: b.kind, methods: b.methods }));
      const loaded = this.#measured(() =>
        evaluateBundle(this.#isolate, this.#context, options.source, {
          ...(options.codeCache ? { codeCache: options.codeCache } : {}),
          timeoutMs: Math.ceil(options.limits.startupCpuMs * 2 + 10),
          prepareEnv: (asGlobals) => this.#prepareEnv(options, specs, asGlobals),
        }),
      );
      this.codeCache = loaded.cacheAccepted ? options.codeCache : undefined;
      this.startupCpuMs = (this.#cpuUs - cpu0) / 1000;
      if (this.startupCpuMs > options.limits.startupCpuMs) {
        throw new VergeError(
          "ERR_STARTUP_CPU_LIMIT",
          `${this.#name()}: evaluating the bundle's top level used ${this.startupCpuMs.toFixed(1)} ms of CPU, over the startup budget of ${options.limits.startupCpuMs} ms`,
        );
      }
      this.dialect = this.#guest.init.applySync(undefined, [loaded.namespace, options.env, specs], {
        arguments: { copy: true },
        result: { copy: true },
        timeout: 1_000,
      }) as DialectInfo;
      if (this.dialect.dialect === null) {
        throw new VergeError(
          "ERR_NO_HANDLER",
          `${this.#name()}: no handler found; expected \`export default { fetch(request, env, ctx) }\`, \`addEventListener("fetch", ...)\` or \`export const handler = async (event) => ...\`, found exports [${this.dialect.exports.join(", ") || "none"}]`,
        );
      }
    } catch (err) {
      this.#disposeIsolate();
      throw this.#startupError(err);
    }
  }

  get disposed(): boolean {
    return this.#dead !== null;
  }
  get busy(): boolean {
    return this.#active !== null;
  }
  get heapBytes(): number {
    return this.#heapBytes + this.#wasmBytes;
  }
  /**
   * CPU the guest has used in this sandbox, in µs: an upper bound of this thread's
   * CPU time inside the calls that run guest code (isolated-vm runs a sync call on
   * the calling thread), over by less than EXACT_AFTER_US per call (see `#measured`).
   * Unlike `isolate.cpuTime`, which counts the wall time the isolate is entered, it
   * does not grow while the machine is busy with other work and this thread waits
   * for a core: a loaded node must not kill functions for CPU they did not use.
   */
  get cpuClock(): number {
    return this.#cpuUs;
  }

  #cpuUs = 0;
  #measuring = false;
  /**
   * CPU the platform used inside guest entries, loading lazy prelude parts (µs, summed), and
   * where the part being loaded started: an entry is not charged for it, as Workers does not
   * charge a function for the runtime's own setup (a cold isolate's first fetch() loads the
   * streams part: 20–50 ms of CPU under load, against a 50 ms budget).
   */
  #platformUs = 0;
  #platformCpu0 = 0;

  /**
   * Runs `fn` (a call into the guest), adding the CPU it took to {@link cpuClock}: an upper
   * bound of this thread's CPU time in the call, never less. A thread uses at most as much
   * CPU as the wall time passes, so:
   * - an entry shorter than EXACT_AFTER_US (wall) is charged its wall time (only a stall
   *   inside it would count, and a stall long enough to matter makes the entry long);
   * - a longer one reads the thread clock exactly after it and is charged the CPU used since
   *   the last reading (taken at most EXACT_AFTER_US of wall time before the entry began, by
   *   any sandbox: `clockRef`; that one may lag, see threadCpuUs), capped by its wall time.
   *   Time spent waiting for a core is not counted, except, under load, up to the last
   *   reading's lag plus EXACT_AFTER_US of waiting inside the entry.
   * The thread clock is a syscall (~3 µs here): a warm call of a short function reads it
   * only when the last reading is stale, not twice per entry, and without `exact`.
   */
  #measured<T>(fn: () => T): T {
    if (this.#measuring) return fn();
    this.#measuring = true;
    const w0 = performance.now();
    if (w0 - clockRef.atMs > EXACT_AFTER_US / 1000) {
      clockRef.cpuUs = threadCpuUs(false);
      clockRef.atMs = w0;
    }
    const cpu0 = clockRef.cpuUs;
    const platform0 = this.#platformUs;
    try {
      return fn();
    } finally {
      const w1 = performance.now();
      const wallUs = (w1 - w0) * 1000;
      let charge = wallUs;
      if (wallUs >= EXACT_AFTER_US) {
        const cpu1 = threadCpuUs(true);
        charge = Math.min(wallUs, cpu1 - cpu0);
        clockRef.cpuUs = cpu1;
        clockRef.atMs = w1;
      }
      // The platform's own work in this entry (lazy parts), read exactly around it.
      if (this.#platformUs !== platform0) charge = Math.max(0, charge - (this.#platformUs - platform0));
      this.#cpuUs += charge;
      this.#measuring = false;
    }
  }

  get isolate(): ivm.Isolate {
    return this.#isolate;
  }
  get subtle(): SubtleHost {
    this.#subtle ??= this.#services.createSubtle();
    return this.#subtle;
  }
  get active(): ActiveInvocation | null {
    return this.#active;
  }

  /**
   * Runs one invocation. Resolves once the function answered (response head, Lambda result, or error); `outcome.finished`
   * settles when it is all over. `subrequest`, `caches`, `service` replace the host's fetch, Cache API, service bindings.
   */
  invoke(job: Invocation, requestBody: AsyncIterable<Uint8Array> | null = null, subrequest?: HostServices["fetch"], caches?: CacheApiHost, service?: ServiceHost): Promise<InvocationOutcome> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    if (this.#active !== null) return Promise.reject(new VergeError("ERR_RUNTIME_BUSY", `${this.#name()}: isolate already running an invocation`));
    const id = this.#nextInvocation++;
    this.invocations++;
    this.lastUsed = Date.now();
    const active = new ActiveInvocation(id, this, this.limits, this.#cpuUs);
    active.subrequest = subrequest;
    active.caches = caches;
    active.service = service;
    this.#active = active;
    if (requestBody !== null && job.kind === "fetch") job.request.body = { stream: this.#ops.registerStream(requestBody) };
    try {
      if (job.kind === "fetch") {
        // The hot path crosses as primitives: ivm structure-clones an object argument at 5–10 µs a call.
        const { method, url, headers, body } = job.request;
        const cf = job.cf === undefined ? undefined : cfJson(job.cf);
        const bytes = body instanceof Uint8Array;
        this.enter("dispatchFetch", [id, method, url, headers.length === 0 ? "[]" : JSON.stringify(headers), body !== null && !bytes ? body.stream : body, cf], bytes);
      } else if (job.kind === "cloudfront") {
        // Lambda@Edge events are JSON (as CloudFront hands them to Lambda): they cross as JSON text.
        this.enter("dispatchCloudFront", [id, JSON.stringify(job.event), JSON.stringify(job.context), this.#shell.now()], false);
      } else this.enter("dispatch", [id, job]);
    } catch (err) {
      active.fail(asVergeError(err, this.#name()));
    }
    // The wall deadline covers the time the guest waits for host work (timers, fetches, a body
    // read, a promise that never settles). An invocation that ended within this first entry,
    // whose wall time the entry's own timeout bounded, needs none (a timer per call costs ~2 µs).
    if (!active.settled) active.armDeadline(() => this.kill("ERR_WALL_LIMIT", `exceeded the wall-time budget of ${this.limits.wallMs} ms`));
    return active.outcome;
  }

  /**
   * Enters the guest. Every guest execution goes through here: CPU is read
   * before and after, and the call carries a timeout backstop, because a
   * synchronous loop blocks this thread and only V8's termination can stop it.
   * `copy`: false when every argument is a primitive (string, number, boolean, null, undefined),
   * which isolated-vm passes as they are: asking it to copy them costs ~0.4 µs a call.
   */
  enter(fn: GuestFn, args: unknown[], copy = true): void {
    if (this.#dead !== null) throw this.#dead;
    const a = this.#active;
    const cpuBefore = a === null ? 0 : a.windowCpuMs(this.#cpuUs); // since the last WebSocket peer event, if any
    const cpuLeft = a === null ? this.limits.startupCpuMs : this.limits.cpuMs - cpuBefore;
    const wallLeft = a === null ? this.limits.wallMs : a.wallLeftMs();
    // Wall time bounds CPU time on this thread; three times the CPU left plus 50 ms, times the
    // machine's load per core (busyFactor), stops a runaway loop (on a grid: backstopMs), and the CPU
    // read decides the verdict.
    const byCpu = (Math.max(1, cpuLeft) * 3 + 50) * busyFactor();
    const timeout = backstopMs(Math.min(byCpu, wallLeft));
    this.#services.onEnter?.(this.source.id);
    let result: unknown;
    this.#entries++;
    try {
      result = this.#measured(() => {
        try {
          const ref = this.#guest[fn];
          return copy ? ref.applySync(undefined, args, { arguments: { copy: true }, timeout }) : ref.applySync(undefined, args as never[], { timeout });
        } finally {
          // A result the guest posted in the mailbox during the entry is emitted now, where its
          // Callback would have been: before the entry is charged and checked, even when it failed.
          this.#shell.takeResult();
        }
      });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (this.#dead !== null) throw this.#dead;
      if (/memory limit/i.test(msg) || this.#isolate.isDisposed) {
        throw this.kill("ERR_MEMORY_LIMIT", `exceeded the memory limit of ${this.limits.memoryMb} MB`);
      }
      if (/timed out/i.test(msg)) {
        // The backstop is wall time: say CPU only when the CPU was really used (a host stall is not).
        const used = a === null ? 0 : a.windowCpuMs(this.#cpuUs);
        if (a !== null && used >= this.limits.cpuMs) {
          throw this.kill("ERR_CPU_LIMIT", `exceeded the CPU budget of ${this.limits.cpuMs} ms (used ${used.toFixed(1)} ms)`);
        }
        if (a !== null && a.wallLeftMs() <= 1) throw this.kill("ERR_WALL_LIMIT", `exceeded the wall-time budget of ${this.limits.wallMs} ms`);
        throw this.kill("ERR_WALL_LIMIT", `one call into the function did not return within its ${timeout} ms backstop (CPU used ${used.toFixed(1)} of ${this.limits.cpuMs} ms)`);
      }
      throw err;
    } finally {
      if (this.#dead === null && a !== null) this.#afterEnter(a, cpuBefore);
      if (--this.#entries === 0 && this.#held.size > 0) {
        const held = this.#held.take();
        // A kill (CPU, wall, memory) already answered the invocation: what the entry made is dropped.
        if (this.#dead === null) for (const m of held) this.#active?.onEmit(m);
      }
    }
    // A response head returned by dispatchFetch (GuestApi.dispatchFetch), then an idle posted through
    // the shared mailbox during this entry (see shell.ts): after the entry's other emits, in that order.
    if (typeof result === "string" && this.#dead === null && a !== null && a === this.#active) a.onEmit(responseFromHead(a.id, result, this.#shell.readInline));
    const idle = this.#mailbox[0]!;
    if (idle !== 0) {
      this.#mailbox[0] = 0;
      if (this.#dead === null && a !== null && a === this.#active && a.id === idle) a.onEmit({ type: "idle", invocation: idle, waitUntilErrors: [] });
    }
  }

  #afterEnter(a: ActiveInvocation, cpuBefore: number): void {
    const used = a.windowCpuMs(this.#cpuUs);
    if (used > this.limits.cpuMs) {
      this.kill("ERR_CPU_LIMIT", `exceeded the CPU budget of ${this.limits.cpuMs} ms (used ${used.toFixed(1)} ms)`);
      return;
    }
    // Heap statistics after a long entry; otherwise at release (see HEAP_SAMPLE_EVERY).
    if (used - cpuBefore >= HEAP_SAMPLE_CPU_MS) this.#sampleHeap(a);
  }

  #sampleHeap(a: ActiveInvocation): void {
    const heap = this.#isolate.getHeapStatisticsSync();
    this.#heapBytes = heap.used_heap_size + heap.externally_allocated_size;
    a.noteHeap(this.heapBytes);
  }

  /** Disposes the isolate for good and fails the running invocation with `code`. */
  kill(code: VergeErrorCode, reason: string): VergeError {
    if (this.#dead !== null) return this.#dead;
    const err = new VergeError(code, `${this.#name()}: ${reason}`);
    this.#dead = err;
    this.#disposeIsolate();
    const a = this.#active;
    if (a !== null) {
      a.fail(err);
      this.#ops.closeAll();
    }
    return err;
  }

  /** The running invocation ended: clean guest and host state, free the isolate for the next one. */
  release(a: ActiveInvocation): void {
    if (this.#active !== a) return;
    this.#ops.closeAll();
    if (this.#dead === null) {
      try {
        // Guest timers and outgoing body streams are the only state `finish` clears.
        if (a.leftGuestState) this.enter("finish", [a.id]);
        if (this.#dead === null && (this.invocations % HEAP_SAMPLE_EVERY === 1 || a.cpuUsedMs >= HEAP_SAMPLE_CPU_MS)) this.#sampleHeap(a);
        a.noteHeap(this.heapBytes);
        this.#shell.linker.refreshAfterUse();
        if (this.codeCache === undefined && this.invocations === 1) this.#produceCodeCache();
      } catch {
        // enter() already killed the sandbox if the guest misbehaved.
      }
    }
    this.#active = null;
    this.lastUsed = Date.now();
  }

  dispose(): void {
    if (this.#dead === null) this.#dead = new VergeError("ERR_RUNTIME_DISPOSED", `${this.#name()}: isolate disposed`);
    this.#active?.fail(this.#dead);
    this.#ops.closeAll();
    this.#disposeIsolate();
  }

  /** Maps a guest error's stack through the bundle's source map. */
  guestError(code: VergeErrorCode, e: GuestError, passThrough = false): VergeError {
    const stack = this.#stack.map(e.stack || `${e.name}: ${e.message}`);
    const message = code === "ERR_INVALID_RESULT" ? e.message : `${e.name}: ${e.message}`;
    return new VergeError(code, `${this.#name()}: ${message}`, { guestStack: stack, details: { passThrough, errorName: e.name, errorMessage: e.message } });
  }

  get ops(): HostOps {
    return this.#ops;
  }

  #name(): string {
    return `function ${this.source.id}`;
  }

  #startupError(err: unknown): VergeError {
    // this.#dead: killed from a host callback during startup (WebAssembly memory over the limit at the top level).
    return err instanceof VergeError ? err : (this.#dead ?? startupError(err, this.#name(), this.limits, this.#stack));
  }

  /**
   * `env` before the bundle runs (guest `prepareEnv`). A classic script (service-worker syntax)
   * reads its bindings as globals, from its top level on, as in Workers (`asGlobals`); a module
   * that imports `cloudflare:workers` reads `env` from it. Other ES modules get `env` from init.
   */
  #prepareEnv(options: SandboxOptions, specs: BindingSpec[], asGlobals: boolean): void {
    if (asGlobals && specs.length === 0 && Object.keys(options.env).length === 0) return;
    this.#guest.prepareEnv.applySync(undefined, [options.env, specs, asGlobals], { arguments: { copy: true }, timeout: 1_000 });
  }

  /**
   * The bundle's code cache, produced after its first invocation rather than when it was compiled:
   * off the cold start's path (~0.5 ms for 50 KiB), and holding the bytecode of every function that
   * request ran, so the next isolate of this version (the pool keeps it per version) compiles none.
   */
  #produceCodeCache(): void {
    this.codeCache = produceCodeCache(this.#isolate, this.source);
    if (this.codeCache !== undefined) this.#onCodeCache?.(this.codeCache);
  }

  /** Console lines of the bundle's top level, within their budget. */
  get startupLogs(): LogEntry[] {
    return this.#startupConsole.kept;
  }

  /**
   * A console line: kept in the invocation's report (or the startup logs) and forwarded to the
   * host's live log while within the budget (console-budget.ts); past it, one notice is forwarded
   * and the rest dropped.
   */
  #log(level: LogLevel, text: string): void {
    const entry = { level, message: String(text), timestamp: Date.now() };
    const budget = this.#active?.console ?? this.#startupConsole;
    const dropped = budget.add(entry);
    if (dropped === 0) this.#services.onLog?.(entry, this.source.id);
    else if (dropped === 1) this.#services.onLog?.(budget.notice(entry.timestamp), this.source.id);
  }

  #disposeIsolate(): void {
    this.#subtle?.dispose();
    this.#subtle = undefined;
    try {
      if (!this.#isolate.isDisposed) this.#isolate.dispose();
    } catch {
      // Already disposed by a memory-limit kill.
    }
  }
}
