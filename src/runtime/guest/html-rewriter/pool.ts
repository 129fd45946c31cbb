/**
 * The isolate's lol-html instances. The module is compiled once per process by the host
 * (HostBridge.loadWasm) and copied in; each instance (its linear memory, its heap of JS
 * values) belongs to this isolate alone. A transform holds one instance from its first
 * write to its end (engine.ts: two suspended rewriters must not share a shadow stack);
 * finished transforms give it back, so one instance serves every sequential transform.
 *
 * Linear memory is not V8 heap: isolated-vm's memory limit does not see it. After every
 * write the bytes of all live instances are reported to the host (HostBridge.wasmMemory),
 * which counts them with the heap and ends the invocation with ERR_MEMORY_LIMIT past the
 * limit. An instance a dropped transform still held is counted until it is collected.
 */
import { host } from "../core/host.ts";
import { createEngine, type Engine } from "./engine.ts";
import { unitWrappers } from "./units.ts";

const RangeErrorCtor = RangeError;
const WeakRefCtor = WeakRef;
const MAX_IDLE = 2;

// Loaded with the part, so its cost is the platform's (core/lazy.ts), as is the first instance's.
const wasmModule = host.loadWasm("html-rewriter") as WebAssembly.Module;
const wrappers = unitWrappers();
const idle: Engine[] = [];
const live = new Set<WeakRef<Engine>>();
let reported = 0;

function make(): Engine {
  const engine = createEngine(wasmModule, wrappers);
  live.add(new WeakRefCtor(engine));
  return engine;
}

/** An instance for one transform (or one selector check). */
export function acquire(): Engine {
  return idle.pop() ?? make();
}

/** Gives an instance back; one an exception went through is dropped instead. */
export function release(engine: Engine): void {
  if (!engine.broken && idle.length < MAX_IDLE && !idle.includes(engine)) idle.push(engine);
  else forget(engine);
}

function forget(engine: Engine): void {
  for (const ref of live) if (ref.deref() === engine) live.delete(ref);
}

/** Reports the live instances' linear memory to the host; throws once it is over the isolate's limit. */
export function reportMemory(): void {
  let total = 0;
  for (const ref of live) {
    const e = ref.deref();
    if (e === undefined) live.delete(ref);
    else total += e.memoryBytes();
  }
  if (total === reported) return;
  reported = total;
  if (host.wasmMemory(total)) throw new RangeErrorCtor(`HTMLRewriter: exceeded the isolate's memory limit (${Math.ceil(total / 1048576)} MiB of parser memory)`);
}

idle.push(make());
