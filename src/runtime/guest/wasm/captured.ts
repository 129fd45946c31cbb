/**
 * Builtins the WebAssembly accounting uses, captured when the eager prelude runs, before any
 * user code: what the wrappers and the binary rewriter call later must not be anything user
 * code can replace (a prototype method, a getter, an iterator), or a function could hide a
 * memory from the count.
 */

export interface NativeWasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: unknown) => object;
  Memory: new (descriptor: unknown) => object;
  compile: (bytes: unknown) => Promise<object>;
  instantiate: (source: unknown, imports?: unknown) => Promise<unknown>;
  CompileError: new (message: string) => Error;
}

const W = (globalThis as unknown as { WebAssembly: NativeWasm & Record<string, unknown> }).WebAssembly;
const getter = (proto: object, name: PropertyKey): Function => Reflect.getOwnPropertyDescriptor(proto, name)!.get!;
const TypedArrayProto = Reflect.getPrototypeOf(Uint8Array.prototype)!;

/** The WebAssembly namespace's own constructors and functions, as V8 made them. */
export const native: NativeWasm = { Module: W.Module, Instance: W.Instance, Memory: W.Memory, compile: W.compile, instantiate: W.instantiate, CompileError: W.CompileError };
export const moduleExports = (W.Module as unknown as { exports: (m: object) => Array<{ name: string; kind: string }> }).exports;
export const instanceExports = getter(W.Instance.prototype, "exports");
export const moduleImports = (W.Module as unknown as { imports: (m: object) => Array<{ module: string; name: string; kind: string }> }).imports;
export const memoryBuffer = getter(W.Memory.prototype, "buffer");
export const memoryGrow = (W.Memory.prototype as { grow: Function }).grow;

export const apply = Reflect.apply;
export const construct = Reflect.construct;
export const defineProperty = Reflect.defineProperty;
export const getOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
export const ownKeys = Reflect.ownKeys;
export const freeze = Object.freeze;
export const ObjectCtor = Object;
export const create = Object.create;
/** A fresh object with no prototype: reading or writing it consults nothing user code can change. */
export const nullObject = (): Record<PropertyKey, unknown> => create(null) as Record<PropertyKey, unknown>;
export const PromiseCtor = Promise;
export const TypeErrorCtor = TypeError;
export const U8 = Uint8Array;
export const NumberCtor = Number;
export const BigIntCtor = BigInt;
export const fromCharCode = String.fromCharCode;
export const charCodeAt = String.prototype.charCodeAt;
export const isView = ArrayBuffer.isView;
export const taLength = getter(TypedArrayProto, "length");
export const taBuffer = getter(TypedArrayProto, "buffer");
export const taByteOffset = getter(TypedArrayProto, "byteOffset");
export const taByteLength = getter(TypedArrayProto, "byteLength");
export const taTag = getter(TypedArrayProto, Symbol.toStringTag);
export const taSet = (TypedArrayProto as { set: Function }).set;
export const taSubarray = (TypedArrayProto as { subarray: Function }).subarray;
export const dvBuffer = getter(DataView.prototype, "buffer");
export const dvByteOffset = getter(DataView.prototype, "byteOffset");
export const dvByteLength = getter(DataView.prototype, "byteLength");
export const abByteLength = getter(ArrayBuffer.prototype, "byteLength");
export const sabByteLength = typeof SharedArrayBuffer === "function" ? getter(SharedArrayBuffer.prototype, "byteLength") : undefined;
export const WeakRefCtor = WeakRef;
export const weakRefDeref = WeakRef.prototype.deref;
export const WeakMapCtor = WeakMap;
export const weakMapGet = WeakMap.prototype.get;
export const weakMapSet = WeakMap.prototype.set;
export const WeakSetCtor = WeakSet;
export const weakSetHas = WeakSet.prototype.has;
export const weakSetAdd = WeakSet.prototype.add;
