/**
 * verge's node:zlib (zlib.js and its parts) run in this process, where
 * `node:buffer` and `node:stream` are Node's own, against Node's node:zlib:
 * decompression of Node's output and of corrupted or random bytes must give
 * the same bytes or the same error (class, code, errno, message); what verge
 * compresses must decompress with Node to the input; option and argument
 * errors must be Node's. The isolate runs the same module bundled
 * (test/integration/node-zlib.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeZlib from "node:zlib";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { seededRandom } from "../../shared/testing/seeded.ts";

type Fn = (...args: unknown[]) => unknown;
type ZlibModule = Record<string, Fn> & { constants: Record<string, number>; codes: Record<string, unknown>; default: Record<string, unknown> };
// zlib-deflate.js loads fflate with require() on first use, which esbuild resolves when it bundles;
// run unbundled here, as an ES module, it finds Node's require in its place.
(globalThis as { require?: NodeJS.Require }).require = createRequire(new URL("./zlib-deflate.js", import.meta.url));
const ours = (await import(new URL("./zlib.js", import.meta.url).href)) as ZlibModule;
const node = nodeZlib as unknown as Record<string, Fn>;

/** What a call gave: its bytes, or its error as Node would print it. */
function outcome(fn: () => unknown): string {
  try {
    const result = fn();
    if (result instanceof Uint8Array) return `bytes ${Buffer.from(result).toString("hex")}`;
    return `value ${JSON.stringify(result)}`;
  } catch (err) {
    const e = err as { constructor: { name: string }; code?: string; errno?: number; message: string };
    return `${e.constructor.name} ${e.code} ${e.errno} ${e.message} [${Object.keys(e).join(",")}]`;
  }
}

const FORMATS = [
  ["gzipSync", "gunzipSync"],
  ["deflateSync", "inflateSync"],
  ["deflateRawSync", "inflateRawSync"],
  ["gzipSync", "unzipSync"],
  ["deflateSync", "unzipSync"],
] as const;

function texts(random: () => number): string[] {
  const letters = Buffer.from(Array.from({ length: 5000 }, () => 97 + Math.floor(random() * 4))).toString();
  const noise = Buffer.from(Array.from({ length: 3000 }, () => Math.floor(random() * 256))).toString("latin1");
  return ["", "a", "hello world hello world", letters, noise, "The quick brown fox ".repeat(500), "x".repeat(70000)];
}

test("Node-compressed data, intact, corrupted or truncated: verge gives the same bytes or the same error as Node", () => {
  const random = seededRandom(7);
  const inputs = texts(random);
  const differences: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const [compress, decompress] = FORMATS[Math.floor(random() * FORMATS.length)]!;
    const level = Math.floor(random() * 10);
    const strategy = Math.floor(random() * 5);
    const bytes = Buffer.from(node[compress]!(inputs[Math.floor(random() * inputs.length)], { level, strategy }) as Uint8Array);
    const kind = random();
    if (kind < 0.3) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
    else if (kind < 0.5) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    else if (kind < 0.6) for (let k = 0; k < 5; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    const input = kind >= 0.6 && kind < 0.8 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
    const opts = random() < 0.2 ? { finishFlush: nodeZlib.constants.Z_SYNC_FLUSH } : {};
    const theirs = outcome(() => node[decompress]!(input, opts));
    const mine = outcome(() => ours[decompress]!(input, opts));
    if (theirs !== mine) differences.push(`${decompress} of ${input.toString("hex").slice(0, 80)} ${JSON.stringify(opts)}\n  node  ${theirs.slice(0, 160)}\n  verge ${mine.slice(0, 160)}`);
  }
  assert.deepEqual(differences.slice(0, 5), [], `${differences.length} of 3000 differ`);
});

test("random bytes after a valid header, or as raw DEFLATE: the same error (or bytes) as Node", () => {
  const random = seededRandom(11);
  const differences: string[] = [];
  const prefixes = { inflateRawSync: [], inflateSync: [0x78, 0x9c], gunzipSync: [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], unzipSync: [0x78, 0x01] } as const;
  for (let i = 0; i < 3000; i++) {
    const body = Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
    for (const [fn, prefix] of Object.entries(prefixes)) {
      const input = Buffer.from([...prefix, ...body]);
      const theirs = outcome(() => node[fn]!(input));
      const mine = outcome(() => ours[fn]!(input));
      if (theirs !== mine) differences.push(`${fn} ${input.toString("hex")}\n  node  ${theirs}\n  verge ${mine}`);
    }
  }
  assert.deepEqual(differences.slice(0, 5), [], `${differences.length} differ`);
});

