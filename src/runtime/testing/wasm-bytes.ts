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
