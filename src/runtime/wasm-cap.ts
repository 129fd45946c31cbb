/**
 * The per-memory cap on WebAssembly linear memory, for the whole process.
 *
 * V8's heap limit (isolated-vm `memoryLimit`) does not see linear memory: left alone, one
 * `memory.grow` inside a module reserves up to V8's own ceiling (4 GiB for a 32-bit memory,
 * 16 GiB for a memory64). The guest makes every memory user code can grow with a maximum it
 * grants against the isolate's budget (guest/wasm/accounting.ts); this flag is the backstop for
 * any memory made otherwise: `memory.grow` past it returns -1 inside wasm (a RangeError from
 * `Memory.prototype.grow`), a memory declared with a larger minimum fails to instantiate.
 *
 * V8 flags are process-wide and must be set before the isolates that use them exist: this
 * module sets it when it is loaded (shell.ts, the only maker of isolates, imports it), which
 * covers every host of the runtime (edge workers in process, the child host, dev, the harness).
 * The cap is the largest budget any function may have (MAX_MEMORY_MB): a function with a smaller
 * budget is stopped by the guest's accounting. Node's own WebAssembly (undici's llhttp) uses a
 * few pages and is not affected.
 */
import { setFlagsFromString } from "node:v8";
import type ivm from "isolated-vm";
import { MAX_MEMORY_MB } from "../shared/limits.ts";

/** 64 KiB pages in MAX_MEMORY_MB. */
export const WASM_MAX_PAGES = MAX_MEMORY_MB * 16;

setFlagsFromString(`--wasm-max-mem-pages=${WASM_MAX_PAGES}`);

/**
 * V8's `gc` function for `isolate`, to hand to the guest's trusted code (HostBridge.loadGc): made
 * in a context of its own (V8 installs `gc` on the global of a context made while `--expose-gc`
 * is set; the flag is set for that one context and restored at once), so no context that runs user
 * code ever has it. Contexts are made on this thread only, so no other one can be made meanwhile.
 */
export function gcFunctionOf(isolate: ivm.Isolate): ivm.Copy<unknown> | ivm.Transferable {
  const hadGc = typeof (globalThis as { gc?: unknown }).gc === "function";
  setFlagsFromString("--expose-gc");
  let context: ivm.Context;
  try {
    context = isolate.createContextSync();
  } finally {
    if (!hadGc) setFlagsFromString("--no-expose-gc");
  }
  const gc = context.global.getSync("gc", { reference: true }) as ivm.Reference<unknown>;
  context.release();
  return gc.derefInto();
}
