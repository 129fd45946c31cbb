/**
 * Workers' nodejs_compat as verge gives it: polyfills bundled by src/build
 * (node-compat.ts), run by the runtime. What a Worker importing node:buffer,
 * node:events, node:util, node:path, node:string_decoder and node:assert sees
 * inside the isolate, which has no Node APIs of its own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle } from "../../src/build/bundle.ts";
import { Verge } from "../../src/index.ts";

const WORKER = `import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import * as util from "node:util";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import assert from "node:assert";
export default {
  async fetch(request: Request): Promise<Response> {
    const emitter = new EventEmitter();
    const heard: string[] = [];
    emitter.once("ping", (v: string) => heard.push(v));
    emitter.emit("ping", "pong");
    emitter.emit("ping", "again");
    const decoder = new StringDecoder("utf8");
    const euro = decoder.write(Buffer.from([0xe2, 0x82])) + decoder.end(Buffer.from([0xac]));
    let assertion = "";
    try { assert.deepStrictEqual({ a: 1 }, { a: 2 }); } catch (err) { assertion = (err as Error).name; }
    const ticked = await new Promise((resolve) => process.nextTick(resolve, "ticked"));
    const body = Buffer.from(await request.arrayBuffer());
    return Response.json({
      base64: Buffer.from("hi").toString("base64"),
      base64url: (() => {
        const b = Buffer.from([251, 255, 191, 0, 1]);
        const w = Buffer.alloc(4);
        const n = w.write("-_8", "base64url");
        return [b.toString("base64url"), Buffer.from("-_-_AAE", "base64url").toString("hex"), Buffer.byteLength("-_-_AAE", "base64url"), Buffer.isEncoding("base64url"), Buffer.isEncoding("BASE64URL"), [n, w.toString("hex")], Buffer.alloc(3, "-_8", "base64url").toString("hex"), b.toString("base64url", 1, 4)];
      })(),
      fromBase64: Buffer.from("aGk=", "base64").toString("utf8"),
      body: body.toString("hex"),
      isUint8Array: body instanceof Uint8Array,
      heard,
      formatted: util.format("%s=%d %j", "a", 1, { b: 2 }),
      inspected: util.inspect({ a: [1, 2] }),
      joined: path.join("/a", "b", "../c"),
      ext: path.extname("x/y.tar.gz"),
      euro,
      assertion,
      ticked,
      env: process.env,
    });
  },
};
`;

test("a Worker bundled with nodeCompat runs in the isolate: Buffer, EventEmitter, util, path, StringDecoder, assert, process.nextTick", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.ts"), WORKER);
  const built = await bundle(join(dir, "index.ts"), { nodeCompat: true });
  const verge = new Verge({ modules: true, script: built.code, sourceMap: built.sourceMap });
  t.after(() => verge.dispose());
  const res = await verge.dispatchFetch("http://localhost/", { method: "POST", body: "hey" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    base64: "aGk=",
    // As Node 24 gives them (the buffer package has no base64url: node-polyfills/buffer.js adds it).
    base64url: ["-_-_AAE", "fbffbf0001", 5, true, true, [2, "fbff0000"], "fbfffb", "_78A"],
    fromBase64: "hi",
    body: "686579",
    isUint8Array: true,
    heard: ["pong"],
    formatted: 'a=1 {"b":2}',
    inspected: "{ a: [ 1, 2 ] }",
    joined: "/a/c",
    ext: ".gz",
    euro: "€",
    assertion: "AssertionError",
    ticked: "ticked",
    env: {},
  });
});

test("the isolate has no Buffer or process of its own: typeof Buffer and typeof process are undefined without nodeCompat, a function and an object with it", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.ts"), `export default { fetch() { return new Response(typeof Buffer + " " + typeof process); } };\n`);
  const without = await bundle(join(dir, "index.ts"));
  const plain = new Verge({ modules: true, script: without.code });
  t.after(() => plain.dispose());
  assert.equal(await (await plain.dispatchFetch("http://localhost/")).text(), "undefined undefined");
  const withCompat = await bundle(join(dir, "index.ts"), { nodeCompat: true });
  const compat = new Verge({ modules: true, script: withCompat.code });
  t.after(() => compat.dispose());
  assert.equal(await (await compat.dispatchFetch("http://localhost/")).text(), "function object");
});

test("node:stream, node:url, node:querystring, node:timers, node:timers/promises and node:process run in the isolate", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-compat-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.ts"), `import { Readable, Writable, Transform, PassThrough, finished } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parse, format, resolve, URL as NodeURL, URLSearchParams as NodeParams, fileURLToPath, pathToFileURL, domainToASCII } from "node:url";
import querystring from "node:querystring";
import { setImmediate, setTimeout as nodeSetTimeout, clearTimeout as nodeClearTimeout } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import nodeProcess, { nextTick, env } from "node:process";
import path from "node:path";
export default { async fetch(request: Request): Promise<Response> {
  const collected: string[] = [];
  const upper = new Transform({ transform(chunk, _enc, done) { done(null, String(chunk).toUpperCase()); } });
  const sink = new Writable({ write(chunk, _enc, done) { collected.push(String(chunk)); done(); } });
  await pipeline(Readable.from(["a", "b", "c"]), upper, new PassThrough(), sink);
  const body = Readable.from([new Uint8Array(await request.arrayBuffer())]);
  let bytes = 0;
  for await (const chunk of body) bytes += (chunk as Uint8Array).byteLength;
  const ended = await new Promise((ok) => { const r = Readable.from([]); finished(r, (err) => ok(err ?? "ended")); r.resume(); });
  let aborted = "";
  const controller = new AbortController();
  const pending = sleep(10_000, "never", { signal: controller.signal }).catch((err) => { aborted = err.name + " " + err.code; });
  controller.abort();
  await pending;
  const cleared = await new Promise((ok) => { const id = nodeSetTimeout(() => ok("fired"), 5).unref(); nodeClearTimeout(id); const other = nodeSetTimeout(() => ok("fired"), 5); clearTimeout(other as never); nodeSetTimeout(ok, 10, "cleared"); });
  return Response.json({
    collected, bytes, ended, aborted, cleared,
    parsed: parse("https://user@x.test:8080/p/a?q=1#h", true).query,
    // Node's url parses and formats queries with querystring: y[z] stays a key, repeated keys an array.
    parsedQuery: { ...parse("http://a/b?x=1&x=2&y[z]=3&e=", true).query },
    formattedQuery: format({ protocol: "http", host: "a", pathname: "/p", query: { a: [1, 2], s: "x y", n: "\u00e9" } }),
    formatted: format({ protocol: "https", hostname: "x.test", pathname: "/a", search: "?b=1" }),
    resolved: resolve("http://x.test/a/b", "../c"),
    globals: NodeURL === globalThis.URL && NodeParams === globalThis.URLSearchParams,
    filePath: fileURLToPath("file:///tmp/a%20b"),
    fileUrl: pathToFileURL("/tmp/a b#c").href,
    ascii: domainToASCII("münchen.de"),
    qs: querystring.stringify({ a: [1, 2], b: "x y" }),
    qsParsed: querystring.parse("a=1&a=2&b=x%20y"),
    immediate: await new Promise((ok) => setImmediate(ok, "immediate")),
    slept: await sleep(1, "slept"),
    ticked: await new Promise((ok) => nextTick(ok, "ticked")),
    sameProcess: nodeProcess === process && env === process.env,
    // As in workerd: relative paths resolve from "/", exit() cancels (here: throws).
    pathResolved: [path.resolve("a/b"), path.resolve("/x", "../y"), nodeProcess.cwd(), nodeProcess.platform],
    exited: (() => { try { nodeProcess.exit(1); return "returned"; } catch (err) { return (err as Error).message; } })(),
  });
} };
`);
  const built = await bundle(join(dir, "index.ts"), { nodeCompat: true });
  const verge = new Verge({ modules: true, script: built.code, sourceMap: built.sourceMap, limits: { cpuMs: 2_000 } });
  t.after(() => verge.dispose());
  const res = await verge.dispatchFetch("http://localhost/", { method: "POST", body: "12345" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    collected: ["A", "B", "C"],
    bytes: 5,
    ended: "ended",
    aborted: "AbortError ABORT_ERR",
    cleared: "cleared",
    parsed: { q: "1" },
    parsedQuery: { x: ["1", "2"], "y[z]": "3", e: "" },
    formattedQuery: "http://a/p?a=1&a=2&s=x%20y&n=%C3%A9",
    formatted: "https://x.test/a?b=1",
    resolved: "http://x.test/c",
    globals: true,
    filePath: "/tmp/a b",
    fileUrl: "file:///tmp/a%20b%23c",
    ascii: "xn--mnchen-3ya.de",
    qs: "a=1&a=2&b=x%20y",
    qsParsed: { a: ["1", "2"], b: "x y" },
    immediate: "immediate",
    slept: "slept",
    ticked: "ticked",
    sameProcess: true,
    pathResolved: ["/a/b", "/y", "/", "linux"],
    exited: "The Node.js process.exit(1) API was called. Canceling the request.",
  });
});
