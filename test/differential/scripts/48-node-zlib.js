// Exercises: node:zlib under nodejs_compat: decompression of data compressed
// by Node's zlib (gzip level 9, deflate level 1, raw, stored blocks, a 512-byte
// window, a preset dictionary), gzip members and trailing zeros, round trips
// of each runtime's own compression (the compressed bytes are not compared:
// workerd's zlib and verge's fflate encode differently) and the zlib and gzip
// headers, crc32, the callback form and the streams, and the errors of corrupt,
// truncated and oversized input and of bad options. workerd's node:zlib is
// native zlib; verge bundles its own (src/build/node-polyfills/zlib.js).
import * as zlib from "node:zlib";
import { Buffer } from "node:buffer";

export const compatibilityFlags = ["nodejs_compat"];
export const requests = [
  { name: "decompress", path: "/decompress" },
  { name: "round trips", path: "/roundtrip" },
  { name: "crc32", path: "/crc32" },
  { name: "data errors", path: "/errors" },
  { name: "error codes", path: "/codes" },
  { name: "argument errors", path: "/arguments" },
  { name: "option errors", path: "/options" },
  { name: "callback and stream", path: "/async" },
  { name: "brotli", path: "/brotli" },
];

const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(40) + "end";
const FROM_NODE = {
  gzip9: "H4sIAAAAAAACA+3K1xWAIBAEwFa2AqqhAZBDTJwSTNXbh2/ne2wSHH0aFviiV0bUG3Pf9go9paAlwereB0FHA8vMzMzMzPyvLDl8gXwhzQsHAAA=",
  deflate1: "eAELyUhVKCzNTM5WSCrKL89TSMuvUMgqzS0oVsgvSy1SKMlIVchJrKpUSMlP11MIGVU8GhqjaWM0p4wWBaMF4/CqJlLzUgAdPIdu",
  raw6: "7crXFYAgEATAVrYCqqEBkENMnBJM1duHb+d7bBIcfRoW+KJXRtQbc9/2Cj2loCXB6t4HQUcDy8zMzMzM/K8sOXw=",
  stored: "H4sIAAAAAAAEAwEMAPP/c3RvcmVkIGJsb2NrlKMkPQwAAAA=",
  window9: "GJXtytcVgCAQBMBWtgKqoQGQQ0ycEkzV24dv53tsEhx9Ghb4oldG1Btz3/YKPaWgJcHq3gdBRwPLzMzMzMz8ryw5fB08h24=",
  dict: "eLs3agaGS0HjK2SkFqUCAFzACEo=",
};
const bytes = (name) => Buffer.from(FROM_NODE[name], "base64");

function failure(fn) {
  try {
    const out = fn();
    return { ok: Buffer.isBuffer(out) ? out.toString("base64") : out };
  } catch (err) {
    return { name: err.name, code: err.code ?? null, errno: err.errno ?? null, message: err.message };
  }
}

/** Corrupt, truncated or unreadable input: the same zlib messages in both runtimes. */
function corrupt() {
  const gz = bytes("gzip9");
  const flipped = Buffer.from(bytes("deflate1"));
  flipped[flipped.length - 1] ^= 1;
  return {
    notGzip: () => zlib.gunzipSync(Buffer.from("not gzip")),
    empty: () => zlib.inflateSync(Buffer.alloc(0)),
    truncated: () => zlib.gunzipSync(gz.subarray(0, 30)),
    badCheck: () => zlib.inflateSync(flipped),
    badBlock: () => zlib.inflateRawSync(Buffer.from([0xff, 0xff])),
    garbageAfter: () => zlib.gunzipSync(Buffer.concat([gz, Buffer.from("zz")])),
    missingDictionary: () => zlib.inflateSync(bytes("dict")),
    badDictionary: () => zlib.inflateSync(bytes("dict"), { dictionary: Buffer.from("other") }),
    windowTooSmall: () => zlib.inflateSync(bytes("deflate1"), { windowBits: 9 }),
  };
}

