/**
 * verge's inflater for node:zlib: raw DEFLATE (RFC 1951) inside the zlib
 * (RFC 1950) or gzip (RFC 1952) wrapper, or either detected (Node's unzip).
 * Written as a resumable state machine in the manner of zlib's inflate.c, so
 * that input can arrive in pieces (streams) and a corrupt or truncated input
 * fails with the message zlib gives ("incorrect header check", "invalid
 * distance too far back", "unexpected end of file"...), which Node reports.
 * Checksums and the gzip length are verified. Output leaves in slices of at
 * most 64 KiB through `onOutput`, so a caller can stop a decompression bomb
 * early (maxOutputLength) instead of after it filled the memory.
 */
import { adler32Update, crc32Update } from "./zlib-checksum.js";
import { CODES, DISTS, DIST_BASE, DIST_EXTRA, INVALID, LENS, LEN_BASE, LEN_EXTRA, ORDER, buildTable, fixedTables } from "./zlib-huffman.js";

/** A zlib failure: the message and code (Z_DATA_ERROR...) Node's binding reports. */
export class ZlibFailure {
  constructor(message, code) {
    this.message = message;
    this.code = code;
  }
}
const dataError = (message) => new ZlibFailure(message, "Z_DATA_ERROR");

// States, in stream order.
const HEAD = 0, DICTID = 1, TYPE = 2, STORED = 3, COPY = 4, TABLE = 5, LENLENS = 6, CODELENS = 7;
const LEN = 8, LENEXT = 9, DIST = 10, DISTEXT = 11, CHECK = 12, LENGTH = 13, DONE = 14;
const WINDOW = 32768;
const OUT_SIZE = WINDOW + 65536;

export class Inflater {
  /**
   * @param {"raw" | "zlib" | "gzip" | "auto"} wrap the format ("auto": gzip or zlib, by the first two bytes)
   * @param {number} windowBits 8-15, or 0 to take it from a zlib header
   * @param {Uint8Array | undefined} dictionary a preset dictionary (raw: used at once; zlib: when the header asks)
   * @param {(bytes: Uint8Array) => void} onOutput receives each slice of output, in order
   */
  constructor(wrap, windowBits, dictionary, onOutput) {
    this.wrap = wrap;
    this.windowBits = windowBits;
    this.dictionary = dictionary;
    this.onOutput = onOutput;
    this.input = new Uint8Array(0);
    this.next = 0;
    this.hold = 0;
    this.bits = 0;
    this.out = new Uint8Array(OUT_SIZE);
    /** Bytes consumed from the input, for the stream's bytesWritten. */
    this.consumed = 0;
    this.resetMember();
    if (wrap === "raw" && dictionary !== undefined) this.preset(dictionary);
  }

  /** The state at the start of a stream (or of the next gzip member). */
  resetMember() {
    this.state = HEAD;
    this.last = 0;
    this.outPos = 0;
    this.outStart = 0;
    this.history = 0;
    this.total = 0;
    this.check = this.wrap === "raw" ? 0 : this.wrap === "gzip" ? 0 : 1;
    this.isGzip = this.wrap === "gzip";
    this.lens = new Uint8Array(320);
  }

  /** A preset dictionary: history that back-references may reach, never output. */
  preset(dictionary) {
    const d = dictionary.subarray(Math.max(0, dictionary.length - WINDOW));
    this.out.set(d, 0);
    this.outPos = this.outStart = this.history = d.length;
  }

  /** Whether the stream (the last gzip member included) has ended. */
  get ended() {
    return this.state === DONE;
  }

  /** Appends input; a few bytes already read stay, so that whole bytes in the bit buffer can be given back. */
  push(chunk) {
    if (chunk.length === 0) return;
    const keep = Math.max(0, this.next - 4);
    const rest = this.input.subarray(keep);
    const joined = new Uint8Array(rest.length + chunk.length);
    joined.set(rest, 0);
    joined.set(chunk, rest.length);
    this.input = joined;
    this.next -= keep;
  }

