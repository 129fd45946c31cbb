/**
 * WebAssembly linear memory counts against a function's memory budget (src/runtime/guest/wasm/):
 * V8's heap limit does not see it. Each hostile function runs in the child-process host beside a
 * healthy one; the hostile call must fail with ERR_MEMORY_LIMIT (not crash the host, not succeed)
 * and the healthy function must answer right after. A legitimate module keeps its exports' shape.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createChildRuntime, type FunctionDecl } from "../../src/runtime/index.ts";
import { resolveLimits, type LimitsOptions } from "../../src/shared/limits.ts";
import { readBody } from "../../src/shared/http.ts";
import { bytes, bytesLiteral, chainGrabModule, exportFunc, exportMemory, internalMemoryModule, I32_TO_I32, leb, multiMemoryGrabModule, section, vec } from "../../src/runtime/testing/wasm-bytes.ts";

const rt = createChildRuntime({ fetch: {} });
after(() => rt.dispose());

let n = 0;
function decl(code: string, limits: LimitsOptions = {}): FunctionDecl {
  return { source: { id: `wasm-${++n}`, code, format: "esm" }, limits: resolveLimits({ cpuMs: 20_000, wallMs: 20_000, memoryMb: 64, ...limits }), bindings: {} };
}

const healthy = rt.register(decl(`export default { fetch: () => new Response("healthy") }`));

async function call(fn: ReturnType<typeof rt.register>): Promise<string> {
  const r = await rt.fetch(fn, { method: "GET", url: "http://t/", headers: [], body: null });
  assert.equal(r.type, "response");
  if (r.type !== "response") return "";
  return Buffer.from(await readBody(r.response.body)).toString();
}

async function expectMemoryLimit(body: string, limits: LimitsOptions = {}): Promise<void> {
  const fn = rt.register(decl(`const WASM = ${bytesLiteral(internalMemoryModule())};\nexport default { async fetch(request, env, ctx) { ${body} } }`, limits));
  let caught: { code: string; message: string } | undefined;
  let answered = "";
  try {
    answered = await call(fn);
  } catch (e) {
    caught = e as { code: string; message: string };
  }
  assert.ok(caught, `expected ERR_MEMORY_LIMIT, but the call answered ${JSON.stringify(answered.slice(0, 200))}`);
  assert.equal(caught.code, "ERR_MEMORY_LIMIT", caught.message);
  assert.match(caught.message, /WebAssembly linear memory/);
  assert.equal(await call(healthy), "healthy");
  rt.unregister(fn);
}

const GROW_AND_TOUCH = `
  const { grow, touch } = new WebAssembly.Instance(new WebAssembly.Module(WASM)).exports;
  for (let step = 0; step < 1024; step++) {
    const old = grow(16);
    if (old < 0) return new Response("grow refused at " + step);
    for (let page = old; page < old + 16; page++) touch(page * 65536);
    STEP_END
  }
  return new Response("grew to 1 GiB");`;

/**
 * One memory grown in steps toward 1 GiB: it gets a maximum of the budget (64 MB, 1024 pages), so
 * `memory.grow` fails at the step past it (1 + 16 * 64 pages); or, should the heap and it together
 * pass the budget first, the call ends with ERR_MEMORY_LIMIT. Never further.
 */
async function expectRefusedOrStopped(body: string): Promise<void> {
  const fn = rt.register(decl(`const WASM = ${bytesLiteral(internalMemoryModule())};\nexport default { async fetch(request, env, ctx) { ${body} } }`));
  try {
    const answered = await call(fn);
    const step = Number(/refused at (\d+)/.exec(answered)?.[1]);
    assert.ok(step <= 64, answered);
  } catch (e) {
    assert.equal((e as { code: string }).code, "ERR_MEMORY_LIMIT", (e as Error).message);
  }
  assert.equal(await call(healthy), "healthy");
  rt.unregister(fn);
}

test("an internal memory grown toward 1 GiB in awaited steps, pages touched: refused at the budget", () =>
  expectRefusedOrStopped(GROW_AND_TOUCH.replace("STEP_END", "await new Promise((r) => setTimeout(r, 0));")));

test("an internal memory grown toward 1 GiB within one synchronous call: refused at the budget", () => expectRefusedOrStopped(GROW_AND_TOUCH.replace("STEP_END", "")));

test("Memory.prototype.grow from JS, one memory: a RangeError at the budget", () =>
  expectRefusedOrStopped(`
    const m = new WebAssembly.Memory({ initial: 1 });
    for (let step = 0; step < 1000; step++) { try { m.grow(16); } catch (e) { return new Response(e.constructor.name + ": grow refused at " + step); } }
    return new Response("grew to " + m.buffer.byteLength);`));

