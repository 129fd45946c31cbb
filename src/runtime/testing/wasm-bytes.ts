/**
 * Small WebAssembly binaries assembled by hand for tests (https://webassembly.github.io/spec/core/binary/):
 * sections, LEB128, and the modules the memory-accounting tests run.
 */

export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function name(s: string): number[] {
  const b = [...Buffer.from(s)];
  return [...leb(b.length), ...b];
}

export function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

export function vec(items: number[][]): number[] {
  return [...leb(items.length), ...items.flat()];
}

export const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
export const I32_TO_I32 = [0x60, 0x01, 0x7f, 0x01, 0x7f];

export function bytes(...parts: number[][]): Uint8Array {
  return new Uint8Array([...HEADER, ...parts.flat()]);
}

export const exportFunc = (n: string, index: number): number[] => [...name(n), 0x00, ...leb(index)];
export const exportMemory = (n: string, index: number): number[] => [...name(n), 0x02, ...leb(index)];
const body = (code: number[]): number[] => [...leb(code.length + 1), 0x00, ...code];

/**
 * A module with one memory of `pages` pages it keeps to itself, and two functions:
 * `grow(pages)` (memory.grow, the old size or -1) and `touch(address)` (stores 1 there).
 */
export function internalMemoryModule(pages = 1): Uint8Array {
  return bytes(
    section(1, vec([I32_TO_I32])),
    section(3, vec([[0x00], [0x00]])),
    section(5, vec([[0x00, ...leb(pages)]])),
    section(7, vec([exportFunc("grow", 0), exportFunc("touch", 1)])),
    section(
      10,
      vec([
        body([0x20, 0x00, 0x40, 0x00, 0x0b]),
        body([0x20, 0x00, 0x41, 0x01, 0x36, 0x02, 0x00, 0x20, 0x00, 0x0b]),
      ]),
    ),
  );
}

/** The same as source text: a JS array literal of its bytes, for a function's code. */
export function bytesLiteral(b: Uint8Array): string {
  return `new Uint8Array([${[...b].join(",")}])`;
}

/** Instructions growing memory `index` as far as it goes: deltas from 65536 pages, halved each time `memory.grow` fails (-1). Uses local 0. */
function growAllCode(index: number): number[] {
  return [
    0x41, 0x80, 0x80, 0x04, 0x21, 0x00, // local.set 0 (i32.const 65536)
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x00, 0x45, 0x0d, 0x01, // br_if 1 (local 0 == 0)
    0x20, 0x00, 0x40, ...leb(index), 0x41, 0x7f, 0x46, // memory.grow index (local 0) == -1
    0x04, 0x40, 0x20, 0x00, 0x41, 0x01, 0x76, 0x21, 0x00, 0x0b, // if: local 0 >>= 1
    0x0c, 0x00, 0x0b, 0x0b, // br 0, end loop, end block
  ];
}

/** A function body: one i32 local, `code`, end. */
const bodyWithLocal = (code: number[]): number[] => [...leb(code.length + 4), 0x01, 0x01, 0x7f, ...code, 0x0b];
const NONE_TO_I32 = [0x60, 0x00, 0x01, 0x7f];

/**
 * A module with `memories` memories of 0 pages, no maximum declared (multi-memory past one), and
 * `grab()`: grows each as far as `memory.grow` lets it, returns the pages they have together.
 */
export function multiMemoryGrabModule(memories: number): Uint8Array {
  const code: number[] = [];
  for (let i = 0; i < memories; i++) code.push(...growAllCode(i));
  code.push(0x3f, 0x00);
  for (let i = 1; i < memories; i++) code.push(0x3f, ...leb(i), 0x6a);
  return bytes(
    section(1, vec([NONE_TO_I32])),
    section(3, vec([[0x00]])),
    section(5, vec(Array.from({ length: memories }, () => [0x00, 0x00]))),
    section(7, vec([exportFunc("grab", 0)])),
    section(10, vec([bodyWithLocal(code)])),
  );
}

/**
 * A link of a chain: imports `env.next: () -> i32` (and, with `importMemory`, its memory as
 * `env.memory`; else it has its own of 0 pages, no maximum); `grab()` grows its memory as far as it
 * goes, then calls `next` and returns its pages plus what `next` returned. Chained through
 * `instance.exports.grab`, one call into the last link grows every link's memory inside wasm.
 */
export function chainGrabModule(importMemory = false): Uint8Array {
  const imports = [[...name("env"), ...name("next"), 0x00, 0x00]];
  if (importMemory) imports.push([...name("env"), ...name("memory"), 0x02, 0x00, 0x00]);
  return bytes(
    section(1, vec([NONE_TO_I32])),
    section(2, vec(imports)),
    section(3, vec([[0x00]])),
    ...(importMemory ? [] : [section(5, vec([[0x00, 0x00]]))]),
    section(7, vec([exportFunc("grab", 1)])),
    section(10, vec([bodyWithLocal([...growAllCode(0), 0x3f, 0x00, 0x10, 0x00, 0x6a])])),
  );
}
