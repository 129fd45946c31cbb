import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { bundle, type BundleOptions, type BundleResult } from "./bundle.ts";
import { wantsNodeCompat } from "./node-compat.ts";

/** A Worker using each supported built-in (the cases of the brief), answering what each gave. */
const WORKER = `import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import * as util from "node:util";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
export default {
  fetch() {
    const emitter = new EventEmitter();
    let heard = "";
    emitter.on("ping", (v: string) => { heard = v; });
    emitter.emit("ping", "pong");
    const decoder = new StringDecoder("utf8");
    // "€" is e2 82 ac: split across two writes, the decoder holds the first two bytes back.
    const euro = decoder.write(Buffer.from([0xe2, 0x82])) + decoder.end(Buffer.from([0xac]));
    return Response.json({
      base64: Buffer.from("hi").toString("base64"),
      heard,
      formatted: util.format("%s=%d %j", "a", 1, { b: 2 }),
      joined: path.join("/a", "b", "../c"),
      euro,
    });
  },
};
`;

async function build(t: { after(fn: () => unknown): void }, files: Record<string, string>, options: BundleOptions): Promise<BundleResult> {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return bundle(join(dir, "index.ts"), options);
}

/** Evaluates a bundle as an ES module in this process and calls its fetch handler. */
async function answer(code: string): Promise<unknown> {
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as { default: { fetch(): Response | Promise<Response> } };
  return (await mod.default.fetch()).json();
}

test("the flags that ask for the polyfills: nodejs_compat and nodejs_compat_v2", () => {
  assert.equal(wantsNodeCompat(["nodejs_compat"]), true);
  assert.equal(wantsNodeCompat(["streams_enable_constructors", "nodejs_compat_v2"]), true);
  assert.equal(wantsNodeCompat(["nodejs_als"]), false);
  assert.equal(wantsNodeCompat([]), false);
});