test("many small instances, each with its own memory, summing past the budget", () =>
  expectMemoryLimit(`
    const module = new WebAssembly.Module(WASM);
    const keep = [];
    for (let i = 0; i < 1000; i++) { const x = new WebAssembly.Instance(module).exports; if (x.grow(15) >= 0) x.touch(15 * 65536); keep.push(x); }
    return new Response("kept " + keep.length);`));

test("WebAssembly.instantiate(bytes) in a loop, each instance growing", () =>
  expectMemoryLimit(`
    const keep = [];
    for (let i = 0; i < 1000; i++) { const { instance } = await WebAssembly.instantiate(WASM); instance.exports.grow(31); keep.push(instance); }
    return new Response("kept " + keep.length);`));

test("new WebAssembly.Memory in a loop", () =>
  expectMemoryLimit(`
    const keep = [];
    for (let i = 0; i < 1000; i++) { const m = new WebAssembly.Memory({ initial: 16 }); new Uint8Array(m.buffer).fill(1); keep.push(m); }
    return new Response("kept " + keep.length);`));

test("a memory made at the top level and grown there counts from the first call", async () => {
  const fn = rt.register(
    decl(`const WASM = ${bytesLiteral(internalMemoryModule())};
      const module = new WebAssembly.Module(WASM);
      const x = new WebAssembly.Instance(module).exports, y = new WebAssembly.Instance(module).exports;
      x.grow(1000);
      y.grow(1000);
      export default { fetch: () => new Response("served") }`),
  );
  await assert.rejects(call(fn), (e: { code: string }) => e.code === "ERR_MEMORY_LIMIT");
  assert.equal(await call(healthy), "healthy");
});

test("a legitimate module under the budget works and its exports look as they did", async () => {
  // One exporting its memory (untouched) and one keeping it (rewritten with a hidden export).
  const exported = bytes(
    section(1, vec([I32_TO_I32])),
    section(3, vec([[0x00]])),
    section(5, vec([[0x00, ...leb(1)]])),
    section(7, vec([exportFunc("grow", 0), exportMemory("memory", 0)])),
    section(10, vec([[...leb(6), 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b]])),
  );
  const fn = rt.register(
    decl(`const INTERNAL = ${bytesLiteral(internalMemoryModule())}; const EXPORTED = ${bytesLiteral(exported)};
      export default { async fetch() {
        const m = new WebAssembly.Module(INTERNAL);
        const i = new WebAssembly.Instance(m);
        const { module: m2, instance: i2 } = await WebAssembly.instantiate(EXPORTED);
        const i3 = await WebAssembly.instantiate(await WebAssembly.compile(INTERNAL));
        let compileError = "none";
        try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99])); } catch (e) { compileError = e.constructor.name + (e instanceof WebAssembly.CompileError); }
        let rejected = "none";
        await WebAssembly.instantiate(new Uint8Array([1, 2, 3])).catch((e) => { rejected = e.constructor.name; });
        return Response.json({
          keys: Object.keys(i.exports), names: Object.getOwnPropertyNames(i.exports), frozen: Object.isFrozen(i.exports), proto: Object.getPrototypeOf(i.exports),
          moduleExports: WebAssembly.Module.exports(m), moduleExports2: WebAssembly.Module.exports(m2), moduleImports: WebAssembly.Module.imports(m),
          instanceOf: [i instanceof WebAssembly.Instance, m instanceof WebAssembly.Module, i3 instanceof WebAssembly.Instance, i2.exports.memory instanceof WebAssembly.Memory],
          ctor: m.constructor === WebAssembly.Module && Object.getPrototypeOf(i) === WebAssembly.Instance.prototype,
          keys2: Object.keys(i2.exports), keys3: Object.keys(i3.exports),
          grew: [i.exports.grow(3), i.exports.grow(0), i2.exports.grow(1), i2.exports.memory.buffer.byteLength],
          touched: i.exports.touch(65536 * 3),
          compileError, rejected,
          source: String(WebAssembly.Module),
        });
      } }`),
  );
  const body = JSON.parse(await call(fn));
  assert.deepEqual(body, {
    keys: ["grow", "touch"],
    names: ["grow", "touch"],
    frozen: true,
    proto: null,
    moduleExports: [{ name: "grow", kind: "function" }, { name: "touch", kind: "function" }],
    moduleExports2: [{ name: "grow", kind: "function" }, { name: "memory", kind: "memory" }],
    moduleImports: [],
    instanceOf: [true, true, true, true],
    ctor: true,
    keys2: ["grow", "memory"],
    keys3: ["grow", "touch"],
    grew: [1, 4, 1, 2 * 65536],
    touched: 65536 * 3,
    compileError: "CompileErrortrue",
    rejected: "CompileError",
    source: "function Module() { [native code] }",
  });
});

