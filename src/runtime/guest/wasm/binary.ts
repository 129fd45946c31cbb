/**
 * Makes every linear memory a WebAssembly module defines reachable from JS: a memory the
 * module keeps to itself (not exported) cannot be measured from outside, and linear memory is
 * not V8 heap, so the guest could not count it against the isolate's budget (accounting.ts).
 *
 * `exposeMemories` reads the binary's section layout (https://webassembly.github.io/spec/core/binary/modules.html):
 * the import section (how many memories are imported: they come first in the memory index space),
 * the memory section (how many the module defines) and the export section (which are exported).
 * Every defined memory not exported already gets an export under a hidden name that no export of
 * the module has (`__verge_memory_<index>`, with `_` appended until it is unique); the export
 * section is rewritten with them (or inserted before the sections that follow it). Everything
 * else is copied byte for byte. A module that imports or exports its memories, or has none, is
 * left as it is (`null`). Only the layout is checked here: V8 validates the result.
 *
 * Runs after user code: only builtins captured when the prelude loaded (captured.ts).
 */
import { apply, charCodeAt, nullObject, taLength, taSet, taSubarray, U8 } from "./captured.ts";

/** The result when the layout cannot be read (V8 then gives its own CompileError, or verge refuses the module). */
export const UNREADABLE = false;
export interface Exposed {
  bytes: Uint8Array;
  /** Export names added, each naming one memory the module defines (a null-prototype list). */
  hidden: ArrayLike<string>;
}

const EXPORT = 7;
/** Sections that come after the export section (start, element, data count, code, data). */
const AFTER_EXPORT = [8, 9, 12, 10, 11];
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

/** The number of memories the import section imports. */
function importedMemories(r: Reader): number {
  let memories = 0;
  for (let n = u32(r); n > 0; n--) {
    skipName(r);
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
  return memories;
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
 * `bytes` with every defined, unexported memory exported under a hidden name; `null` when there
 * is none; UNREADABLE when the section layout cannot be read.
 */
export function exposeMemories(bytes: Uint8Array): Exposed | null | typeof UNREADABLE {
  try {
    return expose(bytes);
  } catch (e) {
    if (e === BAD) return UNREADABLE;
    throw e;
  }
}

function expose(b: Uint8Array): Exposed | null {
  const len = apply(taLength, b, []) as number;
  if (len < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d || b[4] !== 1 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) throw BAD;
  let imported = 0;
  let defined = 0;
  /** Export section: where its header starts, where its entries start (after the count), its end, its count. */
  let exportAt = -1;
  let entriesAt = 0;
  let exportEnd = 0;
  let exportCount = 0;
  let insertAt = len;
  // Names by position in the export section, and which memory indices are exported.
  const names: Record<number, number> = nullObject() as Record<number, number>;
  const exported: Record<number, true> = nullObject() as Record<number, true>;
  const r: Reader = { b, p: 8, end: len };
  while (r.p < len) {
    const headerAt = r.p;
    const id = byte(r);
    const size = u32(r);
    const s: Reader = { b, p: r.p, end: r.p + size };
    if (s.end > len) throw BAD;
    if (id === 2) imported = importedMemories(s);
    else if (id === 5) {
      defined = u32(s);
      for (let i = 0; i < defined; i++) skipLimits(s);
    } else if (id === EXPORT) {
      exportAt = headerAt;
      exportCount = u32(s);
      entriesAt = s.p;
      exportEnd = s.end;
      for (let i = 0; i < exportCount; i++) {
        const nameLength = u32(s);
        names[i * 2] = s.p;
        names[i * 2 + 1] = nameLength;
        if (s.p + nameLength > s.end) throw BAD;
        s.p += nameLength;
        const kind = byte(s);
        const index = u32(s);
        if (kind === KIND_MEMORY) exported[index] = true;
      }
    } else if (insertAt === len && id !== 0) {
      for (let i = 0; i < AFTER_EXPORT.length; i++) if (AFTER_EXPORT[i] === id) insertAt = headerAt;
    }
    // A section read here must end where its size says.
    if ((id === 2 || id === 5 || id === EXPORT) && s.p !== s.end) throw BAD;
    r.p = s.end;
  }
  // 1. The hidden names: one per defined memory that is not exported, unlike every export name.
  // Null-prototype records, not arrays: an index setter user code put on Array.prototype must not run.
  const hidden: Record<number, string> & { length: number } = nullObject() as Record<number, string> & { length: number };
  let added = 0;
  let addedBytes = 0;
  for (let index = imported; index < imported + defined; index++) {
    if (exported[index] === true) continue;
    let name = "__verge_memory_" + index;
    for (let taken = true; taken; ) {
      taken = false;
      for (let i = 0; i < exportCount && !taken; i++) taken = sameName(b, names[i * 2]!, names[i * 2 + 1]!, name);
      for (let i = 0; i < added && !taken; i++) taken = hidden[i] === name;
      if (taken) name += "_";
    }
    hidden[added++] = name;
    addedBytes += lebSize(name.length) + name.length + 1 + lebSize(index);
  }
  if (added === 0) return null;
  hidden.length = added;
  // 2. The new export section: count, the old entries as they were, then the hidden ones.
  const oldEntries = exportAt < 0 ? 0 : exportEnd - entriesAt;
  const count = exportCount + added;
  const contentSize = lebSize(count) + oldEntries + addedBytes;
  const sectionSize = 1 + lebSize(contentSize) + contentSize;
  const cutFrom = exportAt < 0 ? insertAt : exportAt;
  const cutTo = exportAt < 0 ? insertAt : exportEnd;
  const out = new U8(len - (cutTo - cutFrom) + sectionSize);
  let at = copy(out, 0, b, 0, cutFrom);
  out[at++] = EXPORT;
  at = writeLeb(out, at, contentSize);
  at = writeLeb(out, at, count);
  if (exportAt >= 0) at = copy(out, at, b, entriesAt, exportEnd);
  let h = 0;
  for (let index = imported; index < imported + defined; index++) {
    if (exported[index] === true) continue;
    const name = hidden[h++]!;
    at = writeLeb(out, at, name.length);
    for (let i = 0; i < name.length; i++) out[at++] = apply(charCodeAt, name, [i]) as number;
    out[at++] = KIND_MEMORY;
    at = writeLeb(out, at, index);
  }
  copy(out, at, b, cutTo, len);
  return { bytes: out, hidden };
}