test("headers, trailers and wrappers: gzip flags and fields, members, padding, dictionaries, window sizes", () => {
  const gz = nodeZlib.gzipSync("hello hello hello");
  const dict = Buffer.from("hello world dictionary");
  const withDict = nodeZlib.deflateSync("hello world hello", { dictionary: dict });
  // A gzip header with FEXTRA, FNAME, FCOMMENT and FHCRC (the header CRC written right).
  const head = Buffer.from([0x1f, 0x8b, 8, 0x1e, 1, 2, 3, 4, 0, 3, 3, 0, 9, 9, 9, ...Buffer.from("name\0comment\0")]);
  const crc = nodeZlib.crc32(head) & 0xffff;
  const fancy = Buffer.concat([head, Buffer.from([crc & 0xff, crc >> 8]), gz.subarray(10)]);
  const badHcrc = Buffer.concat([head, Buffer.from([(crc & 0xff) ^ 1, crc >> 8]), gz.subarray(10)]);
  const cases: Array<[string, unknown, unknown?]> = [
    ["gunzipSync", fancy],
    ["gunzipSync", badHcrc],
    ["gunzipSync", Buffer.concat([gz.subarray(0, 3), Buffer.from([0xe0]), gz.subarray(4)])],
    ["gunzipSync", Buffer.concat([gz.subarray(0, 2), Buffer.from([7]), gz.subarray(3)])],
    ["gunzipSync", Buffer.concat([gz, gz, gz])],
    ["gunzipSync", Buffer.concat([gz, Buffer.alloc(5)])],
    ["gunzipSync", Buffer.concat([gz, Buffer.from([0x1f, 0x8b])])],
    ["gunzipSync", Buffer.concat([gz, Buffer.from("garbage")])],
    ["unzipSync", Buffer.concat([gz, gz])],
    ["inflateSync", Buffer.concat([nodeZlib.deflateSync("abc"), Buffer.from("trailing")])],
    ["inflateSync", withDict],
    ["inflateSync", withDict, { dictionary: dict }],
    ["inflateSync", withDict, { dictionary: Buffer.from("other") }],
    ["inflateSync", withDict, { dictionary: new Uint16Array(new Uint8Array(dict).buffer) }],
    ["inflateRawSync", nodeZlib.deflateRawSync("hello world hello", { dictionary: dict }), { dictionary: dict }],
    ["inflateSync", nodeZlib.deflateSync("x".repeat(2000), { windowBits: 9 }), { windowBits: 9 }],
    ["inflateSync", nodeZlib.deflateSync("x".repeat(2000)), { windowBits: 9 }],
    ["inflateSync", nodeZlib.deflateSync("x".repeat(2000)), { windowBits: 15 }],
    ["gunzipSync", gz, { maxOutputLength: 5 }],
    ["gunzipSync", gz, { maxOutputLength: 17 }],
    ["inflateSync", nodeZlib.deflateSync("abc").subarray(0, 5), { finishFlush: nodeZlib.constants.Z_SYNC_FLUSH }],
    ["inflateSync", Buffer.alloc(0)],
    ["inflateRawSync", Buffer.alloc(0)],
    ["unzipSync", Buffer.from([0x1f])],
  ];
  for (const [fn, input, opts] of cases) {
    assert.equal(outcome(() => ours[fn]!(input, opts)), outcome(() => node[fn]!(input, opts)), `${fn}(${Buffer.from(input as Uint8Array).toString("hex").slice(0, 60)}, ${JSON.stringify(opts)})`);
  }
});