/**
 * Growth inside wasm, within one call into it: the runtime sees it only when control comes back.
 * Every memory a function can grow is reserved against its budget when it is made (together at most
 * twice the budget, each at most the budget), so what one call reaches is bounded: the call ends
 * with ERR_MEMORY_LIMIT and the linear memory counted then is at most twice the budget (64 MB
 * here), not the process cap of 4096 MB per memory times the memories.
 */
async function expectBoundedGrab(setup: string): Promise<void> {
  const fn = rt.register(decl(`export default { async fetch() { ${setup}; return new Response("grabbed " + grab() + " pages"); } }`));
  let caught: { code: string; message: string } | undefined;
  let answered = "";
  try {
    answered = await call(fn);
  } catch (e) {
    caught = e as { code: string; message: string };
  }
  if (caught === undefined) {
    // Within the budget: the grab stopped where memory.grow failed.
    const pages = Number(/grabbed (\d+)/.exec(answered)?.[1]);
    assert.ok(pages * 65536 <= 64 * 1048576, answered);
  } else {
    assert.equal(caught.code, "ERR_MEMORY_LIMIT", caught.message);
    const wasmMb = Number(/\((\d+) MB of it WebAssembly linear memory\)/.exec(caught.message)?.[1]);
    assert.ok(wasmMb <= 2 * 64, `one call reached ${wasmMb} MB of linear memory: ${caught.message}`);
  }
  assert.equal(await call(healthy), "healthy");
  rt.unregister(fn);
}

test("one call into a module with 8 memories (multi-memory), each grown inside wasm as far as it goes: bounded", () =>
  expectBoundedGrab(`const { grab } = new WebAssembly.Instance(new WebAssembly.Module(${bytesLiteral(multiMemoryGrabModule(8))})).exports`));

test("one call through a chain of 8 instances, each growing its own memory inside wasm: bounded", () =>
  expectBoundedGrab(`
    const module = new WebAssembly.Module(${bytesLiteral(chainGrabModule())});
    let next = () => 0;
    for (let i = 0; i < 8; i++) next = new WebAssembly.Instance(module, { env: { next } }).exports.grab;
    const grab = next`));

test("one call through a chain of 8 instances, each growing a memory made in JS without a maximum: bounded", () =>
  expectBoundedGrab(`
    const module = new WebAssembly.Module(${bytesLiteral(chainGrabModule(true))});
    let next = () => 0;
    for (let i = 0; i < 8; i++) next = new WebAssembly.Instance(module, { env: { next, memory: new WebAssembly.Memory({ initial: 0 }) } }).exports.grab;
    const grab = next`));

test("a module declaring a maximum above the budget instantiates; growth past the budget fails (-1 in wasm, RangeError from JS)", async () => {
  // (memory 1 65536) exported, and grow(pages) -> memory.grow.
  const declared = bytes(
    section(1, vec([I32_TO_I32])),
    section(3, vec([[0x00]])),
    section(5, vec([[0x01, 0x01, ...leb(65536)]])),
    section(7, vec([exportFunc("grow", 0), exportMemory("memory", 0)])),
    section(10, vec([[...leb(6), 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b]])),
  );
  const fn = rt.register(
    decl(`export default { async fetch() {
      const { grow, memory } = new WebAssembly.Instance(new WebAssembly.Module(${bytesLiteral(declared)})).exports;
      const inWasm = [grow(64 * 16), grow(16)];
      let fromJs;
      try { memory.grow(64 * 16); fromJs = "grew"; } catch (e) { fromJs = e.constructor.name; }
      const js = new WebAssembly.Memory({ initial: 1, maximum: 60000 });
      let jsMemory;
      try { js.grow(64 * 16); jsMemory = "grew"; } catch (e) { jsMemory = e.constructor.name; }
      return Response.json({ inWasm, fromJs, jsMemory, small: js.grow(1), bytes: memory.buffer.byteLength });
    } }`),
  );
  assert.deepEqual(JSON.parse(await call(fn)), { inWasm: [-1, 1], fromJs: "RangeError", jsMemory: "RangeError", small: 1, bytes: 17 * 65536 });
  rt.unregister(fn);
});

test("a fresh instance per request keeps getting memory to grow: the reservations of collected instances are given back", async () => {
  const fn = rt.register(
    decl(`const module = new WebAssembly.Module(${bytesLiteral(internalMemoryModule(1))});
      export default { async fetch() { const { grow } = new WebAssembly.Instance(module).exports; return new Response(grow(16) + " " + typeof gc + " " + ("gc" in globalThis)); } }`),
  );
  // From the third on, V8's collector runs first (given to the prelude only: user code has no gc).
  for (let i = 0; i < 6; i++) assert.equal(await call(fn), "1 undefined false", `request ${i}`);
  rt.unregister(fn);
});

