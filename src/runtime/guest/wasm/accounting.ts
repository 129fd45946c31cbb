/**
 * Every live WebAssembly linear memory of the isolate, user code's and the prelude's
 * (HTMLRewriter's instances), their total reported to the host, and the reservations that bound
 * how far user code's memories can grow.
 *
 * Linear memory is not V8 heap: isolated-vm's memory limit does not see it. The host counts the
 * total reported here with the heap (HostBridge.wasmMemory) and, over the isolate's limit, disposes
 * the isolate inside that call: the entry ends there, user code cannot catch its way past it
 * (ERR_MEMORY_LIMIT). The total is reported after each memory is made (a `WebAssembly.Memory`, an
 * instance) or grown from JS, and at the end of every guest entry (guest/index.ts), which covers a
 * `memory.grow` inside wasm, invisible to JS until then.
 *
 * Reservations: growth inside wasm is seen only when control comes back to the runtime, so what
 * one call into wasm can reach is bounded by the maxima of the memories instead. Every memory user
 * code can grow is made by the runtime (install.ts) with a maximum granted here: at most the budget,
 * and all the granted maxima of live memories together at most RESERVE_BUDGETS times the budget.
 * When a memory would not get the maximum it asks for, V8's collector runs once first (memories
 * of instances nobody holds give their reservation back), then it gets what is left, never less
 * than its initial size (it then cannot grow: `memory.grow` fails). The prelude's own memories
 * (HTMLRewriter) are trusted code's, reported after each use, and reserve nothing.
 *
 * Memories are held by WeakRef: one that is collected stops counting. With no memory ever made, a
 * report is one comparison.
 */
import { host } from "../core/host.ts";
import { abByteLength, apply, memoryBuffer, nullObject, sabByteLength, WeakRefCtor, weakRefDeref, WeakSetCtor, weakSetAdd, weakSetHas } from "./captured.ts";

export const PAGE = 65536;
/** How many budgets the granted maxima of live memories may add up to: two modules (say yoga and resvg) may each grow to the whole budget. */
export const RESERVE_BUDGETS = 2;
/** The isolate's memory budget in 64 KiB pages (the host passes it in MB when it makes the isolate). */
export const budgetPages = Math.max(1, Math.floor(host.memoryMb * 16));

// Slots 0..count-1, in null-prototype records (no Array.prototype setter or iterator involved).
const refs = nullObject() as Record<number, WeakRef<object>>;
const shared = nullObject() as Record<number, boolean>;
/** Pages of maximum granted to the memory in each slot (0: one that reserves nothing). */
const granted = nullObject() as Record<number, number>;
let count = 0;
/** The sum of `granted` over the slots, collected memories included until a scan drops them. */
let reservedPages = 0;
const seen = new WeakSetCtor<object>();
let reported = 0;
let gc: (() => void) | undefined;
/** A collection ran during this guest entry: another would free nothing more (see grantPages). */
let collected = false;

/** Counts `memory` (a WebAssembly.Memory) from now on, holding `grantedPages` of reservation; one already counted is ignored. */
export function trackMemory(memory: object, grantedPages = 0): void {
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
  granted[count] = grantedPages;
  reservedPages += grantedPages;
  count++;
}

/**
 * The maximum, in pages, a new memory of `initial` pages gets when it asks for `wanted` (its
 * declared maximum, or -1 for none): never more than it asked for nor than the budget, never less
 * than `initial` unless it asked for less (then V8 refuses the memory, as it would have). Not yet
 * reserved: trackMemory does that with the memory.
 */
export function grantPages(initial: number, wanted: number): number {
  let ask = wanted < 0 || wanted > budgetPages ? budgetPages : wanted;
  // A memory whose initial size is past the budget is made (and counted: ERR_MEMORY_LIMIT), as before.
  if (ask < initial && !(wanted >= 0 && wanted < initial)) ask = initial;
  const cap = RESERVE_BUDGETS * budgetPages;
  if (reservedPages + ask > cap && reservedPages > 0 && !collected) {
    // Before the scan: a memory a WeakRef gave out during this job stays alive until it ends, so
    // once per entry (the scan below and every report give them all out).
    collected = true;
    if (gc === undefined) gc = host.loadGc();
    apply(gc, undefined, []);
    liveWasmBytes();
  }
  const left = cap - reservedPages;
  const grant = ask <= left ? ask : left > initial ? left : initial;
  return wanted >= 0 && wanted < grant ? wanted : grant;
}

/** The bytes of one memory now (its buffer grows with it). */
export function memoryBytes(memory: object, isShared = false): number {
  const buffer = apply(memoryBuffer, memory, []) as object;
  return apply(isShared ? sabByteLength! : abByteLength, buffer, []) as number;
}

/** The bytes of every live memory; drops the collected ones (compacting the slots in place) and their reservations. */
export function liveWasmBytes(): number {
  let total = 0;
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const memory = apply(weakRefDeref, refs[i]!, []) as object | undefined;
    if (memory === undefined) {
      reservedPages -= granted[i]!;
      continue;
    }
    total += memoryBytes(memory, shared[i]);
    if (kept !== i) {
      refs[kept] = refs[i]!;
      shared[kept] = shared[i]!;
      granted[kept] = granted[i]!;
    }
    kept++;
  }
  for (let i = kept; i < count; i++) {
    delete refs[i];
    delete shared[i];
    delete granted[i];
  }
  count = kept;
  return total;
}

/**
 * Reports the total to the host when it changed. True when it put the isolate over its limit (the
 * host has disposed it: nothing after this runs in a real isolate). `entryEnds`: the guest entry
 * ends with this report (guest/index.ts).
 */
export function reportWasmMemory(entryEnds = false): boolean {
  if (entryEnds) collected = false;
  if (count === 0 && reported === 0) return false;
  const total = liveWasmBytes();
  if (total === reported) return false;
  reported = total;
  return host.wasmMemory(total);
}
