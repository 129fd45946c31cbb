// Exercises: crypto.randomUUID() (format only: version 4, variant 10xx, lowercase),
// crypto.getRandomValues() (same array returned, filled, typed-array kinds), the
// 65536-byte quota (QuotaExceededError) and a Float32Array (TypeMismatchError).
export const requests = [{ name: "random", path: "/" }];

export default {
  async fetch() {
    const uuids = Array.from({ length: 20 }, () => crypto.randomUUID());
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const arr = new Uint8Array(64);
    const same = crypto.getRandomValues(arr) === arr;
    const u32 = crypto.getRandomValues(new Uint32Array(8));
    const errorName = (fn) => {
      try {
        fn();
        return "no error";
      } catch (e) {
        return e.name;
      }
    };
    return Response.json({
      allMatch: uuids.every((u) => re.test(u)),
      distinct: new Set(uuids).size,
      length: uuids[0].length,
      same,
      filled: arr.some((b) => b !== 0),
      u32Kind: Object.prototype.toString.call(u32),
      max: errorName(() => crypto.getRandomValues(new Uint8Array(65536))),
      overQuota: errorName(() => crypto.getRandomValues(new Uint8Array(65537))),
      float: errorName(() => crypto.getRandomValues(new Float32Array(4))),
    });
  },
};
