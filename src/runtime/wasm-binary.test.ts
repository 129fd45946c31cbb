/**
 * The guest's WebAssembly rewriter (guest/wasm/binary.ts), run in Node: which modules it changes,
 * the bytes it writes, and that V8 accepts them with each defined memory imported instead.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { importMemories, UNREADABLE } from "./guest/wasm/binary.ts";
import { bytes, exportFunc, exportMemory, internalMemoryModule, I32_TO_I32, leb, name, section, vec } from "./testing/wasm-bytes.ts";

/** The WebAssembly JS API as these tests use it (the root tsconfig has no DOM library). */
interface Api {
  Module: { new (b: Uint8Array): object; exports(m: object): Array<{ name: string; kind: string }>; imports(m: object): Array<{ module: string; name: string; kind: string }>; customSections(m: object, n: string): unknown[] };
  Instance: new (m: object, imports?: object) => { exports: Record<string, unknown> };
  Memory: new (d: object) => { buffer: ArrayBuffer };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;

const growBody = [...leb(6), 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b];

function moved(b: Uint8Array): { bytes: Uint8Array; module: string; memories: Array<{ field: string; initial: number; maximum: number; shared: boolean; i64: boolean }> } {
  const r = importMemories(b);
  assert.ok(r !== null && r !== UNREADABLE, "expected the module to be rewritten");
  return { bytes: r.bytes, module: r.module, memories: Array.from(r.memories) };
}

test("an internal memory becomes an import of the hidden module; the instance runs on the memory given", () => {
  const r = moved(internalMemoryModule(3));
  assert.equal(r.module, "__verge_memory");
  assert.deepEqual(r.memories, [{ field: "0", initial: 3, maximum: -1, shared: false, i64: false }]);
  const m = new WebAssembly.Module(r.bytes);
  assert.deepEqual(WebAssembly.Module.imports(m), [{ module: "__verge_memory", name: "0", kind: "memory" }]);
  assert.deepEqual(WebAssembly.Module.exports(m), [
    { name: "grow", kind: "function" },
    { name: "touch", kind: "function" },
  ]);
  const memory = new WebAssembly.Memory({ initial: 3, maximum: 4 });
  const x = new WebAssembly.Instance(m, { __verge_memory: { "0": memory } }).exports as { grow: (n: number) => number };
  assert.equal(x.grow(1), 3);
  assert.equal(x.grow(1), -1, "the maximum of the memory given holds inside wasm");
  assert.equal(memory.buffer.byteLength, 4 * 65536);
});

test("the import section is inserted after the type section, sized exactly; the memory section is gone", () => {
  const src = internalMemoryModule();
  const r = moved(src);
  const entry = [...name("__verge_memory"), ...name("0"), 0x02, 0x00, 0x01];
  const memorySection = section(5, vec([[0x00, 0x01]]));
  assert.equal(r.bytes.length, src.length - memorySection.length + 2 + 1 + entry.length);
  let p = 8;
  const ids: number[] = [];
  while (p < r.bytes.length) {
    ids.push(r.bytes[p]!);
    if (r.bytes[p] === 2) assert.deepEqual([...r.bytes.subarray(p + 2, p + 2 + r.bytes[p + 1]!)], [1, ...entry]);
    p += 2 + r.bytes[p + 1]!; // every section here is under 128 bytes
  }
  assert.deepEqual(ids, [1, 2, 3, 7, 10]);
});

test("declared limits are kept as they are: maximum, shared, memory64", () => {
  const src = bytes(section(5, vec([[0x01, 0x02, 0x05], [0x03, 0x01, 0x02], [0x04, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]])));
  const r = moved(src);
  assert.deepEqual(r.memories, [
    { field: "0", initial: 2, maximum: 5, shared: false, i64: false },
    { field: "1", initial: 1, maximum: 2, shared: true, i64: false },
    { field: "2", initial: 1, maximum: -1, shared: false, i64: true },
  ]);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(r.bytes));
  assert.deepEqual(imports.map((i) => i.name), ["0", "1", "2"]);
});

test("modules that define no memory (none, or only imported) are left as they are", () => {
  const imported = bytes(section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]])));
  const none = bytes(section(1, vec([I32_TO_I32])), section(3, vec([[0x00]])), section(7, vec([exportFunc("f", 0)])), section(10, vec([[...leb(4), 0x00, 0x20, 0x00, 0x0b]])));
  for (const b of [imported, none]) {
    new WebAssembly.Module(b);
    assert.equal(importMemories(b), null);
  }
});

test("with an imported memory, a defined one (multi-memory) keeps its index: its import comes after the user's", () => {
  const src = bytes(section(2, vec([[...name("env"), ...name("m"), 0x02, 0x00, 0x01]])), section(5, vec([[0x00, 0x01]])), section(7, vec([exportMemory("second", 1)])));
  const r = moved(src);
  assert.deepEqual(r.memories.map((m) => m.field), ["1"]);
  const m = new WebAssembly.Module(r.bytes);
  assert.deepEqual(WebAssembly.Module.imports(m), [
    { module: "env", name: "m", kind: "memory" },
    { module: "__verge_memory", name: "1", kind: "memory" },
  ]);
  const mine = new WebAssembly.Memory({ initial: 1 });
  const x = new WebAssembly.Instance(m, { env: { m: new WebAssembly.Memory({ initial: 1 }) }, __verge_memory: { "1": mine } }).exports;
  assert.equal(x.second, mine, "memory index 1 is the one given for the moved memory");
});

test("the hidden module name never equals an import's module name", () => {
  const src = bytes(
    section(1, vec([I32_TO_I32])),
    section(2, vec([[...name("__verge_memory"), ...name("f"), 0x00, 0x00], [...name("__verge_memory_"), ...name("g"), 0x00, 0x00]])),
    section(5, vec([[0x00, 0x01]])),
  );
  const r = moved(src);
  assert.equal(r.module, "__verge_memory__");
  assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(r.bytes)).map((i) => i.module), ["__verge_memory", "__verge_memory_", "__verge_memory__"]);
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
  const r = moved(src);
  const m = new WebAssembly.Module(r.bytes);
  assert.equal(WebAssembly.Module.customSections(m, "note").length, 2);
  assert.deepEqual(WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}`), ["a.f", "a.t", "a.g", "a.r", "__verge_memory.0"]);
});

test("unreadable layouts are reported, not guessed at", () => {
  assert.equal(importMemories(new Uint8Array([1, 2, 3])), UNREADABLE);
  assert.equal(importMemories(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 9, 1])), UNREADABLE, "a section past the end");
  assert.equal(importMemories(bytes(section(5, vec([[0x10, 0x01]])))), UNREADABLE, "unknown limits flags");
  assert.equal(importMemories(bytes(section(5, [0x01, 0x00, 0x01, 0x00]))), UNREADABLE, "a memory section longer than its entries");
  assert.equal(importMemories(bytes(section(2, vec([[...name("a"), ...name("b"), 0x09]])))), UNREADABLE, "an unknown import kind");
  assert.equal(importMemories(bytes(section(5, [0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))), UNREADABLE, "a LEB too long");
  assert.equal(importMemories(bytes(section(5, vec([[0x00, 0x01]])), section(2, vec([])))), UNREADABLE, "an import section after the memory section");
  assert.equal(importMemories(bytes(section(5, vec([[0x00, 0x01]])), section(5, vec([[0x00, 0x01]])))), UNREADABLE, "two memory sections");
});
