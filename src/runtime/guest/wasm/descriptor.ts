/**
 * A `WebAssembly.Memory` descriptor read once, the way V8 reads it (`address`, `initial`,
 * `maximum`, `shared`, in that order, each converted as V8 converts it), so that install.ts can
 * make the memory with a maximum of its own choosing from plain values: user code's getters and
 * `valueOf`s run once, as they would have.
 *
 * `null` when V8 would refuse the descriptor, or verge cannot tell what V8 would make of it: the
 * caller then lets V8 throw its own error.
 */
import { BigIntCtor, NumberCtor } from "./captured.ts";

export interface MemoryDescriptor {
  initial: number;
  /** In pages; -1 when none is given. */
  maximum: number;
  shared: boolean;
  i64: boolean;
}

/** V8's upper bounds on a memory's size in pages (its RangeError past them). */
const MAX_PAGES_I32 = 65536;
const MAX_PAGES_I64 = 262144;

/** A page count as V8's [EnforceRange] conversion takes it (-1 for undefined, NaN for what it refuses). */
function pages(value: unknown, i64: boolean): number {
  if (value === undefined) return -1;
  let n: number;
  if (i64) {
    // ToBigInt: a Number is refused; other primitives and objects are converted.
    if (typeof value === "number") return NaN;
    n = NumberCtor(typeof value === "bigint" ? value : BigIntCtor(value as string));
  } else {
    if (typeof value === "bigint") return NaN;
    n = NumberCtor(value);
    // [EnforceRange]: finite, then truncated.
    if (n !== n || n === Infinity || n === -Infinity) return NaN;
    n = n - (n % 1);
  }
  return n >= 0 && n <= (i64 ? MAX_PAGES_I64 : MAX_PAGES_I32) ? n : NaN;
}

export function descriptorOf(descriptor: unknown): MemoryDescriptor | null {
  if ((typeof descriptor !== "object" && typeof descriptor !== "function") || descriptor === null) return null;
  const d = descriptor as Record<string, unknown>;
  const address = d.address === undefined ? undefined : `${d.address as string}`;
  if (address !== undefined && address !== "i32" && address !== "i64") return null;
  const i64 = address === "i64";
  const initial = pages(d.initial, i64);
  const maximum = pages(d.maximum, i64);
  const shared = !!d.shared;
  if (initial !== initial || initial < 0 || maximum !== maximum || (shared && maximum < 0)) return null;
  return { initial, maximum, shared, i64 };
}
