/**
 * verge's compressor for node:zlib: fflate's streaming DEFLATE inside the
 * zlib or gzip wrapper, which this file writes itself (header as zlib writes
 * it for the level and strategy, Adler-32 or CRC-32 and length trailer), so
 * that the bytes around the compressed data are zlib's. The compressed data
 * itself is fflate's: valid DEFLATE that any inflater reads, not byte for byte
 * what zlib produces. fflate takes a level (0-9) and a hash-table size
 * (memLevel maps to it); it has no strategies and always uses a 32 KiB
 * window, so `strategy` only sets the header bits and `windowBits` is
 * validated but the header always announces 32 KiB.
 */
import { adler32Update, crc32Update } from "./zlib-checksum.js";

const Z_FINISH = 4;
const Z_HUFFMAN_ONLY = 2;

export class Compressor {
  /**
   * @param {"raw" | "zlib" | "gzip"} wrap
   * @param {{ level: number, memLevel: number, strategy: number, dictionary?: Uint8Array }} options (validated)
   * @param {(bytes: Uint8Array) => void} onOutput
   */
  constructor(wrap, options, onOutput) {
    this.wrap = wrap;
    this.onOutput = onOutput;
    this.level = options.level === -1 ? 6 : options.level;
    this.memLevel = options.memLevel;
    this.strategy = options.strategy;
    this.dictionary = wrap === "gzip" ? undefined : options.dictionary;
    this.consumed = 0;
    this.started = false;
    this.finished = false;
    this.check = wrap === "gzip" ? 0 : 1;
    this.total = 0;
    this.engine = this.newEngine();
  }

  newEngine() {
    const options = { level: this.level, mem: Math.max(0, this.memLevel - 5) };
    if (this.dictionary !== undefined && this.dictionary.length > 0) options.dictionary = this.dictionary;
    // Loaded on first use (zlib-fflate.js says why); esbuild resolves this require() at bundle time.
    const { Deflate } = require("./zlib-fflate.js");
    return new Deflate(options, (bytes) => {
      if (bytes.length > 0) this.onOutput(bytes);
    });
  }

  /** The header, as zlib writes it for this level and strategy. */
  header() {
    const weak = this.strategy >= Z_HUFFMAN_ONLY || this.level < 2;
    if (this.wrap === "gzip") {
      // Magic, CM=8, no flags, MTIME 0, XFL (2: best compression, 4: fastest), OS 3 (Unix), as Node's zlib writes it.
      return new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, this.level === 9 ? 2 : weak ? 4 : 0, 3]);
    }
    const levelFlags = weak ? 0 : this.level < 6 ? 1 : this.level === 6 ? 2 : 3;
    const hasDict = this.dictionary !== undefined;
    let head = (0x78 << 8) | (levelFlags << 6) | (hasDict ? 0x20 : 0);
    head += 31 - (head % 31);
    const bytes = [head >>> 8, head & 0xff];
    if (hasDict) {
      const id = adler32Update(1, this.dictionary);
      bytes.push(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
    }
    return new Uint8Array(bytes);
  }

  /** Compresses `chunk`; flush (a Z_* flush value) Z_FINISH ends the stream, any other than Z_NO_FLUSH makes the output so far decodable. */
  write(chunk, flush) {
    if (this.finished) return;
    if (!this.started) {
      this.started = true;
      if (this.wrap !== "raw") this.onOutput(this.header());
    }
    this.consumed += chunk.length;
    this.total += chunk.length;
    if (this.wrap === "gzip") this.check = crc32Update(this.check, chunk);
    else if (this.wrap === "zlib") this.check = adler32Update(this.check, chunk);
    if (flush === Z_FINISH) {
      this.engine.push(chunk, true);
      this.finished = true;
      this.onOutput(this.trailer());
      return;
    }
    if (chunk.length > 0) this.engine.push(chunk, false);
    if (flush !== 0) this.engine.flush(true);
  }

  /** Changes the level from here on (Node's params()): the data so far is flushed and a new DEFLATE engine continues. */
  params(level, strategy) {
    if (!this.started) {
      this.level = level === -1 ? 6 : level;
      this.strategy = strategy;
      this.engine = this.newEngine();
      return;
    }
    this.engine.flush(true);
    this.level = level === -1 ? 6 : level;
    this.strategy = strategy;
    this.dictionary = undefined;
    this.engine = this.newEngine();
  }

  trailer() {
    if (this.wrap === "raw") return new Uint8Array(0);
    const c = this.check;
    if (this.wrap === "zlib") return new Uint8Array([c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff]);
    const n = this.total % 2 ** 32;
    return new Uint8Array([c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]);
  }
}
