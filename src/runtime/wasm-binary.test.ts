/**
 * The guest's WebAssembly rewriter (guest/wasm/binary.ts), run in Node: which modules it changes,
 * the bytes it writes, and that V8 accepts them with the memory exported under the hidden name.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { exposeMemories, UNREADABLE } from "./guest/wasm/binary.ts";
import { bytes, exportFunc, exportMemory, internalMemoryModule, I32_TO_I32, leb, name, section, vec } from "./testing/wasm-bytes.ts";

/** The WebAssembly JS API as these tests use it (the root tsconfig has no DOM library). */
interface Api {
  Module: { new (b: Uint8Array): object; exports(m: object): Array<{ name: string; kind: string }>; imports(m: object): unknown[]; customSections(m: object, n: string): unknown[] };
  Instance: new (m: object) => { exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;

const growBody = [...leb(6), 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b];

function exposed(b: Uint8Array): { bytes: Uint8Array; hidden: string[] } {
  const r = exposeMemories(b);
  assert.ok(r !== null && r !== UNREADABLE, "expected the module to be rewritten");
  return { bytes: r.bytes, hidden: Array.from(r.hidden) };
}

test("an internal memory gets an export section with the hidden export, V8 accepts it", () => {
  const src = internalMemoryModule(3);
  const r = exposed(src);
  assert.deepEqual(r.hidden, ["__verge_memory_0"]);
  const m = new WebAssembly.Module(r.bytes);
  assert.deepEqual(WebAssembly.Module.exports(m), [
    { name: "grow", kind: "function" },
    { name: "touch", kind: "function" },
    { name: "__verge_memory_0", kind: "memory" },
  ]);
  const x = new WebAssembly.Instance(m).exports as { __verge_memory_0: { buffer: ArrayBuffer }; grow: (n: number) => number };
  assert.equal(x.__verge_memory_0.buffer.byteLength, 3 * 65536);
  assert.equal(x.grow(2), 3);
  assert.equal(x.__verge_memory_0.buffer.byteLength, 5 * 65536);
});

test("the rewritten export section's sizes are exact: the section is the old one plus the entry", () => {
  const src = internalMemoryModule();
  const r = exposed(src);
  const entry = [...name("__verge_memory_0"), 0x02, 0x00];
  assert.equal(r.bytes.length, src.length + entry.length);
  // Find the export section in the output and check its header against its content.
  let p = 8;
  while (r.bytes[p] !== 7) p += 2 + r.bytes[p + 1]!; // every section here is under 128 bytes
  const size = r.bytes[p + 1]!;
  assert.equal(r.bytes[p + 2], 3, "three exports");
  assert.deepEqual([...r.bytes.subarray(p + 2 + size - entry.length, p + 2 + size)], entry);
  assert.equal(r.bytes[p + 2 + size], 10, "the code section follows");
});

test("a module without an export section gets one, before the code section", () => {
  const src = bytes(section(1, vec([I32_TO_I32])), section(3, vec([[0x00]])), section(5, vec([[0x01, 0x01, 0x02]])), section(10, vec([growBody])));
  const r = exposed(src);
  const m = new WebAssembly.Module(r.bytes);
  assert.deepEqual(WebAssembly.Module.exports(m), [{ name: "__verge_memory_0", kind: "memory" }]);
  assert.equal(r.bytes.length, src.length + 2 + 1 + 1 + 16 + 2);
});

test("a memory64 and a memory with a large LEB minimum are read", () => {
  const mem64 = bytes(section(5, vec([[0x04, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]])));
  const r = exposed(mem64);
  assert.deepEqual(r.hidden, ["__verge_memory_0"]);
  assert.deepEqual(WebAssembly.Module.exports(new WebAssembly.Module(r.bytes)), [{ name: "__verge_memory_0", kind: "memory" }]);
});

test("modules that export or import their memory, or have none, are left as they are", () => {
  const exported = bytes(section(5, vec([[0x00, 0x01]])), section(7, vec([exportMemory("memory", 0)])));
  const imported = bytes(section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]])));
  const none = bytes(section(1, vec([I32_TO_I32])), section(3, vec([[0x00]])), section(7, vec([exportFunc("f", 0)])), section(10, vec([[...leb(4), 0x00, 0x20, 0x00, 0x0b]])));
  for (const b of [exported, imported, none]) {
    new WebAssembly.Module(b);
    assert.equal(exposeMemories(b), null);
  }
});

test("with an imported memory, a defined one (multi-memory) is exported under its own index", () => {
  const src = bytes(section(2, vec([[...name("env"), ...name("m"), 0x02, 0x00, 0x01]])), section(5, vec([[0x00, 0x01]])));
  const r = exposed(src);
  assert.deepEqual(r.hidden, ["__verge_memory_1"]);
  const m = new WebAssembly.Module(r.bytes);
  assert.deepEqual(WebAssembly.Module.exports(m), [{ name: "__verge_memory_1", kind: "memory" }]);
});

test("the hidden name never collides with an export the module has", () => {
  const src = bytes(
    section(1, vec([I32_TO_I32])),
    section(3, vec([[0x00]])),
    section(5, vec([[0x00, 0x01]])),
    section(7, vec([exportFunc("__verge_memory_0", 0), exportFunc("__verge_memory_0_", 0)])),
    section(10, vec([growBody])),
  );
  const r = exposed(src);
  assert.deepEqual(r.hidden, ["__verge_memory_0__"]);
  const names = WebAssembly.Module.exports(new WebAssembly.Module(r.bytes)).map((e) => e.name);
  assert.deepEqual(names, ["__verge_memory_0", "__verge_memory_0_", "__verge_memory_0__"]);
});

test("custom sections, imports of every kind and other sections are copied byte for byte", () => {
  const custom = section(0, [...name("note"), 1, 2, 3]);
  const imports = section(
    2,
    vec([
      [...name("a"), ...name("f"), 0x00, 0x00],
      [...name("a"), ...name("t"), 0x01, 0x70, 0x00, 0x01],
      [...name("a"), ...name("g"), 0x03, 0x7f, 0x00],
      [...name("a"), ...name("r"), 0x03, 0x63, 0x70, 0x00],
    ]),
  );
  const src = bytes(custom, section(1, vec([I32_TO_I32])), imports, section(3, vec([[0x00]])), section(5, vec([[0x00, 0x01]])), section(10, vec([growBody])), custom);
  const r = exposed(src);
  const m = new WebAssembly.Module(r.bytes);
  assert.equal(WebAssembly.Module.customSections(m, "note").length, 2);
  assert.deepEqual(WebAssembly.Module.exports(m), [{ name: "__verge_memory_0", kind: "memory" }]);
  assert.equal(WebAssembly.Module.imports(m).length, 4);
});

test("unreadable layouts are reported, not guessed at", () => {
  assert.equal(exposeMemories(new Uint8Array([1, 2, 3])), UNREADABLE);
  assert.equal(exposeMemories(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 9, 1])), UNREADABLE, "a section past the end");
  assert.equal(exposeMemories(bytes(section(5, vec([[0x10, 0x01]])))), UNREADABLE, "unknown limits flags");
  assert.equal(exposeMemories(bytes(section(5, [0x01, 0x00, 0x01, 0x00]))), UNREADABLE, "a memory section longer than its entries");
  assert.equal(exposeMemories(bytes(section(2, vec([[...name("a"), ...name("b"), 0x09]])))), UNREADABLE, "an unknown import kind");
  assert.equal(exposeMemories(bytes(section(5, [0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))), UNREADABLE, "a LEB too long");
});
