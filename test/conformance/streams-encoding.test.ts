/** TextEncoderStream, TextDecoderStream, CompressionStream and DecompressionStream inside the isolate. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { evalGuest } from "../helpers/guest.ts";

test("TextEncoderStream encodes, joining surrogate pairs split across chunks", async () => {
  const r = await evalGuest(`
    const t = new TextEncoderStream();
    const w = t.writable.getWriter();
    w.write("a\\ud83d"); w.write("\\ude00b"); w.write("\\ud800"); w.close();
    const out = [];
    for await (const c of t.readable) out.push(...c);
    return { out, encoding: t.encoding };
  `);
  assert.deepEqual(r, { out: [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62, 0xef, 0xbf, 0xbd], encoding: "utf-8" });
});

test("TextDecoderStream decodes multi-byte characters split across chunks", async () => {
  const r = await evalGuest(`
    const t = new TextDecoderStream();
    const w = t.writable.getWriter();
    w.write(new Uint8Array([0x68, 0xc3])); w.write(new Uint8Array([0xa9, 0xe2, 0x82])); w.write(new Uint8Array([0xac])); w.close();
    let s = "";
    for await (const c of t.readable) s += c;
    const bad = new TextDecoderStream();
    void bad.readable.getReader().read().catch(() => {});
    let err;
    try { await bad.writable.getWriter().write("x"); } catch (e) { err = e.constructor.name; }
    return { s, encoding: t.encoding, fatal: t.fatal, ignoreBOM: t.ignoreBOM, err };
  `);
  assert.deepEqual(r, { s: "hé€", encoding: "utf-8", fatal: false, ignoreBOM: false, err: "TypeError" });
});

test("response.body.pipeThrough(new TextDecoderStream())", async () => {
  const r = await evalGuest(`
    let s = "";
    for await (const c of new Response("piped ✓").body.pipeThrough(new TextDecoderStream())) s += c;
    return s;
  `);
  assert.equal(r, "piped ✓");
});

const text = "hello hello hello compression ".repeat(50);

for (const [format, nodeInflate] of [
  ["gzip", (b: Buffer) => gunzipSync(b)],
  ["deflate", (b: Buffer) => inflateSync(b)],
  ["deflate-raw", (b: Buffer) => inflateRawSync(b)],
] as const) {
  test(`CompressionStream("${format}") output inflates in Node`, async () => {
    const b64 = (await evalGuest(`
      const cs = new CompressionStream("${format}");
      const bytes = await new Response(new Response(${JSON.stringify(text)}).body.pipeThrough(cs)).bytes();
      return btoa(String.fromCharCode(...bytes));
    `)) as string;
    const compressed = Buffer.from(b64, "base64");
    assert.ok(compressed.length < text.length);
    assert.equal(nodeInflate(compressed).toString("utf8"), text);
  });
}

for (const [format, compress] of [
  ["gzip", gzipSync],
  ["deflate", deflateSync],
  ["deflate-raw", deflateRawSync],
] as const) {
  test(`DecompressionStream("${format}") inflates Node's output, fed in small chunks`, async () => {
    const bytes = [...compress(Buffer.from(text))];
    const r = await evalGuest(`
      const bytes = new Uint8Array(${JSON.stringify(bytes)});
      const ds = new DecompressionStream("${format}");
      const w = ds.writable.getWriter();
      (async () => { for (let i = 0; i < bytes.length; i += 7) await w.write(bytes.subarray(i, i + 7)); await w.close(); })();
      return await new Response(ds.readable).text();
    `);
    assert.equal(r, text);
  });
}

test("Compression round trip in the isolate; gzip of empty input", async () => {
  const r = await evalGuest(`
    const round = async (f, s) => new Response(new Response(s).body.pipeThrough(new CompressionStream(f)).pipeThrough(new DecompressionStream(f))).text();
    const empty = await new Response(new Response("").body.pipeThrough(new CompressionStream("gzip"))).bytes();
    return [await round("gzip", "abc"), await round("deflate", "é".repeat(1000)), await round("deflate-raw", ""), btoa(String.fromCharCode(...empty))];
  `) as [string, string, string, string];
  assert.deepEqual(r.slice(0, 3), ["abc", "é".repeat(1000), ""]);
  assert.equal(gunzipSync(Buffer.from(r[3], "base64")).length, 0);
});

test("Compression: unknown format and non-byte chunks are TypeErrors; corrupt or truncated input errors with TypeError", async () => {
  await assert.rejects(evalGuest(`new CompressionStream("br")`), { name: "TypeError" });
  await assert.rejects(evalGuest(`new DecompressionStream("zip")`), { name: "TypeError" });
  const r = await evalGuest(`
    const feed = async (t, chunk) => {
      const w = t.writable.getWriter();
      const out = new Response(t.readable).arrayBuffer().then(() => "ok", (e) => e.constructor.name);
      w.write(chunk).catch(() => {}); w.close().catch(() => {});
      return out;
    };
    const gz = await new Response(new Response("some text to compress").body.pipeThrough(new CompressionStream("gzip"))).bytes();
    return [
      await feed(new CompressionStream("gzip"), "string"),
      await feed(new DecompressionStream("deflate"), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
      await feed(new DecompressionStream("gzip"), gz.subarray(0, gz.length - 12)),
    ];
  `);
  assert.deepEqual(r, ["TypeError", "TypeError", "TypeError"]);
});