  /** Pulls one more input byte into the bit buffer; false when the input is exhausted. */
  pull() {
    if (this.next >= this.input.length) return false;
    this.hold = (this.hold | (this.input[this.next++] << this.bits)) >>> 0;
    this.bits += 8;
    this.consumed++;
    return true;
  }

  need(n) {
    while (this.bits < n) if (!this.pull()) return false;
    return true;
  }

  take(n) {
    const v = this.hold & ((1 << n) - 1);
    this.hold >>>= n;
    this.bits -= n;
    return v;
  }

  /** Drops the bits up to a byte boundary and gives whole bytes in the bit buffer back to the input. */
  align() {
    this.take(this.bits & 7);
    this.next -= this.bits >>> 3;
    this.consumed -= this.bits >>> 3;
    this.hold = 0;
    this.bits = 0;
  }

  /** Bytes available at the (aligned) input position. */
  get available() {
    return this.input.length - this.next;
  }

  skip(n) {
    this.next += n;
    this.consumed += n;
  }

  /** The next table entry (not consumed), or -1 when more input is needed to know it. */
  decode(table) {
    const mask = (1 << table.bits) - 1;
    for (;;) {
      const entry = table.map[this.hold & mask];
      if ((entry === 0 ? table.bits : entry & 15) <= this.bits) return entry;
      if (!this.pull()) return -1;
    }
  }

  put(byte) {
    if (this.outPos === OUT_SIZE) this.slide();
    this.out[this.outPos++] = byte;
  }

  /** Emits what is pending and keeps the last 32 KiB as history. */
  slide() {
    this.emit();
    this.out.copyWithin(0, this.outPos - WINDOW, this.outPos);
    this.outPos = this.outStart = WINDOW;
  }

  /** Hands the output not yet emitted to onOutput, checksummed. */
  emit() {
    if (this.outPos === this.outStart) return;
    const bytes = this.out.slice(this.outStart, this.outPos);
    this.outStart = this.outPos;
    this.total += bytes.length;
    if (this.wrap !== "raw") this.check = this.isGzip ? crc32Update(this.check, bytes) : adler32Update(this.check, bytes);
    this.onOutput(bytes);
  }

  /**
   * Decodes all the input there is; returns whether the stream ended. Output
   * not yet emitted is emitted before returning. Throws a ZlibFailure on
   * corrupt input (truncation is for the caller to judge: `ended` is false).
   */
  run() {
    try {
      this.step();
    } finally {
      if (this.state !== DONE || this.outPos !== this.outStart) this.emit();
    }
    return this.state === DONE;
  }

