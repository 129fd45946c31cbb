/**
 * The two checksums of zlib's formats: CRC-32 (gzip's trailer and header
 * check, and Node's zlib.crc32) and Adler-32 (the zlib format's trailer and
 * dictionary id). Plain table-driven JavaScript; the CRC table is built on the
 * first call, not when the module loads.
 */

let table;

function crcTable() {
  if (table !== undefined) return table;
  table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** CRC-32 of `bytes`, continuing from `crc` (0 to start); an unsigned 32-bit number. */
export function crc32Update(crc, bytes) {
  const t = crcTable();
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Adler-32 of `bytes`, continuing from `adler` (1 to start); an unsigned 32-bit number. */
export function adler32Update(adler, bytes) {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  let i = 0;
  while (i < bytes.length) {
    // 3800 bytes keep both sums below 2^31 before the modulo (zlib's NMAX is 5552 for unsigned 32-bit sums).
    const end = Math.min(i + 3800, bytes.length);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
