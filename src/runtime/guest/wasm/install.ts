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
import { trackMemory, reportWasmMemory } from "./accounting.ts";
import { chunk } from "../core/lazy.ts";
import type { UNREADABLE as Unreadable } from "./binary.ts";

/** binary.ts's UNREADABLE (a value import of it would put the reader in the eager part). */
const UNREADABLE: typeof Unreadable = false;
import {
  abByteLength,
  apply,
  construct,
  defineProperty,
  dvBuffer,
  dvByteLength,
  dvByteOffset,
  freeze,
  getOwnPropertyDescriptor,
  instanceExports,
  isView,
  memoryBuffer,
  memoryGrow,
  moduleExports,
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
/** Module → the export names binary.ts added to it. */
const hiddenOf = new WeakMapCtor<object, ArrayLike<string>>();
/** Instance → its exports without the hidden names (only instances of modules that have some). */
const shownExports = new WeakMapCtor<object, object>();

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
  const exposed = chunk("wasm-binary").exposeMemories(bytes);
  if (exposed === null) return construct(native.Module, [bytes], newTarget) as object;
  if (exposed === UNREADABLE) {
    construct(native.Module, [bytes]);
    throw new native.CompileError("WebAssembly.Module(): verge could not read this module's sections to count its memory");
  }
  let module: object;
  try {
    module = construct(native.Module, [exposed.bytes], newTarget) as object;
  } catch (e) {
    // Invalid somewhere the layout did not show: V8's error for the original bytes (same offsets).
    construct(native.Module, [bytes]);
    throw e;
  }
  apply(weakMapSet, hiddenOf, [module, exposed.hidden]);
  return module;
}

/** Compiles `source` from its copied bytes (copyBytes); with none, V8's error for `source`, else a TypeError. */
function compileCopy(bytes: Uint8Array | null, source: unknown, newTarget: Ctor): object {
  if (bytes !== null) return compileBytes(bytes, newTarget);
  construct(native.Module, [source]);
  throw new TypeErrorCtor("WebAssembly.Module(): Argument 0 must be a buffer source");
}

function isHidden(hidden: ArrayLike<string>, name: unknown): boolean {
  for (let i = 0; i < hidden.length; i++) if (hidden[i] === name) return true;
  return false;
}

function isMemory(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  try {
    apply(memoryBuffer, value, []);
    return true;
  } catch {
    return false;
  }
}

/** Counts the instance's exported memories (hidden ones included) and keeps the exports user code sees. */
function adoptInstance(instance: object, module: unknown): object {
  const exports = apply(instanceExports, instance, []) as Record<PropertyKey, unknown>;
  const keys = ownKeys(exports);
  for (let i = 0; i < keys.length; i++) {
    const value = exports[keys[i]!];
    if (isMemory(value)) trackMemory(value);
  }
  const hidden = apply(weakMapGet, hiddenOf, [module]) as ArrayLike<string> | undefined;
  if (hidden !== undefined) {
    // V8's exports object: null prototype, frozen, in export order.
    const shown = nullObject();
    for (let i = 0; i < keys.length; i++) {
      if (!isHidden(hidden, keys[i])) defineProperty(shown, keys[i]!, getOwnPropertyDescriptor(exports, keys[i]!)!);
    }
    apply(weakMapSet, shownExports, [instance, freeze(shown)]);
  }
  reportWasmMemory();
  return instance;
}

function newInstance(module: unknown, imports: unknown, withImports: boolean, newTarget: Ctor): object {
  const instance = construct(native.Instance, withImports ? [module, imports] : [module], newTarget) as object;
  return adoptInstance(instance, module);
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
  const memory = construct(native.Memory, arguments.length > 0 ? [descriptor] : [], new.target) as object;
  trackMemory(memory);
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

/** `WebAssembly.Module.exports(module)` without the hidden names. */
function exports(module: unknown): unknown {
  const list = apply(moduleExports, native.Module, [module]) as Array<{ name: string }>;
  const hidden = apply(weakMapGet, hiddenOf, [module]) as ArrayLike<string> | undefined;
  if (hidden === undefined) return list;
  const shown: Array<{ name: string }> = [];
  let n = 0;
  for (let i = 0; i < list.length; i++) if (!isHidden(hidden, list[i]!.name)) shown[n++] = list[i]!;
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
  replaceMethod(Module, "exports", exports);
  replaceConstructor(ns, "Instance", native.Instance, Instance);
  replaceConstructor(ns, "Memory", native.Memory, Memory);
  replaceMethod(native.Memory.prototype, "grow", grow);
  replaceMethod(ns, "compile", compile);
  replaceMethod(ns, "instantiate", instantiate);
  const exportsGetter = {
    get exports(): object {
      const own = apply(instanceExports, this, []) as object;
      return (apply(weakMapGet, shownExports, [this]) as object | undefined) ?? own;
    },
  };
  const getter = getOwnPropertyDescriptor(exportsGetter, "exports")!.get!;
  defineProperty(native.Instance.prototype, "exports", { ...getOwnPropertyDescriptor(native.Instance.prototype, "exports"), get: markNative(getter, "get exports") });
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
