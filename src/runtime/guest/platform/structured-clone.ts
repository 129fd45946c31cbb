/**
 * structuredClone (HTML §2.7, StructuredSerializeWithTransfer + deserialize in
 * one pass). Clones primitives, wrapper objects, Date, RegExp, ArrayBuffer
 * (resizable ones keep their maximum), typed arrays and DataView (views of one
 * buffer stay views of one clone), Map, Set, Error types (name, message, stack,
 * cause, as V8 does), arrays (holes and extra properties kept), plain objects
 * (own enumerable string keys), DOMException, and cycles. Functions, symbols,
 * WeakMap/WeakSet/WeakRef, Promises and the platform objects that are not
 * serializable throw a "DataCloneError" DOMException.
 *
 * `transfer` accepts ArrayBuffers: after a successful clone each one is
 * detached and its clone holds the bytes (copied once; not zero-copy).
 *
 * Deviations: objects are filled breadth-first from a work list (no stack
 * overflow on deep graphs), so getters on nested objects run in a different
 * order than the spec's depth-first walk; a Proxy is cloned through its traps
 * instead of throwing (a Proxy cannot be detected from JS); a Map, Set or
 * ArrayBuffer whose prototype was swapped for Object.prototype is cloned as a
 * plain object (builtins are found by prototype first, to keep plain objects
 * free of exception-based brand checks).
 *
 * @example
 * const copy = structuredClone({ when: new Date(), seen: new Set([1]) });
 */
import { DOMException, isDOMException } from "./dom-exception.ts";
import { cloneHooks as hooks, dataCloneError } from "./clone-rules.ts";

const getter = (proto: object, key: PropertyKey) => Object.getOwnPropertyDescriptor(proto, key)!.get!;
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taTag = getter(TypedArrayProto, Symbol.toStringTag);
const taBuffer = getter(TypedArrayProto, "buffer");
const taOffset = getter(TypedArrayProto, "byteOffset");
const taLength = getter(TypedArrayProto, "length");
const dvBuffer = getter(DataView.prototype, "buffer");
const dvOffset = getter(DataView.prototype, "byteOffset");
const dvLength = getter(DataView.prototype, "byteLength");
const abByteLength = getter(ArrayBuffer.prototype, "byteLength");
const abResizable = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "resizable")?.get;
const abMax = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "maxByteLength")?.get;
const abDetached = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached")?.get;
const abTransfer = (ArrayBuffer.prototype as { transfer?: () => ArrayBuffer }).transfer;
const mapSize = getter(Map.prototype, "size");
const setSize = getter(Set.prototype, "size");
const regexpSource = getter(RegExp.prototype, "source");
const regexpFlags = getter(RegExp.prototype, "flags");
const isError = (Error as { isError?: (v: unknown) => boolean }).isError ?? ((v: unknown) => v instanceof Error);

const ERROR_CTORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};
const TYPED_ARRAYS: Record<string, new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView> = {};
for (const C of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]) {
  TYPED_ARRAYS[C.name] = C as never;
}
const F16 = (globalThis as { Float16Array?: typeof Float32Array }).Float16Array;
if (F16) TYPED_ARRAYS.Float16Array = F16 as never;

/** Runs `fn` as a brand check: true when it does not throw. */
function has(fn: Function, v: unknown): boolean {
  try {
    fn.call(v);
    return true;
  } catch {
    return false;
  }
}

type Kind = "boolean" | "number" | "string" | "bigint" | "date" | "regexp" | "buffer" | "map" | "set" | "forbidden";

const getValue = (proto: { valueOf(): unknown }) => (v: object) => proto.valueOf.call(v);
/**
 * Builtins with internal slots, each with a brand check that throws for other
 * objects. Candidates are found with isPrototypeOf (cheap, never throws) so a
 * plain object costs no exceptions; the builtin tag of Object.prototype.toString
 * also catches a Date, RegExp or wrapper whose prototype was swapped.
 */