test("new WebAssembly.Memory: the descriptor is read once, in V8's order; shared, memory64 and subclasses work; V8's errors stay", async () => {
  const fn = rt.register(
    decl(`export default { async fetch() {
      const reads = [];
      const d = new Proxy({ initial: 1, maximum: 4 }, { get(t, k) { reads.push(String(k)); return t[k]; } });
      const m = new WebAssembly.Memory(d);
      const err = (f) => { try { f(); return "none"; } catch (e) { return e.constructor.name; } };
      const shared = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
      const m64 = new WebAssembly.Memory({ address: "i64", initial: 1n });
      class Sub extends WebAssembly.Memory {}
      const sub = new Sub({ initial: 1 });
      return Response.json({
        reads, grown: [m.grow(3), err(() => m.grow(1))],
        shared: [shared.buffer.constructor.name, shared.grow(1), err(() => shared.grow(1))],
        m64: [typeof m64.grow(1n), err(() => m64.grow(BigInt(64 * 16)))],
        sub: [sub instanceof Sub, sub instanceof WebAssembly.Memory, sub.grow(1)],
        errors: [
          err(() => new WebAssembly.Memory()), err(() => new WebAssembly.Memory({})), err(() => new WebAssembly.Memory({ initial: 2, maximum: 1 })),
          err(() => new WebAssembly.Memory({ initial: 1, shared: true })), err(() => new WebAssembly.Memory({ initial: 1, maximum: 70000 })),
          err(() => new WebAssembly.Memory({ address: "i64", initial: 1 })), err(() => WebAssembly.Memory({ initial: 1 })),
        ],
      });
    } }`),
  );
  assert.deepEqual(JSON.parse(await call(fn)), {
    reads: ["address", "initial", "maximum", "shared"],
    grown: [1, "RangeError"],
    shared: ["SharedArrayBuffer", 1, "RangeError"],
    m64: ["bigint", "RangeError"],
    sub: [true, true, 1],
    errors: ["TypeError", "TypeError", "RangeError", "TypeError", "RangeError", "TypeError", "TypeError"],
  });
  rt.unregister(fn);
});

test("a module with a moved memory and imports of its own: V8's errors for missing imports, and its imports read from the caller's object", async () => {
  const fn = rt.register(
    decl(`const module = new WebAssembly.Module(${bytesLiteral(chainGrabModule())});
      export default { async fetch() {
        const err = (f) => { try { f(); return "none"; } catch (e) { return e.constructor.name; } };
        let getterThis;
        const imports = { get env() { getterThis = this === imports; return { next: () => 5 }; } };
        const x = new WebAssembly.Instance(module, imports).exports;
        const rejected = await WebAssembly.instantiate(module).then(() => "none", (e) => e.constructor.name);
        return Response.json({ missing: [err(() => new WebAssembly.Instance(module)), err(() => new WebAssembly.Instance(module, {})), rejected], getterThis: typeof getterThis, imports: WebAssembly.Module.imports(module) });
      } }`),
  );
  assert.deepEqual(JSON.parse(await call(fn)), {
    missing: ["TypeError", "TypeError", "TypeError"],
    getterThis: "boolean",
    imports: [{ module: "env", name: "next", kind: "function" }],
  });
  rt.unregister(fn);
});

test("a fresh instance per WebSocket message keeps getting memory to grow: the collector runs again in later message entries", async () => {
  const fn = rt.register(
    decl(`const module = new WebAssembly.Module(${bytesLiteral(internalMemoryModule(1))});
      export default { async fetch() {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        server.addEventListener("message", () => { const { grow } = new WebAssembly.Instance(module).exports; server.send(String(grow(16))); });
        return new Response(null, { status: 101, webSocket: client });
      } }`),
  );
  const r = await rt.fetch(fn, { method: "GET", url: "http://t/", headers: [["upgrade", "websocket"]], body: null });
  assert.ok(r.type === "response" && r.response.webSocket !== undefined, "a 101 with a WebSocket");
  const end = r.response.webSocket;
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  let closed: string | undefined;
  end.attach({
    message: (data) => {
      replies.push(String(data));
      wake?.();
    },
    close: (code, reason) => {
      closed = `closed ${code} ${reason}`;
      wake?.();
    },
  });
  // One message at a time, each its own guest entry with nothing else in between.
  for (let i = 0; i < 8 && closed === undefined; i++) {
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    end.send("grow");
    await arrived;
  }
  if (closed !== undefined) assert.fail(`${closed}: ${(await r.finished).error?.message}`);
  assert.deepEqual(replies, Array(8).fill("1"));
  end.close(1000, "done");
  await r.finished;
  rt.unregister(fn);
});