  step() {
    for (;;) {
      switch (this.state) {
        case HEAD:
          if (!this.header()) return;
          break;
        case DICTID: {
          if (this.available < 4) return;
          const i = this.input, n = this.next;
          const id = ((i[n] << 24) | (i[n + 1] << 16) | (i[n + 2] << 8) | i[n + 3]) >>> 0;
          if (this.dictionary === undefined) throw new ZlibFailure("Missing dictionary", "Z_NEED_DICT");
          if (adler32Update(1, this.dictionary) !== id) throw new ZlibFailure("Bad dictionary", "Z_NEED_DICT");
          this.skip(4);
          this.preset(this.dictionary);
          this.state = TYPE;
          break;
        }
        case TYPE: {
          if (this.last) {
            this.align();
            this.emit();
            this.state = CHECK;
            break;
          }
          if (!this.need(3)) return;
          this.last = this.take(1);
          const type = this.take(2);
          if (type === 0) this.state = STORED;
          else if (type === 1) {
            const f = fixedTables();
            this.lencode = f.lit;
            this.distcode = f.dist;
            this.state = LEN;
          } else if (type === 2) this.state = TABLE;
          else throw dataError("invalid block type");
          break;
        }
        case STORED: {
          this.align();
          if (this.available < 4) return;
          const i = this.input, n = this.next;
          const len = i[n] | (i[n + 1] << 8);
          if (len !== (~(i[n + 2] | (i[n + 3] << 8)) & 0xffff)) throw dataError("invalid stored block lengths");
          this.skip(4);
          this.length = len;
          this.state = COPY;
          break;
        }
        case COPY:
          while (this.length > 0) {
            if (this.available === 0) return;
            if (this.outPos === OUT_SIZE) this.slide();
            const n = Math.min(this.length, this.available, OUT_SIZE - this.outPos);
            this.out.set(this.input.subarray(this.next, this.next + n), this.outPos);
            this.outPos += n;
            this.history += n;
            this.skip(n);
            this.length -= n;
          }
          this.state = TYPE;
          break;
        case TABLE:
          if (!this.need(14)) return;
          this.nlen = this.take(5) + 257;
          this.ndist = this.take(5) + 1;
          this.ncode = this.take(4) + 4;
          if (this.nlen > 286 || this.ndist > 30) throw dataError("too many length or distance symbols");
          this.have = 0;
          this.state = LENLENS;
          break;
        case LENLENS: {
          while (this.have < this.ncode) {
            if (!this.need(3)) return;
            this.lens[ORDER[this.have++]] = this.take(3);
          }
          while (this.have < 19) this.lens[ORDER[this.have++]] = 0;
          this.lencode = buildTable(this.lens, 0, 19, CODES);
          if (this.lencode === null) throw dataError("invalid code lengths set");
          this.have = 0;
          this.state = CODELENS;
          break;
        }
        case CODELENS:
          if (!this.codeLengths()) return;
          break;
        case LEN: {
          const entry = this.decode(this.lencode);
          if (entry === -1) return;
          if (entry === 0 || entry & INVALID) throw dataError("invalid literal/length code");
          this.take(entry & 15);
          const sym = entry >>> 5;
          if (sym < 256) {
            this.put(sym);
            this.history++;
          } else if (sym === 256) this.state = TYPE;
          else if (sym > 285) throw dataError("invalid literal/length code");
          else {
            this.extra = LEN_EXTRA[sym - 257];
            this.length = LEN_BASE[sym - 257];
            this.state = LENEXT;
          }
          break;
        }
        case LENEXT:
          if (!this.need(this.extra)) return;
          this.length += this.take(this.extra);
          this.state = DIST;
          break;
        case DIST: {
          const entry = this.decode(this.distcode);
          if (entry === -1) return;
          if (entry === 0 || entry & INVALID || entry >>> 5 > 29) throw dataError("invalid distance code");
          this.take(entry & 15);
          this.extra = DIST_EXTRA[entry >>> 5];
          this.dist = DIST_BASE[entry >>> 5];
          this.state = DISTEXT;
          break;
        }
        case DISTEXT: {
          if (!this.need(this.extra)) return;
          const dist = this.dist + this.take(this.extra);
          if (dist > Math.min(this.history, WINDOW)) throw dataError("invalid distance too far back");
          this.copyMatch(dist, this.length);
          this.state = LEN;
          break;
        }
        case CHECK:
          if (!this.trailer()) return;
          break;
        case LENGTH: {
          if (this.available < 4) return;
          const i = this.input, n = this.next;
          const size = (i[n] | (i[n + 1] << 8) | (i[n + 2] << 16) | (i[n + 3] << 24)) >>> 0;
          if (size !== this.total % 2 ** 32) throw dataError("incorrect length check");
          this.skip(4);
          this.state = DONE;
          break;
        }
        case DONE:
          // Node reads another gzip member when bytes follow that are not zero padding; anything else after the end is ignored.
          if (this.available === 0) return;
          if (this.isGzip && this.input[this.next] !== 0) {
            this.resetMember();
            this.wrap = "gzip";
            this.isGzip = true;
            this.check = 0;
            break;
          }
          this.next = this.input.length;
          return;
      }
    }
  }

  copyMatch(dist, length) {
    this.history += length;
    const out = this.out;
    for (let k = 0; k < length; k++) {
      if (this.outPos === OUT_SIZE) this.slide();
      out[this.outPos] = out[this.outPos - dist];
      this.outPos++;
    }
  }