const BUILTINS: Array<[object, Kind, (v: object) => unknown, string?]> = [
  [Date.prototype, "date", getValue(Date.prototype), "Date"],
  [RegExp.prototype, "regexp", (v) => regexpSource.call(v), "RegExp"],
  [Map.prototype, "map", (v) => mapSize.call(v)],
  [Set.prototype, "set", (v) => setSize.call(v)],
  [ArrayBuffer.prototype, "buffer", (v) => abByteLength.call(v)],
  [Boolean.prototype, "boolean", getValue(Boolean.prototype), "Boolean"],
  [Number.prototype, "number", getValue(Number.prototype), "Number"],
  [String.prototype, "string", getValue(String.prototype), "String"],
  [BigInt.prototype, "bigint", getValue(BigInt.prototype)],
  [WeakMap.prototype, "forbidden", (v) => WeakMap.prototype.has.call(v, {})],
  [WeakSet.prototype, "forbidden", (v) => WeakSet.prototype.has.call(v, {})],
  [WeakRef.prototype, "forbidden", (v) => WeakRef.prototype.deref.call(v)],
  [FinalizationRegistry.prototype, "forbidden", (v) => FinalizationRegistry.prototype.unregister.call(v, {})],
  // No side-effect-free brand check exists for promises: anything inheriting from Promise.prototype counts.
  [Promise.prototype, "forbidden", () => 0],
];
if (typeof SharedArrayBuffer === "function") {
  BUILTINS.push([SharedArrayBuffer.prototype, "forbidden", (v) => getter(SharedArrayBuffer.prototype, "byteLength").call(v)]);
}
const objectToString = Object.prototype.toString;
const isPrototypeOf = Object.prototype.isPrototypeOf;

/** Which builtin `v` is, by its internal slots; undefined for an ordinary object. */
function kindOf(v: object): Kind | undefined {
  const direct = Object.getPrototypeOf(v);
  const tag = (objectToString.call(v) as string).slice(8, -1);
  // Fast path for plain objects (the bulk of most graphs).
  if ((direct === Object.prototype || direct === null) && tag === "Object") return undefined;
  for (let i = 0; i < BUILTINS.length; i++) {
    const [proto, kind, brand, builtinTag] = BUILTINS[i]!;
    if (v === proto || (builtinTag !== tag && !isPrototypeOf.call(proto, v))) continue;
    try {
      brand(v);
      return kind;
    } catch {
      // Not this builtin after all (an object inheriting from its prototype).
    }
  }
  return undefined;
}

function cloneBuffer(buf: ArrayBuffer): ArrayBuffer {
  if (abDetached?.call(buf)) throw new DOMException("An ArrayBuffer is detached and could not be cloned.", "DataCloneError");
  const len = abByteLength.call(buf) as number;
  const out = abResizable?.call(buf) ? new ArrayBuffer(len, { maxByteLength: abMax!.call(buf) as number }) : new ArrayBuffer(len);
  new Uint8Array(out).set(new Uint8Array(buf, 0, len));
  return out;
}

