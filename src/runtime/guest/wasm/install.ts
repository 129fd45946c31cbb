/**
 * The WebAssembly JS API as user code sees it, with every linear memory it makes counted
 * (accounting.ts). Installed before user code runs (guest/index.ts); workerd's shape is kept.
 *
 * - `new WebAssembly.Module(bytes)`, `compile`, `instantiate(bytes)`: the module is compiled from a
 *   copy of the bytes in which every memory it defines and keeps to itself is also exported under
 *   a hidden name (binary.ts); V8's own errors (`CompileError`, `TypeError`) are thrown for bad
 *   input, with the original bytes. A module whose sections verge cannot read is refused with a
 *   CompileError rather than run uncounted.
 * - `new WebAssembly.Instance`, `instantiate`: every memory the instance exports, the hidden ones
 *   included, is counted; `instance.exports` and `WebAssembly.Module.exports(module)` do not show
 *   the hidden names.
 * - `new WebAssembly.Memory`, `Memory.prototype.grow`: counted, reported at once.
 * The async forms defer their work one microtask (as V8 does) without calling anything user code
 * can replace, and track in synchronous code, so no promise hook can hide an instance.
 */
import { markNative } from "../core/globals.ts";
import { grantPages, trackMemory, reportWasmMemory } from "./accounting.ts";
import { chunk } from "../core/lazy.ts";
import type { Moved, UNREADABLE as Unreadable } from "./binary.ts";
import { descriptorOf } from "./descriptor.ts";

/** binary.ts's UNREADABLE (a value import of it would put the reader in the eager part). */
const UNREADABLE: typeof Unreadable = false;
import {
  abByteLength,
  apply,
  BigIntCtor,
  construct,
  create,
  defineProperty,
  dvBuffer,
  dvByteLength,
  dvByteOffset,
  getOwnPropertyDescriptor,
  isView,
  memoryGrow,
  moduleExports,
  moduleImports,
  native,
  nullObject,
  ownKeys,
  sabByteLength,
  taBuffer,
  taByteLength,
  taByteOffset,
  taTag,
  TypeErrorCtor,
  U8,
  WeakMapCtor,
  weakMapGet,
  weakMapSet,
} from "./captured.ts";

type Ctor = new (...args: never[]) => object;
/** Module → the memories binary.ts moved to imports (only modules that define some). */
const movedOf = new WeakMapCtor<object, Moved>();

/** A copy of a BufferSource's bytes (the call's bytes, whatever user code does with them later); null for anything else. */
function copyBytes(source: unknown): Uint8Array | null {
  if (typeof source !== "object" || source === null) return null;
  if (isView(source)) {
    const typed = apply(taTag, source, []) !== undefined;
    const buffer = apply(typed ? taBuffer : dvBuffer, source, []) as ArrayBuffer;
    const offset = apply(typed ? taByteOffset : dvByteOffset, source, []) as number;
    const length = apply(typed ? taByteLength : dvByteLength, source, []) as number;
    return new U8(new U8(buffer, offset, length));
  }
  if (isBuffer(abByteLength, source) || (sabByteLength !== undefined && isBuffer(sabByteLength, source))) return new U8(new U8(source as ArrayBuffer));
  return null;
}

/** True when `byteLength` (ArrayBuffer's or SharedArrayBuffer's getter) accepts `value`: its brand check. */
function isBuffer(byteLength: Function, value: object): boolean {
  try {
    apply(byteLength, value, []);
    return true;
  } catch {
    return false;
  }
}

/** Compiles copied bytes with their memories exposed; errors are V8's own, for the bytes as given. */
function compileBytes(bytes: Uint8Array, newTarget: Ctor): object {
  // The reader is a lazy part (binary.ts): only a function that compiles a module loads it.
  const moved = chunk("wasm-binary").importMemories(bytes);
  if (moved === null) return construct(native.Module, [bytes], newTarget) as object;
  if (moved === UNREADABLE) {
    construct(native.Module, [bytes]);
    throw new native.CompileError("WebAssembly.Module(): verge could not read this module's sections to count its memory");
  }
  let module: object;
  try {
    module = construct(native.Module, [moved.bytes], newTarget) as object;
  } catch (e) {
    // Invalid somewhere the layout did not show: V8's error for the original bytes (same offsets).
    construct(native.Module, [bytes]);
    throw e;
  }
  apply(weakMapSet, movedOf, [module, moved]);
  return module;
}

