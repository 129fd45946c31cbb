/**
 * The decoders and the UTF-8 encoder of the WHATWG Encoding Standard
 * (https://encoding.spec.whatwg.org/) used by TextEncoder/TextDecoder:
 * UTF-8 (§8.1), UTF-16LE/BE (§14.2) and windows-1252 (§9, single-byte).
 * Decoders keep their state between `decode` calls, so streaming needs no
 * buffering of partial sequences.
 */

/** One decode step's outcome: the code units, or `null` on the first error in fatal mode. */
export interface Decoder {
  /** Decodes `bytes`; with `flush`, an unfinished sequence at the end is an error. Returns null on error when `fatal`. */
  decode(bytes: Uint8Array, flush: boolean, fatal: boolean): string | null;
  reset(): void;
}

const REPLACEMENT = 0xfffd;
const CHUNK = 0x2000;
// Captured: user code replacing String.fromCharCode must not change what a decoder returns.
const fromCharCode = String.fromCharCode;
const apply = Reflect.apply;

/** Joins UTF-16 code units without spreading huge arrays onto the stack. */
export function unitsToString(units: Uint16Array, length: number): string {
  if (length <= CHUNK) return apply(fromCharCode, null, units.subarray(0, length) as unknown as number[]);
  let out = "";
  for (let i = 0; i < length; i += CHUNK) {
    out += apply(fromCharCode, null, units.subarray(i, Math.min(i + CHUNK, length)) as unknown as number[]);
  }
  return out;
}

/**
 * Code units a UTF-8 decode collects before they become string: shared by every decoder of the
 * isolate (a decode runs to its end without calling out, so two never use it at once).
 */
const SCRATCH_UNITS = 8192;
const scratch = new Uint16Array(SCRATCH_UNITS);

/** ASCII runs at least this long become string straight from the bytes (asciiString). */
const LONG_ASCII_RUN = 32;

/** Bytes `from`..`to` (all below 0x80) as a string: 16 per `String.fromCharCode` call. */
function asciiString(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  let i = from;
  for (; i + 16 <= to; i += 16) {
    out += fromCharCode(
      bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!, bytes[i + 4]!, bytes[i + 5]!, bytes[i + 6]!, bytes[i + 7]!,
      bytes[i + 8]!, bytes[i + 9]!, bytes[i + 10]!, bytes[i + 11]!, bytes[i + 12]!, bytes[i + 13]!, bytes[i + 14]!, bytes[i + 15]!,
    );
  }
  for (; i < to; i++) out += fromCharCode(bytes[i]!);
  return out;
}

/**
 * UTF-8 decoder, §8.1.1, with the spec's lower/upper boundary handling of invalid sequences.
 *
 * Speed (an isolate has no native decoder): long runs of ASCII go 16 bytes per `String.fromCharCode`
 * call, everything else through the spec's state machine into a scratch array turned into string
 * 8192 units at a time. A 50 KB ASCII page decodes about 3x faster than code units
 * collected in one array and joined with `fromCharCode.apply` (tmp measurements, plain V8).
 */
export function createUtf8Decoder(): Decoder {
  let codePoint = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  const reset = () => {
    codePoint = needed = seen = 0;
    lower = 0x80;
    upper = 0xbf;
  };
  return {
    reset,
    decode(bytes, flush, fatal) {
      const n = bytes.length;
      const units = scratch;
      let out = "";
      let k = 0;
      for (let i = 0; i < n; i++) {
        const b = bytes[i]!;
        if (needed === 0) {
          // Room for what this sequence can write: one unit here, or a U+FFFD and a byte
          // processed again, or a surrogate pair when it completes; one more at the flush.
          if (k > SCRATCH_UNITS - 4) {
            out += apply(fromCharCode, null, units.subarray(0, k) as unknown as number[]);
            k = 0;
          }
          if (b < 0x80) {
            let end = i + 1;
            while (end < n && bytes[end]! < 0x80) end++;
            if (end - i >= LONG_ASCII_RUN) {
              if (k !== 0) {
                out += apply(fromCharCode, null, units.subarray(0, k) as unknown as number[]);
                k = 0;
              }
              out += asciiString(bytes, i, end);
            } else {
              if (k + (end - i) > SCRATCH_UNITS - 4) {
                out += apply(fromCharCode, null, units.subarray(0, k) as unknown as number[]);
                k = 0;
              }
              for (let a = i; a < end; a++) units[k++] = bytes[a]!;
            }
            i = end - 1;
          } else if (b >= 0xc2 && b <= 0xdf) {
            needed = 1;
            codePoint = b & 0x1f;
          } else if (b >= 0xe0 && b <= 0xef) {
            if (b === 0xe0) lower = 0xa0;
            if (b === 0xed) upper = 0x9f;
            needed = 2;
            codePoint = b & 0xf;
          } else if (b >= 0xf0 && b <= 0xf4) {
            if (b === 0xf0) lower = 0x90;
            if (b === 0xf4) upper = 0x8f;
            needed = 3;
            codePoint = b & 0x7;
          } else {
            if (fatal) return null;
            units[k++] = REPLACEMENT;
          }
          continue;
        }
        if (b < lower || b > upper) {
          // The byte is not a valid continuation: error, then process the byte again from the start state.
          reset();
          if (fatal) return null;
          units[k++] = REPLACEMENT;
          i--;
          continue;
        }
        lower = 0x80;
        upper = 0xbf;
        codePoint = (codePoint << 6) | (b & 0x3f);
        if (++seen !== needed) continue;
        const cp = codePoint;
        reset();
        if (cp < 0x10000) {
          units[k++] = cp;
        } else {
          units[k++] = 0xd800 + ((cp - 0x10000) >> 10);
          units[k++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
        }
      }
      if (flush && needed !== 0) {
        reset();
        if (fatal) return null;
        // Room left by the check at the sequence's start.
        units[k++] = REPLACEMENT;
      }
      if (k !== 0) out += apply(fromCharCode, null, units.subarray(0, k) as unknown as number[]);
      return out;
    },
  };
}

/** Shared UTF-16 decoder, §14.2.1. */
export function createUtf16Decoder(bigEndian: boolean): Decoder {
  let leadByte = -1;
  let leadSurrogate = -1;
  const reset = () => {
    leadByte = leadSurrogate = -1;
  };
  return {
    reset,
    decode(bytes, flush, fatal) {
      const out = new Uint16Array((bytes.length >> 1) + 3);
      let j = 0;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        if (leadByte === -1) {
          leadByte = b;
          continue;
        }
        let unit = bigEndian ? (leadByte << 8) | b : leadByte | (b << 8);
        leadByte = -1;
        if (leadSurrogate !== -1) {
          const lead = leadSurrogate;
          leadSurrogate = -1;
          if (unit >= 0xdc00 && unit <= 0xdfff) {
            out[j++] = lead;
            out[j++] = unit;
            continue;
          }
          // A lead surrogate not followed by a trail: error, then handle `unit` afresh.
          if (fatal) return reset(), null;
          out[j++] = REPLACEMENT;
        }
        if (unit >= 0xd800 && unit <= 0xdbff) {
          leadSurrogate = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          if (fatal) return reset(), null;
          out[j++] = REPLACEMENT;
        } else {
          out[j++] = unit;
        }
      }
      if (flush && (leadByte !== -1 || leadSurrogate !== -1)) {
        reset();
        if (fatal) return null;
        out[j++] = REPLACEMENT;
      }
      return unitsToString(out, j);
    },
  };
}

