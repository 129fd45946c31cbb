/**
 * One instance of lol-html compiled to WebAssembly (the npm package html-rewriter-wasm,
 * Cloudflare's own parser with Binaryen's asyncify, so a handler may return a promise), with
 * verge's own glue: the package's JavaScript needs Node (`require("fs")`, `util`, `assert`).
 * The glue speaks the module's wasm-bindgen ABI (the import names below, hashes included, are
 * that build's; a different build fails to link, loudly) and keeps the instance's state in a
 * closure, so an isolate may hold more than one instance and no two isolates share any.
 *
 * wasm-bindgen's conventions, as this build uses them: a JS value crosses as an index into
 * `heap` (indices below 32 are a stack for borrowed arguments, 32..35 the constants);
 * a string crosses as (pointer, length) of UTF-8 in the linear memory, allocated with
 * `__wbindgen_malloc`; a function returning a string writes (pointer, length) at a return
 * area taken from the shadow stack (`__wbindgen_add_to_stack_pointer`).
 *
 * Asyncify (https://github.com/WebAssembly/binaryen/blob/main/src/passes/Asyncify.cpp):
 * a handler that returns a promise makes the module call `awaitPromise(stackPtr, promise)`;
 * the glue starts an unwind into that rewriter's own save area (1 KiB at `stackPtr`); when
 * the export returns, `run` awaits the promise, starts a rewind and calls the export again,
 * which resumes where it stopped. Two rewriters suspended at once on one instance would
 * share its shadow stack, so an instance serves one transform at a time (see pool.ts).
 */
import { TextDecoder, TextEncoder } from "../platform/encoding.ts";
import { apply as reflectApply, instanceExports, native } from "../wasm/captured.ts";

export interface Exports {
  memory: WebAssembly.Memory;
  [name: string]: ((...args: number[]) => number) | WebAssembly.Memory;
}

type Fn = (...args: number[]) => number;

/** The JS side of one unit (Element, Comment...) the module hands to a handler: made by units.ts. */
export type Wrap = (engine: Engine, ptr: number) => object;

export interface Wrappers {
  element: Wrap;
  comment: Wrap;
  textchunk: Wrap;
  doctype: Wrap;
  endtag: Wrap;
  documentend: Wrap;
}

export interface Engine {
  /** Calls export `name` (a function of the module). */
  call(name: string, ...args: number[]): number;
  /** A JS value as a heap index the module owns from now on. */
  give(value: unknown): number;
  /** `s` copied into the linear memory: [pointer, length]; the module frees it. */
  str(s: string): [number, number];
  /** `bytes` copied into the linear memory: [pointer, length]; the module frees it. */
  bytes(bytes: Uint8Array): [number, number];
  /** Calls `name(retptr, ...args)`, which writes a string's (pointer, length) at retptr: that string. */
  readString(name: string, ...args: number[]): string;
  /** The heap value at `idx`, released. */
  take(idx: number): unknown;
  /** Runs `name(...args)` on the rewriter whose asyncify area is `stackPtr`, resuming it after each promise a handler returned. */
  run(stackPtr: number, name: string, args: number[]): Promise<void>;
  /** The instance's linear memory (a WebAssembly.Memory; it never shrinks), counted by wasm/accounting.ts. */
  readonly memory: object;
  /** Units made during the current call, freed (and made invalid) when it ends. */
  readonly units: Array<{ free(): void }>;
  /** An exception or a trap went through the module: its state is not to be trusted again. */
  broken: boolean;
}

const HEAP_START = 36;
const ASYNCIFY_AREA = 1024;
const NONE = 0;
const UNWINDING = 1;
const REWINDING = 2;

// Built-ins the glue calls while user code runs: captured when the part loads.
const TypeErrorCtor = TypeError;
const ErrorCtor = Error;
const PromiseCtor = Promise;
const Uint8ArrayCtor = Uint8Array;
const Int32ArrayCtor = Int32Array;
const ArrayCtor = Array;
const StringFn = String;
const apply = Reflect.apply;
const push = Array.prototype.push;

