/**
 * The Huffman side of verge's inflater (zlib-inflate.js): RFC 1951's length
 * and distance tables, and decoding tables built from code lengths with
 * zlib's rules for which codes are acceptable.
 */

/** Table kinds, for zlib's completeness rule. */
export const CODES = 0, LENS = 1, DISTS = 2;
/** A table entry: symbol << 5 | INVALID | code length; 0 is an unused slot. */
export const INVALID = 16;

export const ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
export const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
export const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
export const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
export const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/**
 * A canonical Huffman decoding table indexed by the next `bits` input bits
 * (least significant first), or null when the lengths do not form a code
 * zlib accepts: over-subscribed, or incomplete (allowed for a literal or
 * distance code of a single one-bit code only).
 */
export function buildTable(lens, start, count, kind) {
  const blCount = new Uint16Array(16);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const l = lens[start + i];
    blCount[l]++;
    if (l > max) max = l;
  }
  // No codes at all: every one-bit pattern is an invalid code (zlib decodes it as symbol 0 in a code-length code).
  if (max === 0) return { bits: 1, map: new Int32Array([INVALID | 1, INVALID | 1]) };
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left = left * 2 - blCount[len];
    if (left < 0) return null;
  }
  if (left > 0 && (kind === CODES || max !== 1)) return null;
  const next = new Uint16Array(16);
  blCount[0] = 0;
  for (let len = 1, code = 0; len <= 15; len++) {
    code = (code + blCount[len - 1]) << 1;
    next[len] = code;
  }
  const size = 1 << max;
  const map = new Int32Array(size);
  for (let sym = 0; sym < count; sym++) {
    const l = lens[start + sym];
    if (l === 0) continue;
    let code = next[l]++;
    let rev = 0;
    for (let k = 0; k < l; k++, code >>>= 1) rev = (rev << 1) | (code & 1);
    for (let j = rev; j < size; j += 1 << l) map[j] = (sym << 5) | l;
  }
  return { bits: max, map };
}

let fixed;
/** The fixed literal/length and distance tables (RFC 1951 3.2.6), built on first use. */
export function fixedTables() {
  if (fixed !== undefined) return fixed;
  const lens = new Uint8Array(320);
  lens.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288).fill(5, 288, 320);
  fixed = { lit: buildTable(lens, 0, 288, LENS), dist: buildTable(lens, 288, 32, DISTS) };
  return fixed;
}