/** Compiles `source` from its copied bytes (copyBytes); with none, V8's error for `source`, else a TypeError. */
function compileCopy(bytes: Uint8Array | null, source: unknown, newTarget: Ctor): object {
  if (bytes !== null) return compileBytes(bytes, newTarget);
  construct(native.Module, [source]);
  throw new TypeErrorCtor("WebAssembly.Module(): Argument 0 must be a buffer source");
}

/**
 * A memory of `initial` pages whose maximum is what accounting.ts grants (`wanted`: the declared
 * maximum, -1 for none), counted with that reservation.
 */
function grantedMemory(initial: number, wanted: number, shared: boolean, i64: boolean, newTarget: Ctor): object {
  const grant = grantPages(initial, wanted);
  const descriptor = nullObject();
  if (i64) descriptor.address = "i64";
  descriptor.initial = i64 ? BigIntCtor(initial) : initial;
  descriptor.maximum = i64 ? BigIntCtor(grant) : grant;
  if (shared) descriptor.shared = true;
  const memory = construct(native.Memory, [descriptor], newTarget) as object;
  trackMemory(memory, grant);
  return memory;
}

/**
 * Instantiates `module`; one whose memories binary.ts moved gets them made here (granted, counted)
 * under its hidden import module name, beside the caller's imports: the object V8 reads inherits
 * from the caller's, so every other import is read from it as before.
 */
function newInstance(module: unknown, imports: unknown, withImports: boolean, newTarget: Ctor): object {
  const moved = typeof module === "object" && module !== null ? (apply(weakMapGet, movedOf, [module]) as Moved | undefined) : undefined;
  if (moved === undefined) {
    const instance = construct(native.Instance, withImports ? [module, imports] : [module], newTarget) as object;
    reportWasmMemory();
    return instance;
  }
  const isObject = (typeof imports === "object" && imports !== null) || typeof imports === "function";
  // No imports object for a module with imports of its own: V8's TypeError.
  if (!isObject && hasOwnImports(module as object, moved)) construct(native.Instance, withImports ? [module, imports] : [module], newTarget);
  const memories = nullObject();
  for (let i = 0; i < moved.memories.length; i++) {
    const m = moved.memories[i]!;
    memories[m.field] = grantedMemory(m.initial, m.maximum, m.shared, m.i64, native.Memory);
  }
  const linked = create(isObject ? (imports as object) : null) as Record<string, unknown>;
  defineProperty(linked, moved.module, { value: memories, enumerable: true });
  try {
    return construct(native.Instance, [module, linked], newTarget) as object;
  } finally {
    reportWasmMemory();
  }
}

/** True when `module` imports anything besides the memories binary.ts moved. */
function hasOwnImports(module: object, moved: Moved): boolean {
  return (apply(moduleImports, native.Module, [module]) as ArrayLike<unknown>).length > moved.memories.length;
}

function isModule(value: unknown): boolean {
  try {
    apply(moduleExports, native.Module, [value]);
    return true;
  } catch {
    return false;
  }
}

function Module(this: unknown, bytes: unknown): object {
  if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Module must be invoked with 'new'");
  return compileCopy(copyBytes(bytes), bytes, new.target as unknown as Ctor);
}

function Instance(this: unknown, module: unknown): object {
  if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Instance must be invoked with 'new'");
  // arguments[1] only when passed: a missing index would be looked up on Object.prototype.
  const withImports = arguments.length > 1;
  return newInstance(module, withImports ? arguments[1] : undefined, withImports, new.target as unknown as Ctor);
}