export function createEngine(module: WebAssembly.Module, wrappers: Wrappers): Engine {
  const heap: unknown[] = new ArrayCtor(32).fill(undefined);
  heap.push(undefined, null, true, false);
  let heapNext = heap.length;
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const encoder = new TextEncoder();
  let x!: Exports;
  let u8: Uint8Array | null = null;
  let i32: Int32Array | null = null;
  /** The promise a suspended rewriter waits on, by asyncify area. */
  const waiting = new Map<number, Promise<unknown>>();

  const mem = (): Uint8Array => {
    if (u8 === null || u8.buffer !== x.memory.buffer) u8 = new Uint8ArrayCtor(x.memory.buffer);
    return u8;
  };
  const words = (): Int32Array => {
    if (i32 === null || i32.buffer !== x.memory.buffer) i32 = new Int32ArrayCtor(x.memory.buffer);
    return i32;
  };
  const get = (idx: number): unknown => heap[idx];
  const add = (v: unknown): number => {
    if (heapNext === heap.length) heap.push(heap.length + 1);
    const idx = heapNext;
    heapNext = heap[idx] as number;
    heap[idx] = v;
    return idx;
  };
  const take = (idx: number): unknown => {
    const v = heap[idx];
    if (idx >= HEAP_START) {
      heap[idx] = heapNext;
      heapNext = idx;
    }
    return v;
  };
  const fn = (name: string): Fn => x[name] as Fn;
  const readStr = (ptr: number, len: number): string => decoder.decode(mem().subarray(ptr, ptr + len));
  const copyIn = (bytes: Uint8Array): [number, number] => {
    const ptr = fn("__wbindgen_malloc")(bytes.length);
    mem().set(bytes, ptr);
    return [ptr, bytes.length];
  };
  const str = (s: string): [number, number] => copyIn(encoder.encode(s));
  const writeStr = (retptr: number, s: string): void => {
    const [ptr, len] = str(s);
    words()[retptr / 4 + 1] = len;
    words()[retptr / 4] = ptr;
  };
  // A truthy-or-absent flag read from a JS object: 0xFFFFFF is wasm-bindgen's None.
  const flag = (v: unknown): number => (v === undefined || v === null ? 0xffffff : v ? 1 : 0);
  const field = (idx: number, name: string): number => {
    const v = (get(idx) as Record<string, unknown>)[name];
    return v === undefined || v === null ? 0 : add(v);
  };
  const wrapUnit = (kind: keyof Wrappers) => (ptr: number): number => {
    const unit = wrappers[kind](engine, ptr) as { free(): void };
    apply(push, engine.units, [unit]);
    return add(unit);
  };

  const imports: Record<string, Function> = {
    __wbindgen_object_drop_ref: (i: number) => void take(i),
    __wbindgen_object_clone_ref: (i: number) => add(get(i)),
    __wbindgen_string_new: (p: number, l: number) => add(readStr(p, l)),
    __wbindgen_memory: () => add(x.memory),
    __wbindgen_throw: (p: number, l: number) => {
      throw new ErrorCtor(readStr(p, l));
    },
    __wbindgen_rethrow: (i: number) => {
      throw take(i);
    },
    __wbindgen_debug_string: (retptr: number, i: number) => {
      let s: string;
      try {
        s = StringFn(get(i));
      } catch {
        s = "[value]";
      }
      writeStr(retptr, s);
    },
    __wbg_String_60c4ba333b5ca1c6: (retptr: number, i: number) => writeStr(retptr, StringFn(get(i))),
    __wbg_html_cd9a0f328493678b: (i: number) => flag((get(i) as { html?: unknown }).html),
    __wbg_enableEsiTags_de6b91cc61a25874: (i: number) => flag((get(i) as { enableEsiTags?: unknown }).enableEsiTags),
    // Handler records (rewriter.ts builds them: plain objects of trusted functions).
    __wbg_element_c38470ed972aea27: (i: number) => field(i, "element"),
    __wbg_comments_ba86bc03331d9378: (i: number) => field(i, "comments"),
    __wbg_text_7800bf26cb443911: (i: number) => field(i, "text"),
    __wbg_doctype_ac58c0964a59b61b: (i: number) => field(i, "doctype"),
    __wbg_comments_94d876f6c0502e82: (i: number) => field(i, "comments"),
    __wbg_text_4606a16c30e4ae91: (i: number) => field(i, "text"),
    __wbg_end_34efb9402eac8a4e: (i: number) => field(i, "end"),
    __wbg_element_new: wrapUnit("element"),
    __wbg_comment_new: wrapUnit("comment"),
    __wbg_textchunk_new: wrapUnit("textchunk"),
    __wbg_doctype_new: wrapUnit("doctype"),
    __wbg_endtag_new: wrapUnit("endtag"),
    __wbg_documentend_new: wrapUnit("documentend"),
    __wbg_new_4fee7e2900033464: () => add([]),
    __wbg_push_ba9b5e3c25cff8f9: (a: number, v: number) => apply(push, get(a) as unknown[], [get(v)]),
    // A handler (or the output sink) called: an exception is stored for the module to return as an error.
    __wbg_call_6c4ea719458624eb: (f: number, self: number, arg: number) => {
      try {
        return add(apply(get(f) as Function, get(self), [get(arg)]));
      } catch (e) {
        fn("__wbindgen_exn_store")(add(e));
        return 0;
      }
    },
    __wbg_new_917809a3e20a4b00: (p: number, l: number) => add(new TypeErrorCtor(readStr(p, l))),
    __wbg_instanceof_Promise_c6535fc791fcc4d2: (i: number) => get(i) instanceof PromiseCtor,
    __wbg_buffer_89a8560ab6a3d9c6: (i: number) => add((get(i) as { buffer: ArrayBuffer }).buffer),
    __wbg_newwithbyteoffsetandlength_e45d8b33c02dc3b5: (b: number, off: number, len: number) => add(new Uint8ArrayCtor(get(b) as ArrayBuffer, off >>> 0, len >>> 0)),
    __wbg_new_bd2e1d010adb8a1a: (i: number) => add(new Uint8ArrayCtor(get(i) as Uint8Array)),
    __wbg_awaitPromise_39a1101fd8518869: (stackPtr: number, i: number) => {
      const state = fn("asyncify_get_state")();
      if (state === REWINDING) {
        fn("asyncify_stop_rewind")();
        return;
      }
      if (state !== NONE || stackPtr % 4 !== 0) throw new ErrorCtor("HTMLRewriter: asyncify state is inconsistent");
      // The save area's header: where the saved stack starts and ends.
      words()[stackPtr / 4] = stackPtr + 8;
      words()[stackPtr / 4 + 1] = stackPtr + ASYNCIFY_AREA;
      fn("asyncify_start_unwind")(stackPtr);
      waiting.set(stackPtr, get(i) as Promise<unknown>);
    },
  };

  // V8's own constructor and getter, captured before user code ran (the globals are user code's to replace).
  const instance = new native.Instance(module, { __wbindgen_placeholder__: imports as WebAssembly.ModuleImports });
  x = reflectApply(instanceExports, instance, []) as Exports;

  const engine: Engine = {
    units: [],
    broken: false,
    call: (name, ...args) => fn(name)(...args),
    give: add,
    str,
    bytes: copyIn,
    take,
    readString(name, ...args) {
      const retptr = fn("__wbindgen_add_to_stack_pointer")(-16);
      try {
        fn(name)(retptr, ...args);
        const w = words();
        const ptr = w[retptr / 4]!;
        const len = w[retptr / 4 + 1]!;
        const s = readStr(ptr, len);
        fn("__wbindgen_free")(ptr, len);
        return s;
      } finally {
        fn("__wbindgen_add_to_stack_pointer")(16);
      }
    },
    async run(stackPtr, name, args) {
      const f = fn(name);
      try {
        f(...args);
        while (fn("asyncify_get_state")() === UNWINDING) {
          fn("asyncify_stop_unwind")();
          const p = waiting.get(stackPtr);
          waiting.delete(stackPtr);
          await p;
          fn("asyncify_start_rewind")(stackPtr);
          f();
        }
      } catch (e) {
        // A handler's exception (returned by the module and rethrown), a rejected promise, or a trap:
        // the rewriter stopped midway, and its instance is not used for another transform.
        engine.broken = true;
        if (fn("asyncify_get_state")() === UNWINDING) fn("asyncify_stop_unwind")();
        throw e;
      }
    },
    memory: x.memory,
  };
  return engine;
}
