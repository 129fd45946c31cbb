/**
 * Makes every linear memory a WebAssembly module defines a memory the runtime makes: user code's
 * memories must be counted against the isolate's budget (linear memory is not V8 heap), and their
 * maximum chosen by the runtime, per instance, so that growth inside wasm, which the runtime does
 * not see until control comes back to it, stays bounded (accounting.ts).
 *
 * `importMemories` reads the binary's section layout (https://webassembly.github.io/spec/core/binary/modules.html)
 * and moves each entry of the memory section, its memory type byte for byte, to the end of the
 * import section as an import of module `__verge_memory` (with `_` appended until no import of the
 * module has that module name), field the memory's index. Imported memories come first in the
 * memory index space, in import order, and every user import stays before the added ones: every
 * index (memories, functions, the import numbers in V8's messages) is unchanged. The memory section
 * is dropped; an import section is added where none was (after the type section). Everything else
 * is copied byte for byte. A module that defines no memory is left as it is (`null`). Only the
 * layout is checked here: V8 validates the result.
 *
 * Runs after user code: only builtins captured when the prelude loaded (captured.ts).
 */
import { apply, charCodeAt, nullObject, taLength, taSet, taSubarray, U8 } from "./captured.ts";

/** The result when the layout cannot be read (V8 then gives its own CompileError, or verge refuses the module). */
export const UNREADABLE = false;
/** One memory the module defined, now imported as `module`.`field`. */
export interface MovedMemory {
  field: string;
  initial: number;
  /** The declared maximum in pages, -1 when none. */
  maximum: number;
  shared: boolean;
  /** 64-bit addresses (memory64): `new WebAssembly.Memory({ address: "i64" })`. */
  i64: boolean;
}
export interface Moved {
  bytes: Uint8Array;
  /** The import module name of the moved memories. */
  module: string;
  /** The moved memories in index order (a null-prototype list). */
  memories: ArrayLike<MovedMemory>;
}

const IMPORT = 2;
const MEMORY = 5;
const KIND_MEMORY = 2;
const BAD = { unreadable: true };

interface Reader {
  b: Uint8Array;
  p: number;
  end: number;
}

function byte(r: Reader): number {
  if (r.p >= r.end) throw BAD;
  return r.b[r.p++]!;
}

/** An unsigned LEB128 of at most 32 bits. */
function u32(r: Reader): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const x = byte(r);
    result += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) {
      if (result > 0xffffffff) throw BAD;
      return result;
    }
  }
  throw BAD;
}

/** An unsigned LEB128 of at most 64 bits, as a number (exact up to 2^53; V8 refuses more pages anyway). */
function u64(r: Reader): number {
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    const x = byte(r);
    result += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) return result;
  }
  throw BAD;
}

/** Skips a LEB128 of at most `maxBytes` bytes (u64: 10, s33: 5). */
function skipLeb(r: Reader, maxBytes: number): void {
  for (let i = 0; i < maxBytes; i++) if ((byte(r) & 0x80) === 0) return;
  throw BAD;
}

function skipName(r: Reader): void {
  const n = u32(r);
  if (r.p + n > r.end) throw BAD;
  r.p += n;
}

/** A value type or reference type: one byte, or a (ref null? ht) with a heap type index (s33). */
function skipValType(r: Reader): void {
  const t = byte(r);
  if (t === 0x63 || t === 0x64) skipLeb(r, 5);
}

/** Limits: flags (bit 0 max, bit 1 shared, bit 2 64-bit indices), min, max. */
function skipLimits(r: Reader): void {
  const flags = byte(r);
  if ((flags & ~0x07) !== 0) throw BAD;
  const width = (flags & 0x04) !== 0 ? 10 : 5;
  skipLeb(r, width);
  if ((flags & 0x01) !== 0) skipLeb(r, width);
}

/** Reads a memory type (limits: flags, min, max; bit 0 max, bit 1 shared, bit 2 64-bit addresses). */
function memoryType(r: Reader, field: string): MovedMemory {
  const flags = byte(r);
  if ((flags & ~0x07) !== 0) throw BAD;
  const i64 = (flags & 0x04) !== 0;
  const initial = i64 ? u64(r) : u32(r);
  const maximum = (flags & 0x01) === 0 ? -1 : i64 ? u64(r) : u32(r);
  return { field, initial, maximum, shared: (flags & 0x02) !== 0, i64 };
}

/** What the import section holds: its entry count, how many are memories, each entry's module name (start, length pairs). */
interface Imports {
  count: number;
  memories: number;
  names: Record<number, number>;
}

/** Reads (checks) the import section's entries. */
function readImports(r: Reader): Imports {
  const names = nullObject() as Record<number, number>;
  const count = u32(r);
  let memories = 0;
  for (let i = 0; i < count; i++) {
    const length = u32(r);
    names[i * 2] = r.p;
    names[i * 2 + 1] = length;
    if (r.p + length > r.end) throw BAD;
    r.p += length;
    skipName(r);
    const kind = byte(r);
    if (kind === 0x00) u32(r);
    else if (kind === 0x01) {
      skipValType(r);
      skipLimits(r);
    } else if (kind === KIND_MEMORY) {
      skipLimits(r);
      memories++;
    } else if (kind === 0x03) {
      skipValType(r);
      byte(r);
    } else if (kind === 0x04) {
      byte(r);
      u32(r);
    } else throw BAD;
  }
  return { count, memories, names };
}

