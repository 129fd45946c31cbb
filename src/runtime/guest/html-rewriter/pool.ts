/**
 * The isolate's lol-html instances. The module is compiled once per process by the host
 * (HostBridge.loadWasm) and copied in; each instance (its linear memory, its heap of JS
 * values) belongs to this isolate alone. A transform holds one instance from its first
 * write to its end (engine.ts: two suspended rewriters must not share a shadow stack);
 * finished transforms give it back, so one instance serves every sequential transform.
 *
 * Linear memory is not V8 heap: isolated-vm's memory limit does not see it. Each instance's
 * memory is counted with the isolate's other WebAssembly memories (wasm/accounting.ts) until it
 * is collected, and the total reported to the host after every write (HostBridge.wasmMemory),
 * which counts it with the heap and ends the invocation with ERR_MEMORY_LIMIT past the limit.
 */
import { host } from "../core/host.ts";
import { liveWasmBytes, reportWasmMemory, trackMemory } from "../wasm/accounting.ts";
import { createEngine, type Engine } from "./engine.ts";
import { unitWrappers } from "./units.ts";

const RangeErrorCtor = RangeError;
const MAX_IDLE = 2;

// Loaded with the part, so its cost is the platform's (core/lazy.ts), as is the first instance's.
const wasmModule = host.loadWasm("html-rewriter") as WebAssembly.Module;
const wrappers = unitWrappers();
const idle: Engine[] = [];

function make(): Engine {
  const engine = createEngine(wasmModule, wrappers);
  trackMemory(engine.memory);
  return engine;
}

/** An instance for one transform (or one selector check). */
export function acquire(): Engine {
  return idle.pop() ?? make();
}

/** Gives an instance back; one an exception went through is dropped instead. */
export function release(engine: Engine): void {
  if (!engine.broken && idle.length < MAX_IDLE && !idle.includes(engine)) idle.push(engine);
}

/** Reports the isolate's WebAssembly memory (these instances' and user code's) to the host; throws once it is over the isolate's limit. */
export function reportMemory(): void {
  if (reportWasmMemory()) throw new RangeErrorCtor(`HTMLRewriter: exceeded the isolate's memory limit (${Math.ceil(liveWasmBytes() / 1048576)} MiB of WebAssembly memory)`);
}

idle.push(make());
