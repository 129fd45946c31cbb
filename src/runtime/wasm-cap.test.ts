/**
 * The process-wide cap on one WebAssembly memory (wasm-cap.ts): set when the runtime loads, it
 * bounds a memory64 (V8's own ceiling is 16 GiB) in isolates and leaves Node's own WebAssembly
 * (undici's HTTP parser) working.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import ivm from "isolated-vm";
import { WASM_MAX_PAGES } from "./wasm-cap.ts";
import { MAX_MEMORY_MB } from "../shared/limits.ts";

// (memory i64 1) exported as "m".
const MEMORY64 = [0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 1, 7, 5, 1, 1, 109, 2, 0];

test("the cap is the largest memory budget", () => {
  assert.equal(WASM_MAX_PAGES * 65536, MAX_MEMORY_MB * 1024 * 1024);
});

test("in an isolate, a memory64 cannot grow past the cap; up to it, it can", () => {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    const context = isolate.createContextSync();
    const out = context.evalSync(`
      const m = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([${MEMORY64.join(",")}]))).exports.m;
      let past;
      try { m.grow(BigInt(${WASM_MAX_PAGES})); past = "grew"; } catch (e) { past = e.constructor.name; }
      let declared;
      try { new WebAssembly.Memory({ initial: 1, maximum: ${WASM_MAX_PAGES + 1} }); declared = "made"; } catch (e) { declared = e.constructor.name; }
      past + " " + declared + " " + m.grow(1n);
    `);
    assert.equal(out, "RangeError RangeError 1");
  } finally {
    isolate.dispose();
  }
});

test("Node's own fetch (undici, llhttp in WebAssembly) still works", async () => {
  const server = createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  try {
    const r = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    assert.equal(await r.text(), "ok");
  } finally {
    server.close();
  }
});
