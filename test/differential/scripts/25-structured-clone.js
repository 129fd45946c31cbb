// Exercises: structuredClone: primitives, Date, RegExp, Map, Set, nested objects
// with cycles and shared references, typed arrays sharing a buffer, ArrayBuffer,
// Error objects, sparse arrays, boxed primitives; non-cloneable values (function,
// symbol) -> DataCloneError; transfer detaches the source ArrayBuffer.
export const requests = [{ name: "structuredClone", path: "/" }];

export default {
  async fetch() {
    const shared = { s: 1 };
    const src = {
      n: -0, big: 10n, u: undefined, nul: null, str: "é", bool: new Boolean(false),
      date: new Date(0), re: /ab+c/gi, map: new Map([[1, { a: 1 }], ["k", shared]]), set: new Set([1, "1", shared]),
      arr: [1, , 3], nested: { shared, again: shared },
    };
    src.self = src;
    const buf = new ArrayBuffer(8);
    src.u8 = new Uint8Array(buf, 0, 4);
    src.u16 = new Uint16Array(buf, 4, 2);
    src.u8[0] = 255;
    src.err = new RangeError("range");
    const c = structuredClone(src);
    const errName = (v, opts) => {
      try {
        structuredClone(v, opts);
        return "cloned";
      } catch (e) {
        return e.name;
      }
    };
    const transferable = new ArrayBuffer(16);
    const moved = structuredClone({ b: transferable }, { transfer: [transferable] });
    return Response.json({
      notSame: c !== src,
      cycle: c.self === c,
      negZero: Object.is(c.n, -0),
      big: typeof c.big === "bigint" && c.big === 10n,
      hasUndefined: "u" in c && c.u === undefined,
      boxed: c.bool instanceof Boolean && c.bool.valueOf() === false,
      date: c.date instanceof Date && c.date.getTime() === 0,
      re: [c.re instanceof RegExp, c.re.source, c.re.flags],
      mapSize: c.map.size,
      mapValue: c.map.get(1),
      sharedPreserved: c.nested.shared === c.nested.again && c.map.get("k") === c.nested.shared && c.set.has(c.nested.shared),
      sparse: [c.arr.length, 1 in c.arr],
      bufferShared: c.u8.buffer === c.u16.buffer,
      u8: [...c.u8],
      u16Offset: c.u16.byteOffset,
      err: [c.err instanceof RangeError, c.err.name, c.err.message],
      fn: errName(() => 1),
      sym: errName(Symbol("x")),
      objWithFn: errName({ f() {} }),
      transferredLength: moved.b.byteLength,
      sourceDetached: transferable.byteLength,
    });
  },
};