  /** Reads the code lengths of a dynamic block, then builds its tables; false when input ran out. */
  codeLengths() {
    const total = this.nlen + this.ndist;
    while (this.have < total) {
      const entry = this.decode(this.lencode);
      if (entry === -1) return false;
      const len = entry & 15;
      const sym = entry >>> 5;
      if (sym < 16) {
        this.take(len);
        this.lens[this.have++] = sym;
        continue;
      }
      const extra = sym === 16 ? 2 : sym === 17 ? 3 : 7;
      if (!this.need(len + extra)) return false;
      this.take(len);
      let value = 0;
      let copies;
      if (sym === 16) {
        if (this.have === 0) throw dataError("invalid bit length repeat");
        value = this.lens[this.have - 1];
        copies = 3 + this.take(2);
      } else copies = sym === 17 ? 3 + this.take(3) : 11 + this.take(7);
      if (this.have + copies > total) throw dataError("invalid bit length repeat");
      while (copies--) this.lens[this.have++] = value;
    }
    if (this.lens[256] === 0) throw dataError("invalid code -- missing end-of-block");
    this.lencode = buildTable(this.lens, 0, this.nlen, LENS);
    if (this.lencode === null) throw dataError("invalid literal/lengths set");
    this.distcode = buildTable(this.lens, this.nlen, this.ndist, DISTS);
    if (this.distcode === null) throw dataError("invalid distances set");
    this.state = LEN;
    return true;
  }

  /** The zlib or gzip header (or none); false when input ran out before it was whole. */
  header() {
    if (this.wrap === "raw") {
      this.state = TYPE;
      return true;
    }
    const i = this.input, n = this.next;
    if (this.available < 2) return false;
    if ((this.wrap === "gzip" || this.wrap === "auto") && i[n] === 0x1f && i[n + 1] === 0x8b) {
      this.isGzip = true;
      this.check = 0;
      return this.gzipHeader();
    }
    if (this.wrap === "gzip" || ((i[n] << 8) | i[n + 1]) % 31 !== 0) throw dataError("incorrect header check");
    if ((i[n] & 0x0f) !== 8) throw dataError("unknown compression method");
    const bits = (i[n] >>> 4) + 8;
    if (this.windowBits === 0) this.windowBits = bits;
    if (bits > 15 || bits > this.windowBits) throw dataError("invalid window size");
    this.skip(2);
    this.state = i[n + 1] & 0x20 ? DICTID : TYPE;
    return true;
  }

  /** A whole gzip header at the input position, checked field by field as zlib does. */
  gzipHeader() {
    const i = this.input, start = this.next, end = i.length;
    let p = start + 2;
    if (p >= end) return false;
    if (i[p] !== 8) throw dataError("unknown compression method");
    if (p + 1 >= end) return false;
    const flags = i[p + 1];
    if (flags & 0xe0) throw dataError("unknown header flags set");
    p += 8; // method, flags, mtime (4), extra flags, OS
    if (flags & 4) {
      if (p + 2 > end) return false;
      p += 2 + (i[p] | (i[p + 1] << 8));
    }
    for (const bit of [8, 16]) {
      if (!(flags & bit)) continue;
      while (p < end && i[p] !== 0) p++;
      if (p >= end) return false;
      p++;
    }
    if (flags & 2) {
      if (p + 2 > end) return false;
      const crc = crc32Update(0, i.subarray(start, p)) & 0xffff;
      if ((i[p] | (i[p + 1] << 8)) !== crc) throw dataError("header crc mismatch");
      p += 2;
    }
    if (p > end) return false;
    this.skip(p - start);
    this.state = TYPE;
    return true;
  }

  /** The checksum after the last block; false when input ran out. */
  trailer() {
    if (this.wrap === "raw") {
      this.state = DONE;
      return true;
    }
    if (this.available < 4) return false;
    const i = this.input, n = this.next;
    const stored = this.isGzip ? (i[n] | (i[n + 1] << 8) | (i[n + 2] << 16) | (i[n + 3] << 24)) >>> 0 : ((i[n] << 24) | (i[n + 1] << 16) | (i[n + 2] << 8) | i[n + 3]) >>> 0;
    if (stored !== this.check) throw dataError("incorrect data check");
    this.skip(4);
    this.state = this.isGzip ? LENGTH : DONE;
    return true;
  }
}