function Memory(this: unknown, descriptor: unknown): object {
  if (new.target === undefined) throw new TypeErrorCtor("WebAssembly.Memory must be invoked with 'new'");
  const d = descriptorOf(descriptor);
  // Not a descriptor verge can grant a maximum to: one V8 refuses (it throws here).
  if (d === null) construct(native.Memory, arguments.length > 0 ? [descriptor] : [], new.target);
  if (d === null) throw new TypeErrorCtor("WebAssembly.Memory(): verge could not read this memory descriptor");
  const memory = grantedMemory(d.initial, d.maximum, d.shared, d.i64, new.target as unknown as Ctor);
  reportWasmMemory();
  return memory;
}

function grow(this: unknown, delta: unknown): unknown {
  const previous = apply(memoryGrow, this, arguments.length > 0 ? [delta] : []);
  reportWasmMemory();
  return previous;
}

async function compile(bytes: unknown): Promise<object> {
  // The bytes as they are at the call (V8 copies them then too); compiled a microtask later.
  const copied = copyBytes(bytes);
  await undefined;
  return compileCopy(copied, bytes, native.Module);
}

async function instantiate(source: unknown, ..._imports: unknown[]): Promise<unknown> {
  const withImports = arguments.length > 1;
  const imports: unknown = withImports ? arguments[1] : undefined;
  if (isModule(source)) {
    await undefined;
    return newInstance(source, imports, withImports, native.Instance);
  }
  const copied = copyBytes(source);
  await undefined;
  const module = compileCopy(copied, source, native.Module);
  return { module, instance: newInstance(module, imports, withImports, native.Instance) };
}

/** `WebAssembly.Module.imports(module)` without the memories binary.ts moved there. */
function imports(module: unknown): unknown {
  const list = apply(moduleImports, native.Module, [module]) as Array<{ module: string }>;
  const moved = apply(weakMapGet, movedOf, [module]) as Moved | undefined;
  if (moved === undefined) return list;
  const shown: Array<{ module: string }> = [];
  let n = 0;
  for (let i = 0; i < list.length; i++) if (list[i]!.module !== moved.module) shown[n++] = list[i]!;
  return shown;
}

/** Puts `wrapper` where `native` was: same prototype object, statics and property attributes. */
function replaceConstructor(ns: Record<string, unknown>, name: string, original: Ctor, wrapper: Function): void {
  const keys = ownKeys(original);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === "length" || key === "name") continue;
    defineProperty(wrapper, key, getOwnPropertyDescriptor(original, key)!);
  }
  defineProperty(original.prototype, "constructor", { value: wrapper, writable: true, enumerable: false, configurable: true });
  defineProperty(ns, name, { ...getOwnPropertyDescriptor(ns, name), value: markNative(wrapper, name) });
}

function replaceMethod(target: object, name: string, fn: Function): void {
  defineProperty(target, name, { ...getOwnPropertyDescriptor(target, name), value: markNative(fn, name) });
}

/** Installs the counted WebAssembly API; call once, before user code runs. */
export function installWasm(): void {
  const ns = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
  replaceConstructor(ns, "Module", native.Module, Module);
  replaceMethod(Module, "imports", imports);
  replaceConstructor(ns, "Instance", native.Instance, Instance);
  replaceConstructor(ns, "Memory", native.Memory, Memory);
  replaceMethod(native.Memory.prototype, "grow", grow);
  replaceMethod(ns, "compile", compile);
  replaceMethod(ns, "instantiate", instantiate);
  // Not in bare V8 (isolated-vm): no embedder streams a response into the compiler. Should a
  // build have them, they go through the counted path on the response's bytes.
  for (const name of ["compileStreaming", "instantiateStreaming"]) {
    if (typeof ns[name] !== "function") continue;
    const streaming = async function (this: unknown, source: unknown, imports?: unknown): Promise<unknown> {
      const withImports = arguments.length > 1;
      const response = (await source) as { arrayBuffer(): Promise<ArrayBuffer> };
      const bytes = await response.arrayBuffer();
      if (name === "compileStreaming") return compile(bytes);
      return withImports ? instantiate(bytes, imports) : instantiate(bytes);
    };
    replaceMethod(ns, name, streaming);
  }
}
