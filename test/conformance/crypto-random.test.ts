/** crypto.getRandomValues and crypto.randomUUID inside the isolate (WebCrypto §10.1). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("getRandomValues fills every integer typed array in place and returns it", async () => {
  const r = (await evalGuest(`
    const kinds = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"];
    const out = {};
    for (const k of kinds) {
      const a = new globalThis[k](64);
      const same = crypto.getRandomValues(a) === a;
      out[k] = [same, Array.from(a).some((x) => x != 0)];
    }
    const buf = new Uint8Array(32);
    crypto.getRandomValues(new Uint8Array(buf.buffer, 8, 8));
    const outside = [...buf.subarray(0, 8), ...buf.subarray(16)].every((x) => x === 0);
    const max = crypto.getRandomValues(new Uint8Array(65536)).length;
    const empty = crypto.getRandomValues(new Uint8Array(0)).length;
    const a = crypto.getRandomValues(new Uint8Array(32)), b = crypto.getRandomValues(new Uint8Array(32));
    // A byte histogram over 64 KiB: every value should show up.
    const hist = new Set(crypto.getRandomValues(new Uint8Array(65536)));
    return { out, outside, max, empty, differ: a.some((x, i) => x !== b[i]), distinct: hist.size };
  `)) as { out: Record<string, [boolean, boolean]>; outside: boolean; max: number; empty: number; differ: boolean; distinct: number };
  for (const [k, v] of Object.entries(r.out)) assert.deepEqual(v, [true, true], k);
  assert.equal(r.outside, true, "only the view's bytes are written");
  assert.equal(r.max, 65536);
  assert.equal(r.empty, 0);
  assert.equal(r.differ, true);
  assert.equal(r.distinct, 256);
});

test("getRandomValues rejects float arrays and DataView with TypeMismatchError, over 65536 bytes with QuotaExceededError", async () => {
  const r = await evalGuest(`
    const err = (f) => { try { f(); return "ok"; } catch (e) { return [e.name, e.code, e instanceof DOMException]; } };
    return {
      f32: err(() => crypto.getRandomValues(new Float32Array(4))),
      f64: err(() => crypto.getRandomValues(new Float64Array(4))),
      dv: err(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4)))),
      quota: err(() => crypto.getRandomValues(new Uint8Array(65537))),
      quota32: err(() => crypto.getRandomValues(new Uint32Array(16385))),
      notView: (() => { try { crypto.getRandomValues([1, 2]); } catch (e) { return e.name; } })(),
      buffer: (() => { try { crypto.getRandomValues(new ArrayBuffer(4)); } catch (e) { return e.name; } })(),
      none: (() => { try { crypto.getRandomValues(); } catch (e) { return e.name; } })(),
    };
  `);
  assert.deepEqual(r, {
    f32: ["TypeMismatchError", 17, true],
    f64: ["TypeMismatchError", 17, true],
    dv: ["TypeMismatchError", 17, true],
    quota: ["QuotaExceededError", 22, true],
    quota32: ["QuotaExceededError", 22, true],
    notView: "TypeError",
    buffer: "TypeError",
    none: "TypeError",
  });
});

test("randomUUID returns distinct RFC 4122 version 4 UUIDs", async () => {
  const r = (await evalGuest(`return Array.from({ length: 200 }, () => crypto.randomUUID());`)) as string[];
  for (const u of r) assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(r).size, 200);
});
