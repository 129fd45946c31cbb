/** TextEncoder, TextDecoder, atob and btoa inside the isolate, checked against Node's implementations. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

const STRINGS = ["", "ascii", "héllo wörld", "€ ✓ 日本語", "😀 𝄞 emoji", "lone \ud800 high", "lone \udc00 low", "\ud83d", "a\u0000b", "x".repeat(20000) + "€"];

test("TextEncoder.encode matches Node's, lone surrogates become U+FFFD", async () => {
  const r = (await evalGuest(`
    const e = new TextEncoder();
    return { encoding: e.encoding, out: ${JSON.stringify(STRINGS)}.map((s) => Array.from(e.encode(s))), none: e.encode().length, num: Array.from(e.encode(12)) };
  `)) as { encoding: string; out: number[][]; none: number; num: number[] };
  const e = new TextEncoder();
  assert.equal(r.encoding, "utf-8");
  assert.deepEqual(r.out, STRINGS.map((s) => Array.from(e.encode(s))));
  assert.equal(r.none, 0);
  assert.deepEqual(r.num, [0x31, 0x32]);
});

test("TextEncoder.encodeInto never splits a character and reports read/written", async () => {
  const cases: Array<[string, number]> = [["a€b", 3], ["a€b", 4], ["a€b", 5], ["😀x", 3], ["😀x", 4], ["😀x", 5], ["\ud800z", 3], ["", 2], ["abc", 0]];
  const r = await evalGuest(`
    const e = new TextEncoder();
    const out = ${JSON.stringify(cases)}.map(([s, n]) => { const d = new Uint8Array(n); const res = e.encodeInto(s, d); return [res, Array.from(d)]; });
    const view = new Uint8Array(8); e.encodeInto("hé", view.subarray(3));
    let err; try { e.encodeInto("x", new Uint16Array(2)); } catch (x) { err = x.name; }
    return { out, view: Array.from(view), err };
  `);
  const e = new TextEncoder();
  const view = new Uint8Array(8);
  e.encodeInto("hé", view.subarray(3));
  assert.deepEqual(r, {
    out: cases.map(([s, n]) => {
      const d = new Uint8Array(n);
      const res = e.encodeInto(s, d);
      return [{ read: res.read, written: res.written }, Array.from(d)];
    }),
    view: Array.from(view),
    err: "TypeError",
  });
});

/** Byte sequences at the edges of UTF-8: overlongs, surrogates, truncation, out-of-range lead bytes. */
const UTF8_BYTES = [
  [0x68, 0xc3, 0xa9], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf],
  [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80], [0xff, 0xfe], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0x80, 0x61],
  [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0x28], [0xef, 0xbb, 0xbf, 0x41], [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], [0xf0, 0x9f, 0x98, 0x80, 0xe2],
];

test("TextDecoder utf-8 replaces invalid sequences exactly like Node, and throws when fatal", async () => {
  const r = (await evalGuest(`
    const d = new TextDecoder(), f = new TextDecoder("utf-8", { fatal: true }), b = new TextDecoder("utf-8", { ignoreBOM: true });
    return ${JSON.stringify(UTF8_BYTES)}.map((x) => {
      const u = new Uint8Array(x);
      let fatal; try { fatal = f.decode(u); } catch (e) { fatal = e.name; }
      return [d.decode(u), fatal, b.decode(u)];
    });
  `)) as string[][];
  const d = new TextDecoder();
  const f = new TextDecoder("utf-8", { fatal: true });
  const b = new TextDecoder("utf-8", { ignoreBOM: true });
  UTF8_BYTES.forEach((x, k) => {
    const u = new Uint8Array(x);
    let fatal: string;
    try {
      fatal = f.decode(u);
    } catch (e) {
      fatal = (e as Error).name;
    }
    assert.deepEqual(r[k], [d.decode(u), fatal, b.decode(u)], `bytes ${JSON.stringify(x)}`);
  });
});