/** windows-1252 bytes 0x80..0x9F (index-windows-1252.txt); every other byte maps to itself. */
const WINDOWS_1252_HIGH = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
  0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

/** windows-1252 (what the "latin1", "ascii" and "iso-8859-1" labels mean on the Web); never fails. */
export function createWindows1252Decoder(): Decoder {
  return {
    reset() {},
    decode(bytes) {
      const out = new Uint16Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        out[i] = b >= 0x80 && b <= 0x9f ? WINDOWS_1252_HIGH[b - 0x80]! : b;
      }
      return unitsToString(out, bytes.length);
    },
  };
}

/** Byte length in UTF-8 of `s` from index `from`, lone surrogates counted as U+FFFD (3 bytes). */
function utf8Length(s: string, from: number): number {
  let n = 0;
  const len = s.length;
  for (let i = from; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Writes `s` as UTF-8 into `dest` from index 0, stopping before a code point
 * that does not fit whole (TextEncoder#encodeInto). Lone surrogates become U+FFFD.
 */
export function utf8EncodeInto(s: string, dest: Uint8Array): { read: number; written: number } {
  return encodeFrom(s, 0, dest, 0);
}

/** utf8EncodeInto from code unit `i` of `s` and byte `w` of `dest`. */
function encodeFrom(s: string, i: number, dest: Uint8Array, w: number): { read: number; written: number } {
  const len = s.length;
  const cap = dest.length;
  while (i < len) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (w >= cap) break;
      dest[w++] = c;
      i++;
      continue;
    }
    let units = 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && (next & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        units = 2;
      } else {
        c = REPLACEMENT;
      }
    }
    if (c < 0x800) {
      if (w + 2 > cap) break;
      dest[w++] = 0xc0 | (c >> 6);
    } else if (c < 0x10000) {
      if (w + 3 > cap) break;
      dest[w++] = 0xe0 | (c >> 12);
      dest[w++] = 0x80 | ((c >> 6) & 0x3f);
    } else {
      if (w + 4 > cap) break;
      dest[w++] = 0xf0 | (c >> 18);
      dest[w++] = 0x80 | ((c >> 12) & 0x3f);
      dest[w++] = 0x80 | ((c >> 6) & 0x3f);
    }
    dest[w++] = 0x80 | (c & 0x3f);
    i += units;
  }
  return { read: i, written: w };
}

/**
 * `s` as UTF-8 bytes in a buffer of exactly the right size. Text whose first 64 code units are
 * ASCII is written in one pass into a buffer sized by `s.length`, until a code unit that is not
 * (then the rest's length is counted and the prefix copied into a buffer of the full size);
 * other text is measured first, then written (no buffer made for nothing: an isolate's
 * ArrayBuffers are not cheap to allocate).
 */
export function utf8Encode(s: string): Uint8Array {
  const len = s.length;
  const probe = len < 64 ? len : 64;
  let i = 0;
  while (i < probe && s.charCodeAt(i) < 0x80) i++;
  if (i < probe) {
    const out = new Uint8Array(i + utf8Length(s, i));
    for (let a = 0; a < i; a++) out[a] = s.charCodeAt(a);
    encodeFrom(s, i, out, i);
    return out;
  }
  const ascii = new Uint8Array(len);
  for (i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    ascii[i] = c;
  }
  if (i === len) return ascii;
  const out = new Uint8Array(i + utf8Length(s, i));
  out.set(ascii.subarray(0, i));
  encodeFrom(s, i, out, i);
  return out;
}