test("what verge compresses, Node decompresses to the input: every format, level, memLevel, strategy, window and input type", () => {
  const random = seededRandom(3);
  const inputs = texts(random);
  const checks: Array<[string, string]> = [
    ["gzipSync", "gunzipSync"],
    ["deflateSync", "inflateSync"],
    ["deflateRawSync", "inflateRawSync"],
  ];
  let n = 0;
  for (const [compress, decompress] of checks) {
    for (const level of [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      for (const text of inputs) {
        const memLevel = 1 + Math.floor(random() * 9);
        const strategy = Math.floor(random() * 5);
        const bytes = Buffer.from(text, "latin1");
        const views = [text, bytes, new Uint8Array(bytes), new DataView(bytes.buffer, bytes.byteOffset, bytes.length), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)];
        const input = views[Math.floor(random() * views.length)];
        const expected = typeof input === "string" ? Buffer.from(input) : bytes;
        const out = ours[compress]!(input, { level, memLevel, strategy }) as Uint8Array;
        assert.ok(Buffer.isBuffer(out), `${compress} returns a Buffer`);
        assert.deepEqual(node[decompress]!(out), expected, `${compress} level ${level} memLevel ${memLevel} strategy ${strategy}`);
        n++;
      }
    }
  }
  // The zlib and gzip headers are zlib's own for the level and strategy.
  for (const level of [-1, 0, 1, 5, 6, 9]) {
    for (const strategy of [0, 2]) {
      assert.deepEqual((ours.deflateSync!("a", { level, strategy }) as Buffer).subarray(0, 2), nodeZlib.deflateSync("a", { level, strategy }).subarray(0, 2));
      assert.deepEqual((ours.gzipSync!("a", { level, strategy }) as Buffer).subarray(0, 10), nodeZlib.gzipSync("a", { level, strategy }).subarray(0, 10));
    }
  }
  const dict = Buffer.from("a shared dictionary of words");
  assert.equal(nodeZlib.inflateSync(ours.deflateSync!("words of a shared dictionary", { dictionary: dict }) as Buffer, { dictionary: dict }).toString(), "words of a shared dictionary");
  assert.ok(n > 200);
});

test("option and argument errors: class, code and message as Node's", () => {
  const bad: unknown[] = [
    { level: 10 }, { level: -2 }, { level: "1" }, { level: Infinity }, { level: NaN }, { level: 1.5 },
    { memLevel: 0 }, { memLevel: 10 }, { strategy: 5 }, { strategy: -1 }, { windowBits: 7 }, { windowBits: 8 }, { windowBits: 16 }, { windowBits: 0 }, { windowBits: null },
    { chunkSize: 10 }, { chunkSize: "big" }, { flush: 6 }, { finishFlush: -1 }, { maxOutputLength: 0 }, { maxOutputLength: 2 ** 53 }, { maxOutputLength: "1" },
    { dictionary: 5 }, { dictionary: "text" }, { dictionary: new ArrayBuffer(2) }, null, 5, "options",
  ];
  for (const fn of ["gzipSync", "gunzipSync", "deflateSync", "inflateSync", "deflateRawSync", "inflateRawSync", "unzipSync"]) {
    const input = fn.startsWith("g") && fn !== "gzipSync" ? nodeZlib.gzipSync("x") : fn === "inflateSync" || fn === "unzipSync" ? nodeZlib.deflateSync("x") : fn === "inflateRawSync" ? nodeZlib.deflateRawSync("x") : "x";
    for (const opts of bad) {
      let mine = outcome(() => ours[fn]!(input, opts));
      let theirs = outcome(() => node[fn]!(input, opts));
      // A valid window for compression: the bytes differ (verge's header always announces 32 KiB), what they decode to must not.
      if (mine.startsWith("bytes ") && theirs.startsWith("bytes ") && /^(deflate|gzip)/.test(fn)) {
        const back = fn === "gzipSync" ? "gunzipSync" : fn === "deflateSync" ? "inflateSync" : "inflateRawSync";
        mine = outcome(() => node[back]!(Buffer.from(mine.slice(6), "hex")));
        theirs = outcome(() => node[back]!(Buffer.from(theirs.slice(6), "hex")));
      }
      assert.equal(mine, theirs, `${fn} ${String(JSON.stringify(opts))}`);
    }
    for (const value of [5, null, undefined, {}, [1, 2], true]) assert.equal(outcome(() => ours[fn]!(value)), outcome(() => node[fn]!(value)), `${fn}(${JSON.stringify(value)})`);
  }
  for (const args of [["x"], ["x", {}], ["x", {}, 5], [5, () => {}], [{}, {}, () => {}], ["x", { level: 99 }, () => {}]]) {
    assert.equal(outcome(() => ours.gzip!(...args)), outcome(() => node.gzip!(...args)), `gzip(${JSON.stringify(args)})`);
  }
});

