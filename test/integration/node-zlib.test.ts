/**
 * verge's node:zlib (src/build/node-polyfills/zlib.js), bundled with
 * nodeCompat and run in the isolate, against Node's own node:zlib on the host:
 * what the Worker compresses decompresses with Node to the input, what Node
 * compresses the Worker decompresses, corrupt input fails with Node's code and
 * message, and a decompression bomb ends in a limit error, never a host crash.
 * The module's breadth (seeded corruptions, every option error) is compared
 * in-process by src/build/node-polyfills/zlib.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeZlib from "node:zlib";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle } from "../../src/build/bundle.ts";
import { Verge } from "../../src/index.ts";

const WORKER = `import { gzipSync, gunzipSync, deflateSync, inflateSync, deflateRawSync, inflateRawSync, unzipSync, crc32, gzip, unzip, createGunzip, createGzip, createDeflateRaw, constants } from "node:zlib";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { promisify } from "node:util";

function input(value, as) {
  const bytes = Buffer.from(value, "base64");
  if (as === "string") return bytes.toString("latin1");
  if (as === "u8") return new Uint8Array(bytes);
  if (as === "dataview") return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (as === "arraybuffer") return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return bytes;
}
const fns = { gzipSync, gunzipSync, deflateSync, inflateSync, deflateRawSync, inflateRawSync, unzipSync };
function run(c) {
  try {
    const out = fns[c.fn](input(c.data, c.as), c.opts);
    return { ok: Buffer.isBuffer(out), data: out.toString("base64") };
  } catch (err) {
    return { error: { name: err.name, code: err.code, errno: err.errno ?? null, message: err.message } };
  }
}
async function collect(stream, chunks) {
  const out = [];
  const done = new Promise((resolve, reject) => {
    stream.on("data", (c) => out.push(c));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  Readable.from(chunks).pipe(stream);
  await done;
  return Buffer.concat(out);
}
function pieces(bytes, size) {
  const parts = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return parts;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const q = url.searchParams;
    if (url.pathname === "/run") return Response.json((await request.json()).map(run));
    if (url.pathname === "/crc32") return Response.json((await request.json()).map((s) => [crc32(s), crc32(Buffer.from(s, "latin1"), 7)]));
    if (url.pathname === "/stream-in") {
      const body = Buffer.from(await request.arrayBuffer());
      try {
        return new Response(await collect(createGunzip(), pieces(body, Number(q.get("size")))));
      } catch (err) {
        return Response.json({ code: err.code, message: err.message }, { status: 500 });
      }
    }
    if (url.pathname === "/stream-out") {
      const body = Buffer.from(await request.arrayBuffer());
      const make = q.get("raw") ? createDeflateRaw : createGzip;
      return new Response(await collect(make({ level: Number(q.get("level")) }), pieces(body, 1000)));
    }
    if (url.pathname === "/async") {
      const body = Buffer.from(await request.arrayBuffer());
      const packed = await promisify(gzip)(body, { level: 9 });
      let later = true;
      const back = await new Promise((resolve, reject) => { unzip(packed, (err, out) => (err ? reject(err) : resolve([later, out]))); later = false; });
      return Response.json({ packed: packed.toString("base64"), ranLater: back[0] === false, back: back[1].equals(body) });
    }
    if (url.pathname === "/bomb") {
      const body = Buffer.from(await request.arrayBuffer());
      const max = q.get("max");
      try {
        return new Response(String(gunzipSync(body, max ? { maxOutputLength: Number(max) } : {}).length));
      } catch (err) {
        return Response.json({ name: err.name, code: err.code, message: err.message }, { status: 500 });
      }
    }
    if (url.pathname === "/bomb-stream") {
      const body = Buffer.from(await request.arrayBuffer());
      let total = 0;
      const gunzip = createGunzip();
      gunzip.on("data", (c) => { total += c.length; });
      await new Promise((resolve) => { gunzip.on("end", resolve); gunzip.end(body); });
      return new Response(String(total));
    }
    return new Response(String(constants.Z_BEST_COMPRESSION));
  },
};
`;

async function start(t: { after(fn: () => unknown): void }, limits: { cpuMs: number; memoryMb?: number }): Promise<Verge> {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-zlib-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), WORKER);
  const built = await bundle(join(dir, "index.js"), { nodeCompat: true });
  const verge = new Verge({ modules: true, script: built.code, sourceMap: built.sourceMap, limits });
  t.after(() => verge.dispose());
  return verge;
}

interface Result {
  ok?: boolean;
  data?: string;
  error?: { name: string; code: string; errno: number | null; message: string };
}

async function runAll(verge: Verge, cases: object[]): Promise<Result[]> {
  const res = await verge.dispatchFetch("http://localhost/run", { method: "POST", body: JSON.stringify(cases) });
  assert.equal(res.status, 200);
  return (await res.json()) as Result[];
}

const TEXTS = ["", "a", "hello world ".repeat(50), "The quick brown fox jumps over the lazy dog. ".repeat(2000), Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251)).toString("latin1")];
const b64 = (s: string | Uint8Array) => Buffer.from(typeof s === "string" ? Buffer.from(s, "latin1") : s).toString("base64");

test("compressed in the isolate, decompressed by Node: every format, levels 0-9, every input type; Buffers out", { timeout: 120_000 }, async (t) => {
  const verge = await start(t, { cpuMs: 20_000 });
  const cases: Array<{ fn: string; data: string; as: string; opts: object; back: string; text: string }> = [];
  const kinds = ["string", "buffer", "u8", "dataview", "arraybuffer"];
  for (const [fn, back] of [["gzipSync", "gunzipSync"], ["deflateSync", "inflateSync"], ["deflateRawSync", "inflateRawSync"]] as const) {
    for (let level = 0; level <= 9; level++) {
      for (const [i, text] of TEXTS.entries()) cases.push({ fn, back, text, data: b64(text), as: kinds[(level + i) % kinds.length]!, opts: { level, memLevel: 1 + ((level + i) % 9) } });
    }
  }
  const results = await runAll(verge, cases.map(({ fn, data, as, opts }) => ({ fn, data, as, opts })));
  for (const [i, c] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.ok, true, `${c.fn} ${JSON.stringify(c.opts)}: ${JSON.stringify(r.error)}`);
    const decoded = (nodeZlib as unknown as Record<string, (b: Buffer) => Buffer>)[c.back]!(Buffer.from(r.data!, "base64"));
    // A string input is compressed as its UTF-8 bytes, as Node does.
    const expected = c.as === "string" ? Buffer.from(c.text) : Buffer.from(c.text, "latin1");
    assert.deepEqual(decoded, expected, `${c.fn} ${JSON.stringify(c.opts)} ${c.as}`);
  }
});

test("compressed by Node, decompressed in the isolate: every format, level, strategy and window; unzip of both wrappers", { timeout: 120_000 }, async (t) => {
  const verge = await start(t, { cpuMs: 20_000 });
  const cases: Array<{ fn: string; data: string; as: string; text: string }> = [];
  for (const [fn, back] of [["gzipSync", "gunzipSync"], ["deflateSync", "inflateSync"], ["deflateRawSync", "inflateRawSync"], ["gzipSync", "unzipSync"], ["deflateSync", "unzipSync"]] as const) {
    for (let level = 0; level <= 9; level++) {
      for (const [i, text] of TEXTS.entries()) {
        const opts = { level, strategy: (level + i) % 5, windowBits: 9 + ((level + i) % 7), memLevel: 1 + (i % 9) };
        const packed = (nodeZlib as unknown as Record<string, (b: Buffer, o: object) => Buffer>)[fn]!(Buffer.from(text, "latin1"), opts);
        cases.push({ fn: back, data: b64(packed), as: "buffer", text });
      }
    }
  }
  const results = await runAll(verge, cases);
  for (const [i, c] of cases.entries()) {
    assert.equal(results[i]!.ok, true, `${c.fn}: ${JSON.stringify(results[i]!.error)}`);
    assert.equal(Buffer.from(results[i]!.data!, "base64").toString("latin1"), c.text, `${c.fn} case ${i}`);
  }
});

test("corrupt, truncated and oversized input in the isolate: Node's error class, code, errno and message", { timeout: 60_000 }, async (t) => {
  const verge = await start(t, { cpuMs: 20_000 });
  const gz = nodeZlib.gzipSync("hello hello hello hello");
  const flipped = Buffer.from(nodeZlib.deflateSync("The quick brown fox jumps over the lazy dog"));
  flipped[flipped.length - 2]! ^= 0x10;
  const cases: Array<[string, Uint8Array, object?]> = [
    ["gunzipSync", Buffer.from("not gzip")],
    ["inflateSync", Buffer.alloc(0)],
    ["gunzipSync", gz.subarray(0, 15)],
    ["gunzipSync", gz.subarray(0, 15), { finishFlush: nodeZlib.constants.Z_SYNC_FLUSH }],
    ["gunzipSync", Buffer.concat([gz, Buffer.from("zz")])],
    ["inflateSync", flipped],
    ["inflateRawSync", Buffer.from([0xff, 0xff, 0xff])],
    ["inflateSync", nodeZlib.deflateSync("x", { dictionary: Buffer.from("d") })],
    ["gunzipSync", gz, { maxOutputLength: 4 }],
    ["gzipSync", Buffer.from("x"), { level: 12 }],
    ["gzipSync", Buffer.from("x"), { strategy: "fast" }],
  ];
  const results = await runAll(verge, cases.map(([fn, data, opts]) => ({ fn, data: b64(data), as: "buffer", opts })));
  for (const [i, [fn, data, opts]] of cases.entries()) {
    let expected: Result;
    try {
      expected = { ok: true, data: (nodeZlib as unknown as Record<string, (b: Uint8Array, o?: object) => Buffer>)[fn]!(data, opts).toString("base64") };
    } catch (err) {
      const e = err as { name: string; code: string; errno?: number; message: string };
      expected = { error: { name: e.name, code: e.code, errno: e.errno ?? null, message: e.message } };
    }
    assert.deepEqual(results[i], expected, `${fn} case ${i}`);
  }
  const crcInputs = ["", "hello", "héllo", "x".repeat(10000)];
  const crcs = (await (await verge.dispatchFetch("http://localhost/crc32", { method: "POST", body: JSON.stringify(crcInputs) })).json()) as number[][];
  assert.deepEqual(crcs, crcInputs.map((s) => [nodeZlib.crc32(s), nodeZlib.crc32(Buffer.from(s, "latin1"), 7)]));
});

test("streams and callback forms in the isolate: Gunzip fed in pieces, Gzip and DeflateRaw through a pipe, promisify(gzip), unzip's callback later", { timeout: 60_000 }, async (t) => {
  const verge = await start(t, { cpuMs: 20_000 });
  const text = Buffer.from("stream data ".repeat(3000));
  const packed = nodeZlib.gzipSync(text);
  for (const size of [1, 100, packed.length]) {
    const res = await verge.dispatchFetch(`http://localhost/stream-in?size=${size}`, { method: "POST", body: packed });
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), text, `pieces of ${size}`);
  }
  const bad = await verge.dispatchFetch("http://localhost/stream-in?size=10", { method: "POST", body: packed.subarray(0, 50) });
  assert.equal(bad.status, 500);
  assert.deepEqual(await bad.json(), { code: "Z_BUF_ERROR", message: "unexpected end of file" });
  for (const level of [1, 9]) {
    const gz = Buffer.from(await (await verge.dispatchFetch(`http://localhost/stream-out?level=${level}`, { method: "POST", body: text })).arrayBuffer());
    assert.deepEqual(nodeZlib.gunzipSync(gz), text);
    const raw = Buffer.from(await (await verge.dispatchFetch(`http://localhost/stream-out?raw=1&level=${level}`, { method: "POST", body: text })).arrayBuffer());
    assert.deepEqual(nodeZlib.inflateRawSync(raw), text);
  }
  const res = (await (await verge.dispatchFetch("http://localhost/async", { method: "POST", body: text })).json()) as { packed: string; ranLater: boolean; back: boolean };
  assert.deepEqual(nodeZlib.gunzipSync(Buffer.from(res.packed, "base64")), text);
  assert.equal(res.ranLater, true, "the callback runs after the call returned");
  assert.equal(res.back, true);
});

test("a decompression bomb ends in a limit error, never a host crash: maxOutputLength stops it early, else the CPU or memory limit ends the request, and the next one is served", { timeout: 120_000 }, async (t) => {
  // 1 GiB of zeros in about 1 MiB of gzip (built from one compressed block repeated as gzip members).
  const member = nodeZlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
  const verge = await start(t, { cpuMs: 200, memoryMb: 128 });
  const limited = await verge.dispatchFetch("http://localhost/bomb?max=1000000", { method: "POST", body: bomb });
  assert.equal(limited.status, 500);
  assert.deepEqual(await limited.json(), { name: "RangeError", code: "ERR_BUFFER_TOO_LARGE", message: "Cannot create a Buffer larger than 1000000 bytes" });
  for (const path of ["/bomb", "/bomb-stream"]) {
    let outcome: string;
    try {
      const res = await verge.dispatchFetch(`http://localhost${path}`, { method: "POST", body: bomb });
      // The memory limit may refuse an ArrayBuffer before the CPU budget runs out: V8 throws a
      // RangeError, which /bomb catches and answers with (within its CPU budget, or the answer
      // would be dropped for ERR_CPU_LIMIT).
      const body = (await res.json()) as { name?: string; message?: string };
      assert.equal(res.status, 500, `${path}: ${JSON.stringify(body)}`);
      assert.deepEqual([body.name, body.message], ["RangeError", "Array buffer allocation failed"], path);
      assert.ok(verge.lastReport!.limits.cpuMs.used <= 200, `${path}: answered within the CPU budget`);
      outcome = "RangeError";
    } catch (err) {
      const code = (err as { code?: string }).code;
      assert.ok(code === "ERR_CPU_LIMIT" || code === "ERR_MEMORY_LIMIT", `${path}: ${String(code)} ${String(err)}`);
      outcome = code;
    }
    t.diagnostic(`${path}: ${outcome}`);
    const after = await verge.dispatchFetch("http://localhost/");
    assert.equal(await after.text(), "9", `served after ${path}`);
  }
});