test("nodeCompat: node:buffer, node:events, node:util, node:path, node:string_decoder bundle as polyfills, with no import left", async (t) => {
  const built = await build(t, { "index.ts": WORKER }, { nodeCompat: true });
  assert.doesNotMatch(built.code, /from\s*["']node:/);
  assert.doesNotMatch(built.code, /require\(["'](node:)?(buffer|events|util|path|string_decoder)["']\)/);
  assert.match(built.code, /The buffer module from node\.js, for the browser/, "the buffer package is in the bundle");
  assert.ok(built.inputs.some((p) => p.includes("path-browserify")), "path resolves to path-browserify");
  assert.deepEqual(await answer(built.code), { base64: "aGk=", heard: "pong", formatted: 'a=1 {"b":2}', joined: "/a/c", euro: "€" });
});

test("without nodeCompat, each node:* import is a build error saying which flag turns it on", async (t) => {
  await assert.rejects(build(t, { "index.ts": WORKER }, {}), (err: Error & { code?: string; details?: { problems?: { text: string; line?: number }[] } }) => {
    assert.equal(err.code, "ERR_BUILD_FAILED");
    const problems = err.details?.problems ?? [];
    assert.equal(problems.length, 5, "one problem per import");
    assert.match(problems[0]!.text, /^node:buffer needs compatibility_flags = \["nodejs_compat"\]/);
    assert.match(problems[0]!.text, /supported: node:buffer, node:events, node:util, node:path, node:string_decoder, node:assert/);
    assert.equal(problems[0]!.line, 1);
    return true;
  });
});

test("nodeCompat: other node:* built-ins stay a build error listing what is supported", async (t) => {
  const files = { "index.ts": `import { readFileSync } from "node:fs";\nimport { connect } from "node:net";\nexport default { fetch() { return new Response(String(readFileSync) + String(connect)); } };\n` };
  await assert.rejects(build(t, files, { nodeCompat: true }), (err: Error & { code?: string }) => {
    assert.equal(err.code, "ERR_BUILD_FAILED");
    assert.match(
      err.message,
      /node:fs is not available in verge: with nodejs_compat, verge bundles polyfills for node:buffer, node:events, node:util, node:path, node:string_decoder, node:assert, node:crypto, node:stream, node:stream\/promises, node:url, node:querystring, node:timers, node:timers\/promises, node:process, node:async_hooks, node:zlib only/,
    );
    assert.match(err.message, /node:net is not available in verge/);
    return true;
  });
});

test("nodeCompat: node:crypto is verge's own module over @noble/hashes, bundled only when imported, with Node's digests", async (t) => {
  const built = await build(t, {
    "index.ts": `import { createHash, createHmac } from "node:crypto";
import nodeCrypto from "crypto";
export default { fetch() {
  return Response.json({
    sha256: createHash("SHA256").update("abc").digest("hex"),
    hmac: createHmac("sha1", "key").update("The quick brown fox jumps over the lazy dog").digest("base64"),
    same: nodeCrypto.createHash === createHash,
  });
} };\n`,
  }, { nodeCompat: true });
  assert.doesNotMatch(built.code, /from\s*["'](node:)?crypto["']/);
  assert.ok(built.inputs.some((p) => p.endsWith("src/build/node-polyfills/crypto.js")), "node:crypto resolves to node-polyfills/crypto.js");
  assert.ok(built.inputs.some((p) => p.includes("@noble/hashes")), "the hashes come from @noble/hashes");
  assert.deepEqual(await answer(built.code), {
    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    hmac: "3nybhbi3iqa8ino29wqQcBydtNk=",
    same: true,
  });
  const plain = await build(t, { "index.ts": `import { Buffer } from "node:buffer";\nexport default { fetch() { return new Response(Buffer.from("x").toString("hex")); } };\n` }, { nodeCompat: true });
  assert.ok(!plain.inputs.some((p) => p.includes("@noble/hashes") || p.endsWith("crypto.js")), "nothing of node:crypto in a function that does not import it");
  assert.doesNotMatch(plain.code, /Digest already called|nodejs_compat provides/);
});

test("nodeCompat: node:zlib is verge's own module; named imports leave node:stream out, and fflate evaluates on the first compression only", async (t) => {
  const named = await build(t, {
    "index.ts": `import { gzipSync, gunzipSync, crc32 } from "node:zlib";
import zlib from "zlib";
export default { fetch() {
  return Response.json({ back: gunzipSync(gzipSync("abc".repeat(100))).toString(), crc: crc32("hello"), same: zlib.gzipSync === gzipSync });
} };\n`,
  }, { nodeCompat: true });
  assert.deepEqual(await answer(named.code), { back: "abc".repeat(100), crc: 907060870, same: true });
  // The default import names the stream classes: node:stream comes with it.
  assert.match(named.code, /ERR_STREAM_PUSH_AFTER_EOF/);
  const small = await build(t, { "index.ts": `import { gzipSync, gunzipSync } from "node:zlib";\nimport * as zlib from "node:zlib";\nexport default { fetch() { return new Response(gunzipSync(gzipSync(String(zlib.crc32("x"))))); } };\n` }, { nodeCompat: true });
  assert.doesNotMatch(small.code, /ERR_STREAM_PUSH_AFTER_EOF/, "named and namespace imports of the buffer functions do not bundle node:stream");
  assert.ok(small.bytes < 140_000, `${small.bytes} bytes`);
  assert.ok(named.bytes > small.bytes + 150_000, `${named.bytes} bytes with the streams`);
  // fflate's module (its Huffman tables) sits behind a lazy initializer that runs on the first compression.
  assert.match(small.code, /var init_zlib_fflate = __esm\(/);
});

test("nodeCompat: node:stream, node:url, node:querystring, node:timers and node:process resolve to their polyfills", async (t) => {
  const built = await build(t, {
    "index.ts": `import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parse, URL as NodeURL, URLSearchParams as NodeParams } from "node:url";
import querystring from "node:querystring";
import { setImmediate } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import nodeProcess, { nextTick } from "node:process";
export default { async fetch() {
  const out: string[] = [];
  const upper = new Transform({ transform(chunk, _enc, done) { done(null, String(chunk).toUpperCase()); } });
  upper.on("data", (c) => out.push(String(c)));
  await pipeline(Readable.from(["a", "b"]), upper);
  const ticked = await new Promise((resolve) => nextTick(resolve, "tick"));
  return Response.json({
    out, ticked,
    query: parse("http://x.test/p?a=1&b=2").query,
    globals: NodeURL === globalThis.URL && NodeParams === globalThis.URLSearchParams,
    qs: querystring.parse("a=1&a=2&b=%20"),
    immediate: await new Promise((resolve) => setImmediate(resolve, "now")),
    slept: await sleep(1, "later"),
    sameProcess: nodeProcess === process,
  });
} };\n`,
  }, { nodeCompat: true });
  assert.ok(built.inputs.some((p) => p.includes("readable-stream")), "stream is readable-stream");
  assert.ok(built.inputs.some((p) => p.includes("querystring-es3")), "querystring is querystring-es3");
  assert.deepEqual(await answer(built.code), {
    out: ["A", "B"],
    ticked: "tick",
    query: "a=1&b=2",
    globals: true,
    qs: { a: ["1", "2"], b: " " },
    immediate: "now",
    slept: "later",
    sameProcess: true,
  });
});

test("nodeCompat: the Buffer and process globals are bundled only when the code names them", async (t) => {
  const plain = await build(t, { "index.ts": `export default { fetch() { return Response.json({ ok: true }); } };\n` }, { nodeCompat: true });
  assert.doesNotMatch(plain.code, /base64-js|ieee754/, "no Buffer polyfill when nothing uses it");
  assert.ok(plain.bytes < 2000, `a Worker using no Node API stays small (${plain.bytes} bytes)`);

  const globals = await build(t, {
    "index.ts": `export default { fetch() {
  const order: string[] = [];
  process.nextTick((v: string) => order.push(v), "tick");
  order.push("sync");
  return Promise.resolve().then(() => Response.json({ b64: Buffer.from("hi").toString("base64"), isBuffer: Buffer.isBuffer(Buffer.alloc(1)), env: process.env, order, global: global === globalThis }));
} };\n`,
  }, { nodeCompat: true });
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(globals.code).toString("base64")}`)) as { default: { fetch(): Promise<Response> } };
  assert.deepEqual(await (await mod.default.fetch()).json(), { b64: "aGk=", isBuffer: true, env: {}, order: ["sync", "tick"], global: true });
});

test("nodeCompat: bare specifiers (buffer, events) and node:assert resolve to the same polyfills", async (t) => {
  const built = await build(t, {
    "index.ts": `import { Buffer } from "buffer";
import EventEmitter from "events";
import assert from "node:assert";
export default { fetch() {
  let message = "";
  try { assert.strictEqual(1, 2); } catch (err) { message = (err as Error).name; }
  assert.deepStrictEqual({ a: [1] }, { a: [1] });
  return Response.json({ hex: Buffer.from("hi").toString("hex"), emitter: typeof new EventEmitter().on, message });
} };\n`,
  }, { nodeCompat: true });
  assert.deepEqual(await answer(built.code), { hex: "6869", emitter: "function", message: "AssertionError" });
});

test("a bare built-in name (require(\"querystring\"), as Node code writes it) says why it does not bundle; an installed package of that name is used", async (t) => {
  const files = { "index.ts": `const qs = require("querystring");\nexport default { fetch() { return new Response(qs.stringify({ a: 1 })); } };\n` };
  await assert.rejects(build(t, files, {}), (err: Error) => {
    assert.match(err.message, /"querystring" is no installed package but Node's built-in: node:querystring needs compatibility_flags = \["nodejs_compat"\] in the wrangler config, or --node-compat with an entry/);
    return true;
  });
  const withFlag = await build(t, files, { nodeCompat: true });
  assert.match(withFlag.code, /querystring-es3|qs\.stringify|stringify/);
  await assert.rejects(build(t, { "index.ts": `import fs from "fs";\nexport default { fetch() { return new Response(String(fs)); } };\n` }, { nodeCompat: true }), /"fs" is no installed package but Node's built-in: node:fs is not available in verge: with nodejs_compat/);
  // A project's own package named like a built-in (punycode on npm) wins, flag or not.
  const own = await build(t, { "index.ts": `import p from "punycode";\nexport default { fetch() { return new Response(p.mine); } };\n`, "node_modules/punycode/package.json": `{ "name": "punycode", "main": "index.js" }`, "node_modules/punycode/index.js": `module.exports = { mine: "the project's punycode" };\n` }, {});
  assert.match(own.code, /the project's punycode/);
});