export function structuredClone<T>(value: T, options?: { transfer?: Iterable<unknown> } | null): T {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  const memo = new Map<object, unknown>();
  const transfers: ArrayBuffer[] = [];
  const transferList = options?.transfer;
  if (transferList !== undefined) {
    for (const t of transferList as Iterable<unknown>) {
      if (typeof t !== "object" || t === null || !has(abByteLength, t)) {
        throw new DOMException("Value not transferable: only ArrayBuffers can be transferred.", "DataCloneError");
      }
      const buf = t as ArrayBuffer;
      if (memo.has(buf)) throw new DOMException("An ArrayBuffer is listed twice in the transfer list.", "DataCloneError");
      memo.set(buf, cloneBuffer(buf));
      transfers.push(buf);
    }
  }

  // Containers are created when first met and filled from this work list.
  const work: Array<() => void> = [];
  const clone = (v: unknown): unknown => {
    if (typeof v === "symbol" || typeof v === "function") throw dataCloneError(v);
    if (typeof v !== "object" || v === null) return v;
    const seen = memo.get(v);
    if (seen !== undefined || memo.has(v)) return seen;
    const out = cloneObject(v);
    memo.set(v, out.value);
    if (out.fill) work.push(out.fill);
    return out.value;
  };

  const cloneObject = (v: object): { value: unknown; fill?: () => void } => {
    for (const hook of hooks) if (hook.test(v)) return { value: hook.clone(v) };
    if (isDOMException(v)) {
      const e = new DOMException(v.message, v.name);
      if (typeof v.stack === "string") Object.defineProperty(e, "stack", { value: v.stack, writable: true, configurable: true });
      return { value: e };
    }
    if (ArrayBuffer.isView(v)) {
      const tag = taTag.call(v) as string | undefined;
      if (tag !== undefined) {
        const buf = clone(taBuffer.call(v)) as ArrayBuffer;
        return { value: new TYPED_ARRAYS[tag]!(buf, taOffset.call(v) as number, taLength.call(v) as number) };
      }
      const buf = clone(dvBuffer.call(v)) as ArrayBuffer;
      return { value: new DataView(buf, dvOffset.call(v) as number, dvLength.call(v) as number) };
    }
    if (!Array.isArray(v)) {
      if (isError(v)) return { value: cloneError(v as Error) };
      switch (kindOf(v)) {
        case "boolean":
        case "number":
        case "string":
        case "bigint":
          return { value: Object((v as { valueOf(): unknown }).valueOf.call(v)) };
        case "date":
          return { value: new Date(Date.prototype.getTime.call(v)) };
        case "regexp":
          return { value: new RegExp(regexpSource.call(v) as string, regexpFlags.call(v) as string) };
        case "buffer":
          return { value: cloneBuffer(v as ArrayBuffer) };
        case "map": {
          const out = new Map();
          const entries = [...Map.prototype.entries.call(v as Map<unknown, unknown>)];
          return { value: out, fill: () => entries.forEach(([k, x]) => out.set(clone(k), clone(x))) };
        }
        case "set": {
          const out = new Set();
          const values = [...Set.prototype.values.call(v as Set<unknown>)];
          return { value: out, fill: () => values.forEach((x) => out.add(clone(x))) };
        }
        case "forbidden":
          throw dataCloneError(v);
      }
    }
    const out = (Array.isArray(v) ? new Array((v as unknown[]).length) : {}) as Record<string, unknown>;
    return {
      value: out,
      fill: () => {
        const keys = Object.keys(v);
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          // Keys deleted by an earlier getter are skipped, as the spec's "if HasOwnProperty" step does.
          if (!Object.hasOwn(v, key)) continue;
          // CreateDataProperty: no setter inherited from Object.prototype runs, "__proto__" stays an own key.
          Object.defineProperty(out, key, { value: clone((v as Record<string, unknown>)[key]), writable: true, enumerable: true, configurable: true });
        }
      },
    };
  };

  const cloneError = (v: Error): Error => {
    let name = "Error";
    try {
      const n = v.name;
      if (typeof n === "string" && Object.hasOwn(ERROR_CTORS, n)) name = n;
    } catch {
      // A throwing name getter: keep "Error", as V8 does.
    }
    const e = new ERROR_CTORS[name]!();
    const msg = Object.getOwnPropertyDescriptor(v, "message");
    if (msg && "value" in msg) Object.defineProperty(e, "message", { value: String(msg.value), writable: true, configurable: true });
    const stack = (v as { stack?: unknown }).stack;
    Object.defineProperty(e, "stack", { value: typeof stack === "string" ? stack : undefined, writable: true, configurable: true });
    const cause = Object.getOwnPropertyDescriptor(v, "cause");
    if (cause && "value" in cause) {
      const c = cause.value;
      work.push(() => Object.defineProperty(e, "cause", { value: clone(c), writable: true, configurable: true }));
    }
    return e;
  };

  const result = clone(value);
  for (let i = 0; i < work.length; i++) work[i]!();
  // Transfer (detach) only once the whole graph cloned, so a failed clone detaches nothing.
  for (const buf of transfers) abTransfer?.call(buf);
  return result as T;
}
