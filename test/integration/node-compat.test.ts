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