test("crc32: strings, views and a running value as Node's; its argument errors", () => {
  const random = seededRandom(5);
  const bytes = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256)));
  const cases: unknown[][] = [["hello"], [""], ["héllo €"], [bytes], [new Uint8Array(bytes)], [new Uint16Array(bytes.buffer, bytes.byteOffset, 100)], [new DataView(bytes.buffer, 5, 20)], [bytes, 12345], ["x", 4294967295],
    [new ArrayBuffer(3)], [5], [null], ["x", -1], ["x", 2 ** 32], ["x", 1.5], ["x", "1"]];
  for (const args of cases) assert.equal(outcome(() => ours.crc32!(...args)), outcome(() => node.crc32!(...args)), `crc32 ${String(args[0]).slice(0, 20)}`);
  let running = 0;
  for (let at = 0; at < bytes.length; at += 1000) running = ours.crc32!(bytes.subarray(at, at + 1000), running) as number;
  assert.equal(running, nodeZlib.crc32(bytes));
});

test("callback forms: the callback runs later, with Node's result or error; util.promisify takes them; info gives { buffer, engine }", async () => {
  let sync = true;
  const done = new Promise<[unknown, Buffer]>((resolve) => ours.gunzip!(nodeZlib.gzipSync("later"), (err: unknown, out: Buffer) => resolve([err, out])));
  sync = false;
  const [err, out] = await done;
  assert.equal(sync, false);
  assert.equal(err, null);
  assert.equal(out.toString(), "later");
  const gunzip = promisify(ours.gunzip!) as (b: unknown, o?: unknown) => Promise<Buffer>;
  await assert.rejects(gunzip(Buffer.from("nope")), { code: "Z_DATA_ERROR", errno: -3, message: "incorrect header check" });
  await assert.rejects(gunzip(nodeZlib.gzipSync("hello"), { maxOutputLength: 2 }), { name: "RangeError", code: "ERR_BUFFER_TOO_LARGE", message: "Cannot create a Buffer larger than 2 bytes" });
  const deflated = await (promisify(ours.deflate!) as (b: unknown, o?: unknown) => Promise<Buffer>)(new ArrayBuffer(10), { level: 1 });
  assert.deepEqual(nodeZlib.inflateSync(deflated), Buffer.alloc(10));
  const info = ours.inflateSync!(nodeZlib.deflateSync("abc"), { info: true }) as { buffer: Buffer; engine: { bytesWritten: number } };
  assert.equal(info.buffer.toString(), "abc");
  assert.equal(info.engine.bytesWritten, nodeZlib.deflateSync("abc").length);
});

async function through(stream: unknown, chunks: Uint8Array[]): Promise<Buffer> {
  const s = stream as NodeJS.ReadWriteStream;
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    s.on("data", (c: Buffer) => out.push(c));
    s.on("end", () => resolve());
    s.on("error", reject);
  });
  Readable.from(chunks).pipe(s);
  await done;
  return Buffer.concat(out);
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return parts;
}

test("streams: input in pieces of any size decompresses as Node's does; compression round-trips; errors are error events", async () => {
  const text = Buffer.from("stream me ".repeat(5000) + "end");
  for (const [make, compress] of [["createGunzip", "gzipSync"], ["createInflate", "deflateSync"], ["createInflateRaw", "deflateRawSync"], ["createUnzip", "gzipSync"]] as const) {
    const compressed = node[compress]!(text) as Buffer;
    for (const size of [1, 7, 1000, compressed.length]) {
      const got = await through(ours[make]!(), split(compressed, size));
      assert.deepEqual(got, text, `${make} in pieces of ${size}`);
    }
  }
  for (const [make, decompress] of [["createGzip", "gunzipSync"], ["createDeflate", "inflateSync"], ["createDeflateRaw", "inflateRawSync"]] as const) {
    for (const level of [0, 1, 6, 9]) {
      const got = await through(ours[make]!({ level }), split(text, 3000));
      assert.deepEqual(node[decompress]!(got), text, `${make} level ${level}`);
    }
  }
  const stream = ours.createGunzip!() as NodeJS.ReadWriteStream & { bytesWritten: number };
  await assert.rejects(through(stream, [Buffer.from("not gzip at all")]), { code: "Z_DATA_ERROR", message: "incorrect header check" });
  await assert.rejects(through(ours.createGunzip!(), [nodeZlib.gzipSync(text).subarray(0, 100)]), { code: "Z_BUF_ERROR", message: "unexpected end of file" });
  const partial = await through(ours.createInflate!({ finishFlush: nodeZlib.constants.Z_SYNC_FLUSH }), [nodeZlib.deflateSync(text).subarray(0, 60)]);
  const nodePartial = await through(nodeZlib.createInflate({ finishFlush: nodeZlib.constants.Z_SYNC_FLUSH }), [nodeZlib.deflateSync(text).subarray(0, 60)]);
  assert.deepEqual(partial, nodePartial, "finishFlush Z_SYNC_FLUSH gives what was decoded");
});

