/** structuredClone inside the isolate (HTML §2.7). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("structuredClone copies the serializable types and keeps cycles and shared references", async () => {
  const r = await evalGuest(`
    const shared = { n: 1 };
    const buf = new ArrayBuffer(8);
    new Uint8Array(buf).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const src = {
      date: new Date(1700000000000), re: /a+b/gimsuy, map: new Map([[{ k: 1 }, shared]]), set: new Set([1, "a", shared]),
      big: 10n ** 20n, wrappers: [Object(true), Object(5), Object("s"), Object(7n)], nums: [NaN, -0, Infinity],
      u16: new Uint16Array(buf, 2, 2), f64: new Float64Array([1.5]), dv: new DataView(buf, 4), u8: new Uint8Array(buf),
      arr: [1, , 3], undef: undefined, nil: null, shared, shared2: shared,
    };
    src.arr.extra = "kept";
    src.self = src;
    const c = structuredClone(src);
    return {
      fresh: c !== src && c.map !== src.map && c.u8.buffer !== buf,
      date: [c.date instanceof Date, c.date.getTime()],
      re: [c.re instanceof RegExp, c.re.source, c.re.flags, c.re.lastIndex],
      map: [c.map.size, [...c.map.keys()][0].k, [...c.map.values()][0] === c.shared],
      set: [c.set.size, c.set.has(c.shared), c.set.has("a")],
      big: String(c.big),
      wrappers: c.wrappers.map((w) => [typeof w, w.valueOf() === w.valueOf() ? String(w.valueOf()) : "?"]),
      nums: [Number.isNaN(c.nums[0]), Object.is(c.nums[1], -0), c.nums[2]],
      views: [Array.from(c.u16), c.u16.byteOffset, c.u16.buffer === c.u8.buffer, c.dv.buffer === c.u8.buffer, c.dv.getUint8(0), c.f64[0]],
      arr: [c.arr.length, 1 in c.arr, c.arr.extra],
      undef: ["undef" in c, c.undef === undefined, c.nil],
      cycle: c.self === c, sharedOnce: c.shared === c.shared2,
    };
  `);
  assert.deepEqual(r, {
    fresh: true,
    date: [true, 1700000000000],
    re: [true, "a+b", "dgimsuy".replace("d", ""), 0],
    map: [1, 1, true],
    set: [3, true, true],
    big: "100000000000000000000",
    wrappers: [["object", "true"], ["object", "5"], ["object", "s"], ["object", "7"]],
    nums: [true, true, null],
    views: [[0x0403, 0x0605], 2, true, true, 5, 1.5],
    arr: [3, false, "kept"],
    undef: [true, true, null],
    cycle: true,
    sharedOnce: true,
  });
});

test("structuredClone copies errors like V8 and DOMException by name", async () => {
  const r = await evalGuest(`
    const e = new RangeError("boom", { cause: { why: 1 } });
    e.extra = "dropped";
    const c = structuredClone(e);
    class MyError extends TypeError { constructor(m) { super(m); this.name = "MyError"; } }
    const custom = structuredClone(new MyError("mine"));
    const renamed = structuredClone(Object.assign(new Error("x"), { name: "SyntaxError" }));
    const d = structuredClone(new DOMException("gone", "NotFoundError"));
    return {
      range: [c instanceof RangeError, c.name, c.message, c.cause, c.extra, c.stack === e.stack],
      custom: [custom.constructor === Error, custom.name, custom.message],
      renamed: renamed instanceof SyntaxError,
      dom: [d instanceof DOMException, d.name, d.message, d.code],
      noMessage: Object.getOwnPropertyNames(structuredClone(new Error())).includes("message"),
    };
  `);
  assert.deepEqual(r, {
    range: [true, "RangeError", "boom", { why: 1 }, null, true],
    custom: [true, "Error", "mine"],
    renamed: true,
    dom: [true, "NotFoundError", "gone", 8],
    noMessage: false,
  });
});

test("structuredClone throws DataCloneError for what cannot be cloned", async () => {
  const r = await evalGuest(`
    const err = (v) => { try { structuredClone(v); return "cloned"; } catch (e) { return [e.name, e.code, e instanceof DOMException]; } };
    return {
      fn: err(() => 1), sym: err(Symbol("s")), nestedFn: err({ a: [1, { f() {} }] }),
      weakMap: err(new WeakMap()), weakSet: err(new WeakSet()), weakRef: err(new WeakRef({})), promise: err(Promise.resolve(1)),
      url: err(new URL("http://x")), target: err(new EventTarget()), signal: err(new AbortController().signal),
      encoder: err(new TextEncoder()),
      missing: (() => { try { structuredClone(); } catch (e) { return e.name; } })(),
      symbolKeyIgnored: Object.getOwnPropertySymbols(structuredClone({ [Symbol("x")]: 1 })).length,
      classInstance: (() => { class P { constructor() { this.x = 1; } get y() { return 2; } } const c = structuredClone(new P()); return [c.constructor === Object, c.x, c.y]; })(),
    };
  `);
  const dce = ["DataCloneError", 25, true];
  assert.deepEqual(r, {
    fn: dce, sym: dce, nestedFn: dce, weakMap: dce, weakSet: dce, weakRef: dce, promise: dce, url: dce, target: dce, signal: dce, encoder: dce,
    missing: "TypeError",
    symbolKeyIgnored: 0,
    classInstance: [true, 1, null],
  });
});

test("structuredClone transfers ArrayBuffers: the original is detached only on success", async () => {
  const r = await evalGuest(`
    const buf = new ArrayBuffer(4);
    new Uint8Array(buf).set([9, 8, 7, 6]);
    const c = structuredClone({ buf, tail: new Uint8Array(buf, 2) }, { transfer: [buf] });
    const keep = new ArrayBuffer(2);
    let failed; try { structuredClone({ keep, f() {} }, { transfer: [keep] }); } catch (e) { failed = e.name; }
    const err = (f) => { try { f(); return "ok"; } catch (e) { return e.name; } };
    const resizable = new ArrayBuffer(2, { maxByteLength: 16 });
    const rc = structuredClone(resizable);
    return {
      moved: [buf.byteLength, buf.detached, c.buf.byteLength, Array.from(c.tail), c.tail.buffer === c.buf],
      failed, keptAfterFailure: keep.byteLength,
      dup: err(() => structuredClone(1, { transfer: [keep, keep] })),
      notTransferable: err(() => structuredClone(1, { transfer: [{}] })),
      detached: err(() => structuredClone(buf)),
      resizable: [rc.resizable, rc.maxByteLength, rc.byteLength],
    };
  `);
  assert.deepEqual(r, {
    moved: [0, true, 4, [7, 6], true],
    failed: "DataCloneError",
    keptAfterFailure: 2,
    dup: "DataCloneError",
    notTransferable: "DataCloneError",
    detached: "DataCloneError",
    resizable: [true, 16, 2],
  });
});

test("structuredClone handles deep graphs without overflowing the stack", async () => {
  const r = await evalGuest(`
    let list = null;
    for (let i = 0; i < 100000; i++) list = { i, next: list };
    let c = structuredClone(list), n = 0;
    while (c) { n++; c = c.next; }
    return n;
  `);
  assert.equal(r, 100000);
});
