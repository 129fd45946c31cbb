/**
 * Every live WebAssembly linear memory of the isolate, user code's and the prelude's
 * (HTMLRewriter's instances), and their total reported to the host.
 *
 * Linear memory is not V8 heap: isolated-vm's memory limit does not see it. The host counts the
 * total reported here with the heap (HostBridge.wasmMemory) and, over the isolate's limit, disposes
 * the isolate inside that call: the entry ends there, user code cannot catch its way past it
 * (ERR_MEMORY_LIMIT). The total is reported after each memory is made (a `WebAssembly.Memory`, an
 * instance) or grown from JS, and at the end of every guest entry (guest/index.ts), which covers a
 * `memory.grow` inside wasm, invisible to JS until then.
 *
 * Memories are held by WeakRef: one that is collected stops counting. With no memory ever made, a
 * report is one comparison.
 */
import { host } from "../core/host.ts";
import { abByteLength, apply, memoryBuffer, nullObject, sabByteLength, WeakRefCtor, weakRefDeref, WeakSetCtor, weakSetAdd, weakSetHas } from "./captured.ts";

// Slots 0..count-1, in a null-prototype record (no Array.prototype setter or iterator involved).
const refs = nullObject() as Record<number, WeakRef<object>>;
const shared = nullObject() as Record<number, boolean>;
let count = 0;
const seen = new WeakSetCtor<object>();
let reported = 0;

/** Counts `memory` (a WebAssembly.Memory) from now on; one already counted is ignored. */
export function trackMemory(memory: object): void {
  if (apply(weakSetHas, seen, [memory]) === true) return;
  apply(weakSetAdd, seen, [memory]);
  let isShared = false;
  const buffer = apply(memoryBuffer, memory, []) as object;
  try {
    apply(abByteLength, buffer, []);
  } catch {
    isShared = true;
  }
  refs[count] = new WeakRefCtor(memory);
  shared[count] = isShared;
  count++;
}

/** The bytes of one memory now (its buffer grows with it). */
export function memoryBytes(memory: object, isShared = false): number {
  const buffer = apply(memoryBuffer, memory, []) as object;
  return apply(isShared ? sabByteLength! : abByteLength, buffer, []) as number;
}

/** The bytes of every live memory; drops the collected ones (compacting the slots in place). */
export function liveWasmBytes(): number {
  let total = 0;
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const memory = apply(weakRefDeref, refs[i]!, []) as object | undefined;
    if (memory === undefined) continue;
    total += memoryBytes(memory, shared[i]);
    if (kept !== i) {
      refs[kept] = refs[i]!;
      shared[kept] = shared[i]!;
    }
    kept++;
  }
  for (let i = kept; i < count; i++) {
    delete refs[i];
    delete shared[i];
  }
  count = kept;
  return total;
}

/**
 * Reports the total to the host when it changed. True when it put the isolate over its limit (the
 * host has disposed it: nothing after this runs in a real isolate).
 */
export function reportWasmMemory(): boolean {
  if (count === 0 && reported === 0) return false;
  const total = liveWasmBytes();
  if (total === reported) return false;
  reported = total;
  return host.wasmMemory(total);
}