test("TextDecoder streaming keeps partial sequences and the BOM state between calls", async () => {
  // "€😀é" split at every byte boundary, with a leading BOM.
  const bytes = [0xef, 0xbb, 0xbf, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xc3, 0xa9];
  const r = await evalGuest(`
    const bytes = ${JSON.stringify(bytes)};
    const d = new TextDecoder();
    let s = "";
    for (const b of bytes) s += d.decode(new Uint8Array([b]), { stream: true });
    s += d.decode();
    const again = d.decode(new Uint8Array(bytes));
    const cut = new TextDecoder();
    const partial = cut.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + "|" + cut.decode();
    const f = new TextDecoder("utf-8", { fatal: true });
    f.decode(new Uint8Array([0xe2]), { stream: true });
    let err; try { f.decode(); } catch (e) { err = e.name; }
    const reset = f.decode(new Uint8Array([0x61]));
    // UTF-16LE "\ufeff a 😀": BOM, then a surrogate pair split byte by byte.
    const u16 = new TextDecoder("utf-16le");
    let w = "";
    for (const b of [0xff, 0xfe, 0x61, 0x00, 0x3d, 0xd8, 0x00, 0xde]) w += u16.decode(new Uint8Array([b]), { stream: true });
    const lone = u16.decode(new Uint8Array([0x3d, 0xd8]), { stream: true }) + "|" + u16.decode();
    return { s, again, partial, err, reset, w: w + u16.decode(), lone };
  `);
  assert.deepEqual(r, { s: "€😀é", again: "€😀é", partial: "|\ufffd", err: "TypeError", reset: "a", w: "a😀", lone: "|\ufffd" });
});

test("TextDecoder labels, utf-16 and windows-1252 match Node; unknown labels are RangeErrors", async () => {
  const labels = ["utf8", " UTF-8\n", "unicode-1-1-utf-8", "utf-16", "UTF-16LE", "utf-16be", "latin1", "ascii", "iso-8859-1", "windows-1252", "us-ascii", "cp1252"];
  const bad = ["utf-32", "foo", "", "replacement", "utf-7"];
  const samples = [[0x61, 0x00, 0x3d, 0xd8, 0x00, 0xde], [0xff, 0xfe, 0x41, 0x00], [0xfe, 0xff, 0x00, 0x41], [0x00, 0xd8, 0x61, 0x00], [0x61], [0x80, 0x9f, 0xa0, 0xff, 0x41, 0x81]];
  const r = (await evalGuest(`
    const labels = ${JSON.stringify(labels)}, bad = ${JSON.stringify(bad)}, samples = ${JSON.stringify(samples)};
    return {
      names: labels.map((l) => new TextDecoder(l).encoding),
      decoded: labels.map((l) => samples.map((s) => new TextDecoder(l).decode(new Uint8Array(s)))),
      bad: bad.map((l) => { try { new TextDecoder(l); return "ok"; } catch (e) { return e.name; } }),
      view: new TextDecoder().decode(new DataView(new Uint8Array([0, 0x68, 0x69, 0]).buffer, 1, 2)),
      buffer: new TextDecoder().decode(new Uint8Array([0x6f, 0x6b]).buffer),
      notBuffer: (() => { try { new TextDecoder().decode("x"); } catch (e) { return e.name; } })(),
      flags: (() => { const d = new TextDecoder("utf-16le", { fatal: 1, ignoreBOM: "yes" }); return [d.fatal, d.ignoreBOM]; })(),
    };
  `)) as Record<string, unknown>;
  assert.deepEqual(r.names, labels.map((l) => new TextDecoder(l).encoding));
  assert.deepEqual(r.decoded, labels.map((l) => samples.map((s) => new TextDecoder(l).decode(new Uint8Array(s)))));
  assert.deepEqual(r.bad, bad.map(() => "RangeError"));
  assert.equal(r.view, "hi");
  assert.equal(r.buffer, "ok");
  assert.equal(r.notBuffer, "TypeError");
  assert.deepEqual(r.flags, [true, true]);
});

test("TextDecoder decodes large inputs", async () => {
  const r = await evalGuest(`
    const s = "héllo 😀 ".repeat(50000);
    const bytes = new TextEncoder().encode(s);
    return [bytes.length, new TextDecoder().decode(bytes) === s];
  `);
  assert.deepEqual(r, [Buffer.byteLength("héllo 😀 ".repeat(50000)), true]);
});