test("stream flush(), params(), reset(), bytesWritten and chunkSize", async () => {
  const gzip = ours.createGzip!() as NodeJS.ReadWriteStream & { flush(cb: () => void): void; params(l: number, s: number, cb: () => void): void; bytesWritten: number };
  const out: Buffer[] = [];
  gzip.on("data", (c: Buffer) => out.push(c));
  gzip.write("first part ");
  await new Promise<void>((resolve) => gzip.flush(resolve));
  // After a flush, everything written so far decodes.
  assert.equal(nodeZlib.gunzipSync(Buffer.concat(out), { finishFlush: nodeZlib.constants.Z_SYNC_FLUSH }).toString(), "first part ");
  await new Promise<void>((resolve) => gzip.params(9, 0, resolve));
  gzip.end("second part");
  await new Promise((resolve) => gzip.on("end", resolve));
  assert.equal(nodeZlib.gunzipSync(Buffer.concat(out)).toString(), "first part second part");
  assert.equal(gzip.bytesWritten, 22);

  const big = nodeZlib.gzipSync(Buffer.alloc(100000, 1));
  const inflater = ours.createGunzip!({ chunkSize: 1024 }) as NodeJS.ReadWriteStream & { bytesWritten: number };
  const sizes: number[] = [];
  inflater.on("data", (c: Buffer) => sizes.push(c.length));
  inflater.end(big);
  await new Promise((resolve) => inflater.on("end", resolve));
  assert.equal(sizes.reduce((a, b) => a + b, 0), 100000);
  assert.ok(sizes.every((s) => s <= 1024), "no chunk above chunkSize");
  assert.equal(inflater.bytesWritten, big.length);

  // reset() mid-stream: the engine starts over, so a whole new stream decodes after half of another.
  const reused = ours.createInflate!() as NodeJS.ReadWriteStream & { reset(): void };
  await new Promise((resolve) => reused.write(nodeZlib.deflateSync("one").subarray(0, 4), resolve));
  reused.reset();
  const after = await through(reused, [nodeZlib.deflateSync("two")]);
  assert.ok(after.toString().endsWith("two"), after.toString());
});

test("constants, codes and the legacy names are Node's; Brotli and Zstandard throw ERR_METHOD_NOT_IMPLEMENTED naming the function", () => {
  assert.deepEqual({ ...ours.constants }, { ...nodeZlib.constants });
  assert.deepEqual(ours.codes, (nodeZlib as unknown as { codes: object }).codes);
  const legacy = Object.getOwnPropertyNames(nodeZlib).filter((k) => /^(Z_|ZLIB_|[A-Z]+$)/.test(k) && !k.startsWith("ZSTD_"));
  for (const key of legacy) assert.equal(ours.default[key], (nodeZlib as unknown as Record<string, unknown>)[key], key);
  for (const key of Object.keys(nodeZlib).filter((k) => k !== "default")) assert.ok(key in ours.default, `default export has ${key}`);
  assert.equal(Object.keys(ours.default).some((k) => k.startsWith("Z_")), false, "the legacy names are not enumerable, as in Node");
  for (const name of ["brotliCompressSync", "brotliDecompress", "createBrotliCompress", "zstdCompressSync"]) {
    assert.throws(() => ours[name]!(Buffer.from("x"), () => {}), (err: Error & { code?: string }) => {
      assert.equal(err.code, "ERR_METHOD_NOT_IMPLEMENTED");
      assert.match(err.message, new RegExp(`^zlib\\.${name} is not supported`));
      return true;
    });
  }
});