// Values written are below 2^32: `>>>` keeps them exact.
function lebSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

function writeLeb(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}

function copy(out: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  apply(taSet, out, [apply(taSubarray, src, [from, to]), at]);
  return at + (to - from);
}

/** True when bytes [start, start + length) of `b` spell `name` (ASCII). */
function sameName(b: Uint8Array, start: number, length: number, name: string): boolean {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i++) if (b[start + i] !== apply(charCodeAt, name, [i])) return false;
  return true;
}

/**
 * `bytes` with every memory the module defines moved to an import; `null` when it defines none;
 * UNREADABLE when the section layout cannot be read.
 */
export function importMemories(bytes: Uint8Array): Moved | null | typeof UNREADABLE {
  try {
    return move(bytes);
  } catch (e) {
    if (e === BAD) return UNREADABLE;
    throw e;
  }
}

function move(b: Uint8Array): Moved | null {
  const len = apply(taLength, b, []) as number;
  if (len < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d || b[4] !== 1 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) throw BAD;
  /** Import section: where its header starts, where its entries start (after the count), its end, its count. */
  let importAt = -1;
  let entriesAt = 0;
  let importEnd = 0;
  let imports: Imports = { count: 0, memories: 0, names: nullObject() as Record<number, number> };
  /** Where an import section goes when there is none: before the first section that is not custom or type. */
  let insertAt = len;
  let memoryAt = -1;
  let memoryEnd = 0;
  // Memory types by index among the defined ones: where each starts and ends.
  const types = nullObject() as Record<number, number>;
  const memories = nullObject() as Record<number, MovedMemory> & { length: number };
  let defined = 0;
  const r: Reader = { b, p: 8, end: len };
  while (r.p < len) {
    const headerAt = r.p;
    const id = byte(r);
    const size = u32(r);
    const s: Reader = { b, p: r.p, end: r.p + size };
    if (s.end > len) throw BAD;
    if (id !== 0 && id !== 1 && insertAt === len) insertAt = headerAt;
    if (id === IMPORT) {
      // Twice, or after the memory section: not a valid module (V8 says why).
      if (importAt >= 0 || memoryAt >= 0) throw BAD;
      importAt = headerAt;
      importEnd = s.end;
      const countAt = s.p;
      u32(s);
      entriesAt = s.p;
      s.p = countAt;
      imports = readImports(s);
    } else if (id === MEMORY) {
      if (memoryAt >= 0) throw BAD;
      memoryAt = headerAt;
      memoryEnd = s.end;
      defined = u32(s);
      for (let i = 0; i < defined; i++) {
        types[i * 2] = s.p;
        memories[i] = memoryType(s, "" + (imports.memories + i));
        types[i * 2 + 1] = s.p;
      }
    }
    // A section read here must end where its size says.
    if ((id === IMPORT || id === MEMORY) && s.p !== s.end) throw BAD;
    r.p = s.end;
  }
  if (defined === 0) return null;
  memories.length = defined;
  // 1. The module name: unlike every import's module name.
  let module = "__verge_memory";
  for (let taken = true; taken; ) {
    taken = false;
    for (let i = 0; i < imports.count && !taken; i++) taken = sameName(b, imports.names[i * 2]!, imports.names[i * 2 + 1]!, module);
    if (taken) module += "_";
  }
  // 2. The new import section: count, the old entries as they were, then one per defined memory.
  let addedBytes = 0;
  for (let i = 0; i < defined; i++) {
    const field = memories[i]!.field;
    addedBytes += lebSize(module.length) + module.length + lebSize(field.length) + field.length + 1 + (types[i * 2 + 1]! - types[i * 2]!);
  }
  const oldEntries = importAt < 0 ? 0 : importEnd - entriesAt;
  const count = imports.count + defined;
  const contentSize = lebSize(count) + oldEntries + addedBytes;
  const sectionSize = 1 + lebSize(contentSize) + contentSize;
  const cutFrom = importAt < 0 ? insertAt : importAt;
  const cutTo = importAt < 0 ? insertAt : importEnd;
  const out = new U8(len - (cutTo - cutFrom) - (memoryEnd - memoryAt) + sectionSize);
  let at = copy(out, 0, b, 0, cutFrom);
  out[at++] = IMPORT;
  at = writeLeb(out, at, contentSize);
  at = writeLeb(out, at, count);
  if (importAt >= 0) at = copy(out, at, b, entriesAt, importEnd);
  for (let i = 0; i < defined; i++) {
    at = writeName(out, at, module);
    at = writeName(out, at, memories[i]!.field);
    out[at++] = KIND_MEMORY;
    at = copy(out, at, b, types[i * 2]!, types[i * 2 + 1]!);
  }
  // The memory section comes after the import section's place: copy around it.
  at = copy(out, at, b, cutTo, memoryAt);
  copy(out, at, b, memoryEnd, len);
  return { bytes: out, module, memories };
}

function writeName(out: Uint8Array, at: number, name: string): number {
  at = writeLeb(out, at, name.length);
  for (let i = 0; i < name.length; i++) out[at++] = apply(charCodeAt, name, [i]) as number;
  return at;
}