test("btoa and atob follow forgiving-base64 and throw InvalidCharacterError", async () => {
  const good = ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u0000\u00ff\u0080", "verge ✓".replace("✓", "\u00e9")];
  const decode = ["Zm9v", "Zm9vYg", "Zm9vYg==", " Z m 9 v\n\tYmE= ", "YQ", "YR==", "////", "ab\fcd"];
  const invalid = ["a", "Zm9vYg=", "Zm9vY===", "Zm9v!", "Zm=9v", "=Zm9v", "Zm9vYg===", "é", "Zm9vYmFy="];
  const r = (await evalGuest(`
    const run = (f) => { try { return f(); } catch (e) { return [e.name, e.code, e instanceof DOMException]; } };
    return {
      enc: ${JSON.stringify(good)}.map((s) => btoa(s)),
      dec: ${JSON.stringify(decode)}.map((s) => atob(s)),
      invalid: ${JSON.stringify(invalid)}.map((s) => run(() => atob(s))),
      wide: run(() => btoa("€")),
      coerced: [btoa(null), atob(undefined === 1 ? "" : "bnVsbA==")],
      missing: run(() => atob()),
    };
  `)) as Record<string, unknown>;
  assert.deepEqual(r.enc, good.map((s) => btoa(s)));
  assert.deepEqual(r.dec, decode.map((s) => atob(s)));
  assert.deepEqual(r.invalid, invalid.map(() => ["InvalidCharacterError", 5, true]));
  assert.deepEqual(r.wide, ["InvalidCharacterError", 5, true]);
  assert.deepEqual(r.coerced, ["bnVsbA==", "null"]);
  assert.deepEqual((r.missing as unknown[])[0], "TypeError");
});

test("TextDecoder and TextEncoder agree with Node on random text cut at random places (ASCII runs long and short, multi-byte, invalid bytes)", async () => {
  // Seeded, so a failure repeats. Pieces: long ASCII runs (the decoder's fast path), short ones,
  // 2/3/4-byte characters, and bytes no UTF-8 allows, joined in random order and sizes.
  let seed = 0x9e3779b9;
  const rand = (n: number) => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
  const pieces = ["a".repeat(40), "<p>hello, world</p>\n".repeat(3), "x", "é", "日本", "😀", "\u0000", "z".repeat(33)];
  const invalid = [[0xff], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0x80]];
  const cases: Array<{ bytes: number[]; cuts: number[]; text: string }> = [];
  for (let c = 0; c < 60; c++) {
    const bytes: number[] = [];
    let text = "";
    const parts = 1 + rand(400);
    for (let p = 0; p < parts; p++) {
      if (rand(8) === 0) bytes.push(...invalid[rand(invalid.length)]!);
      else {
        const s = pieces[rand(pieces.length)]!;
        text += s;
        bytes.push(...new TextEncoder().encode(s));
      }
    }
    const cuts = [...new Set(Array.from({ length: rand(6) }, () => rand(bytes.length + 1)))].sort((a, b) => a - b);
    cases.push({ bytes, cuts, text: text + "\ud800".repeat(rand(2)) });
  }
  const r = (await evalGuest(`
    return ${JSON.stringify(cases)}.map(({ bytes, cuts, text }) => {
      const u = new Uint8Array(bytes);
      const whole = new TextDecoder().decode(u);
      const d = new TextDecoder();
      let streamed = "", from = 0;
      for (const to of cuts) { streamed += d.decode(u.subarray(from, to), { stream: true }); from = to; }
      streamed += d.decode(u.subarray(from));
      let fatal; try { fatal = new TextDecoder("utf-8", { fatal: true }).decode(u); } catch (e) { fatal = e.name; }
      return [whole, streamed, fatal, Array.from(new TextEncoder().encode(text))];
    });
  `)) as Array<[string, string, string, number[]]>;
  cases.forEach(({ bytes, cuts, text }, k) => {
    const u = new Uint8Array(bytes);
    const d = new TextDecoder();
    let streamed = "";
    let from = 0;
    for (const to of cuts) {
      streamed += d.decode(u.subarray(from, to), { stream: true });
      from = to;
    }
    streamed += d.decode(u.subarray(from));
    let fatal: string;
    try {
      fatal = new TextDecoder("utf-8", { fatal: true }).decode(u);
    } catch (e) {
      fatal = (e as Error).name;
    }
    assert.deepEqual(r[k], [new TextDecoder().decode(u), streamed, fatal, Array.from(new TextEncoder().encode(text))], `case ${k}: cuts ${JSON.stringify(cuts)}`);
  });
});