const routes = {
  decompress() {
    const gz = bytes("gzip9");
    return {
      gzip9: zlib.gunzipSync(gz).toString() === TEXT,
      unzipGzip: zlib.unzipSync(gz).length,
      deflate1: zlib.inflateSync(bytes("deflate1")).toString() === TEXT,
      unzipDeflate: zlib.unzipSync(bytes("deflate1")).length,
      raw6: zlib.inflateRawSync(bytes("raw6")).toString() === TEXT,
      stored: zlib.gunzipSync(bytes("stored")).toString(),
      window9: zlib.inflateSync(bytes("window9"), { windowBits: 9 }).toString() === TEXT,
      dict: zlib.inflateSync(bytes("dict"), { dictionary: Buffer.from("dictionary words") }).toString(),
      members: zlib.gunzipSync(Buffer.concat([bytes("stored"), bytes("stored")])).toString(),
      trailingZeros: zlib.gunzipSync(Buffer.concat([bytes("stored"), Buffer.alloc(4)])).toString(),
      partial: zlib.gunzipSync(gz.subarray(0, 40), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(),
      typed: zlib.inflateRawSync(new Uint8Array(bytes("raw6"))).length,
      arrayBuffer: zlib.gunzipSync(new Uint8Array(gz).buffer).length,
    };
  },
  roundtrip() {
    const out = {};
    for (const level of [0, 1, 6, 9]) {
      out[`gzip ${level}`] = zlib.gunzipSync(zlib.gzipSync(TEXT, { level })).toString() === TEXT;
      out[`deflate ${level}`] = zlib.inflateSync(zlib.deflateSync(TEXT, { level })).toString() === TEXT;
      out[`raw ${level}`] = zlib.inflateRawSync(zlib.deflateRawSync(TEXT, { level })).toString() === TEXT;
    }
    out.deflateHeaders = [1, 6, 9].map((level) => zlib.deflateSync("x", { level }).subarray(0, 2).toString("hex"));
    out.gzipHeaders = [1, 6, 9].map((level) => zlib.gzipSync("x", { level }).subarray(0, 10).toString("hex"));
    out.isBuffer = Buffer.isBuffer(zlib.gzipSync("x"));
    out.dictionary = zlib.inflateSync(zlib.deflateSync("dictionary words!", { dictionary: Buffer.from("dictionary words") }), { dictionary: Buffer.from("dictionary words") }).toString();
    out.constants = [zlib.constants.Z_BEST_COMPRESSION, zlib.constants.Z_SYNC_FLUSH, zlib.constants.Z_DATA_ERROR, zlib.constants.GUNZIP];
    return out;
  },
  crc32() {
    return [zlib.crc32(""), zlib.crc32("hello"), zlib.crc32("h\u00e9llo \u20ac"), zlib.crc32(Buffer.from(TEXT)), zlib.crc32("world", zlib.crc32("hello ")), zlib.crc32(new Uint8Array([1, 2, 3]), 4294967295)];
  },
  errors() {
    const out = {};
    for (const [name, fn] of Object.entries(corrupt())) {
      const e = failure(fn);
      out[name] = { name: e.name, message: e.message };
    }
    return out;
  },
  async codes() {
    const out = {};
    for (const [name, fn] of Object.entries(corrupt())) {
      const e = failure(fn);
      out[name] = [e.code, e.errno];
    }
    out.callback = await new Promise((resolve) => zlib.gunzip(Buffer.from("bad"), (err) => resolve([err.code ?? null, err.errno ?? null])));
    return out;
  },
  arguments() {
    return {
      tooLarge: failure(() => zlib.gunzipSync(bytes("gzip9"), { maxOutputLength: 100 })),
      badInput: failure(() => zlib.gzipSync(42)),
      crcArrayBuffer: failure(() => zlib.crc32(new ArrayBuffer(2))),
      crcValue: failure(() => zlib.crc32("x", -1)),
    };
  },
  options() {
    return {
      level: failure(() => zlib.gzipSync("x", { level: 10 })),
      levelType: failure(() => zlib.deflateSync("x", { level: "9" })),
      memLevel: failure(() => zlib.deflateSync("x", { memLevel: 0 })),
      strategy: failure(() => zlib.deflateSync("x", { strategy: 9 })),
      windowBits: failure(() => zlib.gzipSync("x", { windowBits: 8 })),
      chunkSize: failure(() => zlib.gzipSync("x", { chunkSize: 10 })),
      dictionary: failure(() => zlib.deflateSync("x", { dictionary: "words" })),
      callback: failure(() => zlib.gzip("x", {}, 5)),
    };
  },
  async async() {
    const packed = await new Promise((resolve, reject) => zlib.deflate(TEXT, (err, out) => (err ? reject(err) : resolve(out))));
    const callbackError = await new Promise((resolve) => zlib.gunzip(Buffer.from("bad"), (err) => resolve({ name: err.name, message: err.message })));
    const streamed = await new Promise((resolve, reject) => {
      const parts = [];
      const gunzip = zlib.createGunzip();
      gunzip.on("data", (c) => parts.push(c));
      gunzip.on("end", () => resolve(Buffer.concat(parts).toString() === TEXT));
      gunzip.on("error", reject);
      const gz = bytes("gzip9");
      for (let at = 0; at < gz.length; at += 7) gunzip.write(gz.subarray(at, at + 7));
      gunzip.end();
    });
    const streamError = await new Promise((resolve) => {
      const inflate = zlib.createInflate();
      inflate.on("error", (err) => resolve({ code: err.code, message: err.message }));
      inflate.on("data", () => {});
      inflate.end(Buffer.from("definitely not zlib"));
    });
    return { packed: zlib.inflateSync(packed).toString() === TEXT, callbackError, streamed, streamError };
  },
  brotli() {
    return failure(() => zlib.brotliDecompressSync(zlib.brotliCompressSync("hello")).toString());
  },
};

export default {
  async fetch(request) {
    const route = routes[new URL(request.url).pathname.slice(1)];
    if (route === undefined) return new Response("not found", { status: 404 });
    return Response.json(await route());
  },
};
