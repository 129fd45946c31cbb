/**
 * node:zlib's stream classes (Gzip, Gunzip, Deflate, Inflate, DeflateRaw,
 * InflateRaw, Unzip) as Node Transform streams over node:stream (the
 * readable-stream polyfill) and verge's engines. In a file of their own, so a
 * Worker that imports only the buffer functions (`import { gzipSync }` or
 * `import * as zlib`) does not bundle node:stream.
 *
 * As in Node: options are checked when the stream is made; input is processed
 * as it is written (Z_NO_FLUSH, or options.flush) and the end finishes the
 * stream with options.finishFlush; output comes in chunkSize pieces;
 * flush([kind], cb), params(level, strategy, cb), reset(), close(cb) and
 * bytesWritten are there. maxOutputLength, as in Node, applies to the buffer
 * functions only.
 */
import { Transform, finished } from "node:stream";
import { Buffer } from "node:buffer";
import { invalidArgType } from "./node-errors.js";
import { DEFLATE, DEFLATERAW, GUNZIP, GZIP, INFLATE, INFLATERAW, UNZIP, Z_FULL_FLUSH, Z_SYNC_FLUSH, ZlibEngine, readOptions } from "./zlib-engine.js";

/** The empty buffers flush() writes, one per flush kind: _transform knows them by identity. */
const flushMarkers = new Map();
function flushMarker(kind) {
  let marker = flushMarkers.get(kind);
  if (marker === undefined) flushMarkers.set(kind, (marker = Buffer.alloc(0)));
  return marker;
}
const markerKind = (chunk) => {
  for (const [kind, marker] of flushMarkers) if (marker === chunk) return kind;
  return undefined;
};

class ZlibBase extends Transform {
  constructor(opts, mode) {
    const options = readOptions(mode, opts);
    // As Node: the data side is never in object mode or an encoding.
    const streamOptions = opts && (opts.encoding || opts.objectMode || opts.writableObjectMode) ? { ...opts, encoding: null, objectMode: false, writableObjectMode: false } : opts;
    super({ autoDestroy: true, ...streamOptions });
    this._options = options;
    this._chunkSize = options.chunkSize;
    this._defaultFlushFlag = options.flush;
    this._finishFlushFlag = options.finishFlush;
    this._defaultFullFlushFlag = Z_FULL_FLUSH;
    this._maxOutputLength = options.maxOutputLength;
    this._level = options.level;
    this._strategy = options.strategy;
    this._info = options.info;
    this._out = [];
    this._engine = new ZlibEngine(mode, options, (bytes) => this._out.push(bytes));
    this.bytesWritten = 0;
  }

  _transform(chunk, encoding, callback) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk;
    this._process(bytes, markerKind(chunk) ?? this._defaultFlushFlag, callback);
  }

  _flush(callback) {
    this._process(Buffer.alloc(0), this._finishFlushFlag, callback);
  }

  _process(bytes, flush, callback) {
    this._out = [];
    try {
      this._engine.write(bytes, flush);
    } catch (err) {
      this.bytesWritten = this._engine.bytesWritten;
      callback(err);
      return;
    }
    this.bytesWritten = this._engine.bytesWritten;
    const size = this._chunkSize;
    for (const out of this._out) {
      for (let at = 0; at < out.length; at += size) {
        const piece = out.subarray(at, Math.min(out.length, at + size));
        this.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
      }
    }
    this._out = [];
    callback();
  }

  /** Makes the output so far decodable (Z_FULL_FLUSH unless told), after what was written before. */
  flush(kind, callback) {
    if (typeof kind === "function" || (kind === undefined && callback === undefined)) {
      callback = kind;
      kind = this._defaultFullFlushFlag;
    }
    if (this.writableFinished) {
      if (callback) queueMicrotask(callback);
    } else if (this.writableEnded) {
      if (callback) this.once("end", callback);
    } else this.write(flushMarker(kind), "", callback);
  }

  /** A new level and strategy for what is written from now on (compressors; the data so far is flushed first). */
  params(level, strategy, callback) {
    readOptions(DEFLATE, { level, strategy });
    if (this._level === level && this._strategy === strategy) {
      if (callback) queueMicrotask(callback);
      return;
    }
    this.flush(Z_SYNC_FLUSH, () => {
      this._engine.params(level, strategy);
      this._level = level;
      this._strategy = strategy;
      if (callback) callback();
    });
  }

  /** Starts the engine over, as if the stream were new (Node's reset()). */
  reset() {
    this._engine.reset();
  }

  close(callback) {
    if (callback !== undefined) {
      if (typeof callback !== "function") throw invalidArgType("callback", "of type function", callback);
      finished(this, () => callback());
    }
    this.destroy();
  }
}

export class Deflate extends ZlibBase {
  constructor(opts) {
    super(opts, DEFLATE);
  }
}
export class Inflate extends ZlibBase {
  constructor(opts) {
    super(opts, INFLATE);
  }
}
export class Gzip extends ZlibBase {
  constructor(opts) {
    super(opts, GZIP);
  }
}
export class Gunzip extends ZlibBase {
  constructor(opts) {
    super(opts, GUNZIP);
  }
}
export class DeflateRaw extends ZlibBase {
  constructor(opts) {
    super(opts, DEFLATERAW);
  }
}
export class InflateRaw extends ZlibBase {
  constructor(opts) {
    super(opts, INFLATERAW);
  }
}
export class Unzip extends ZlibBase {
  constructor(opts) {
    super(opts, UNZIP);
  }
}

export const createDeflate = (opts) => new Deflate(opts);
export const createInflate = (opts) => new Inflate(opts);
export const createGzip = (opts) => new Gzip(opts);
export const createGunzip = (opts) => new Gunzip(opts);
export const createDeflateRaw = (opts) => new DeflateRaw(opts);
export const createInflateRaw = (opts) => new InflateRaw(opts);
export const createUnzip = (opts) => new Unzip(opts);
