/** Blob, File, FormData and the Body mixin inside the isolate. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("Blob: parts, size, type, slice, text/bytes/arrayBuffer/stream", async () => {
  const r = await evalGuest(`
    const b = new Blob(["héllo ", new Uint8Array([119, 111]), new Blob(["rld"])], { type: "Text/Plain" });
    const s = b.slice(-5, -1, "x/y");
    const chunks = [];
    for await (const c of b.stream()) chunks.push(...c);
    return {
      size: b.size, type: b.type, text: await b.text(),
      slice: [s.size, s.type, await s.text()],
      bytes: [...(await b.slice(0, 3).bytes())],
      ab: (await b.arrayBuffer()).byteLength,
      stream: chunks.length,
      badType: new Blob([], { type: "a\\u00e9" }).type,
      empty: [new Blob().size, new Blob().type],
      tag: Object.prototype.toString.call(b),
    };
  `);
  assert.deepEqual(r, {
    size: 12, type: "text/plain", text: "héllo world",
    slice: [4, "x/y", "worl"],
    bytes: [104, 195, 169],
    ab: 12,
    stream: 12,
    badType: "",
    empty: [0, ""],
    tag: "[object Blob]",
  });
});

test("Blob: a non-sequence is a TypeError; the bytes are copied at construction", async () => {
  await assert.rejects(evalGuest(`new Blob("abc")`), { name: "TypeError" });
  assert.equal(await evalGuest(`const u = new Uint8Array([65]); const b = new Blob([u]); u[0] = 66; return b.text();`), "A");
});

test("File: name, lastModified, type; instanceof Blob", async () => {
  const r = await evalGuest(`
    const f = new File(["abc"], "a.txt", { type: "text/plain", lastModified: 42 });
    return [f.name, f.lastModified, f.type, f.size, f instanceof Blob, await f.text(), Object.prototype.toString.call(f)];
  `);
  assert.deepEqual(r, ["a.txt", 42, "text/plain", 3, true, "abc", "[object File]"]);
  await assert.rejects(evalGuest(`new File(["x"])`), { name: "TypeError" });
});

test("FormData: append/set/get/getAll/has/delete, Blob entries become Files", async () => {
  const r = await evalGuest(`
    const fd = new FormData();
    fd.append("a", "1");
    fd.append("b", new Blob(["xy"], { type: "text/x" }));
    fd.append("a", "2");
    fd.append("c", new Blob(["z"]), "c.bin");
    fd.set("a", "3");
    const b = fd.get("b");
    return {
      a: fd.getAll("a"), has: [fd.has("a"), fd.has("z")], get: fd.get("z"),
      b: [b instanceof File, b.name, b.type, await b.text()],
      c: fd.get("c").name,
      keys: [...fd.keys()],
      afterDelete: (fd.delete("a"), [...fd.keys()]),
    };
  `);
  assert.deepEqual(r, {
    a: ["3"], has: [true, false], get: null,
    b: [true, "blob", "text/x", "xy"],
    c: "c.bin",
    keys: ["a", "b", "c"],
    afterDelete: ["b", "c"],
  });
  await assert.rejects(evalGuest(`new FormData().append("a", "b", "c.txt")`), { name: "TypeError" });
});

test("Body: text/json/arrayBuffer/bytes/blob from every BodyInit, with default Content-Type", async () => {
  const r = await evalGuest(`
    const ct = (b) => new Response(b).headers.get("content-type");
    return {
      text: await new Response("héllo").text(),
      json: await new Response('{"a":[1]}').json(),
      ab: [...new Uint8Array(await new Response(new Uint16Array([1, 2]).buffer).arrayBuffer())],
      view: [...(await new Response(new Uint8Array([1, 2, 3, 4]).subarray(1, 3)).bytes())],
      blob: await (await new Response(new Blob(["b"], { type: "a/b" })).blob()).type,
      usp: await new Response(new URLSearchParams("a=1&b=2")).text(),
      stream: await new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 105])); c.close(); } })).text(),
      other: await new Response(12).text(),
      types: [ct("s"), ct(new Uint8Array(1)), ct(new Blob([], { type: "x/y" })), ct(new Blob([])), ct(new URLSearchParams("")), ct(null)],
      explicit: new Response("s", { headers: { "content-type": "a/b" } }).headers.get("content-type"),
      empty: [await new Response().text(), new Response().body, new Response(null).bodyUsed],
    };
  `);
  assert.deepEqual(r, {
    text: "héllo",
    json: { a: [1] },
    ab: [1, 0, 2, 0],
    view: [2, 3],
    blob: "a/b",
    usp: "a=1&b=2",
    stream: "hi",
    other: "12",
    types: ["text/plain;charset=UTF-8", null, "x/y", null, "application/x-www-form-urlencoded;charset=UTF-8", null],
    explicit: "a/b",
    empty: ["", null, false],
  });
});

test("Body: text() decodes UTF-8 with replacement and strips a BOM", async () => {
  assert.equal(await evalGuest(`return new Response(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xff, 0x62])).text()`), "a\uFFFDb");
});

test("Body: a used body is a TypeError; bodyUsed; body stream is the same object", async () => {
  const r = await evalGuest(`
    const res = new Response("x");
    const same = res.body === res.body;
    await res.text();
    let second;
    try { await res.text(); } catch (e) { second = e.constructor.name; }
    const r2 = new Response("y");
    const reader = r2.body.getReader();
    let locked;
    try { await r2.arrayBuffer(); } catch (e) { locked = e.constructor.name; }
    await reader.read();
    const r3 = new Response("z");
    await r3.blob();
    return { same, used: res.bodyUsed, second, locked, r2used: r2.bodyUsed, r3: [r3.bodyUsed, r3.body.locked] };
  `);
  assert.deepEqual(r, { same: true, used: true, second: "TypeError", locked: "TypeError", r2used: true, r3: [true, true] });
});

test("Body: json() of invalid JSON rejects with SyntaxError", async () => {
  await assert.rejects(evalGuest(`return new Response("{").json()`), { name: "SyntaxError" });
});

test("Body: FormData round trip through multipart/form-data", async () => {
  const r = await evalGuest(`
    const fd = new FormData();
    fd.append("name", "vä\\nlue");
    fd.append('q"x', "2");
    fd.append("file", new File(["<bytes>"], "a b.txt", { type: "text/html" }));
    const res = new Response(fd);
    const type = res.headers.get("content-type");
    const back = await res.clone().formData();
    const raw = await res.text();
    const f = back.get("file");
    return {
      type: /^multipart\\/form-data; boundary=[-\\w]+$/.test(type),
      crlf: raw.includes("vä\\r\\nlue"),
      entries: [...back].map(([k, v]) => [k, typeof v === "string" ? v : "file"]),
      file: [f.name, f.type, await f.text()],
    };
  `);
  assert.deepEqual(r, {
    type: true,
    crlf: true,
    entries: [["name", "vä\r\nlue"], ["q%22x", "2"], ["file", "file"]],
    file: ["a b.txt", "text/html", "<bytes>"],
  });
});

test("Body: formData() parses urlencoded and hand-written multipart; other types are TypeError", async () => {
  const r = await evalGuest(`
    const u = await new Response("a=1&b=x+y&a=%C3%A9", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData();
    const body = "--XX\\r\\nContent-Disposition: form-data; name=\\"f\\"; filename=\\"n.txt\\"\\r\\n\\r\\nhi\\r\\n--XX\\r\\ncontent-disposition: form-data; name=t\\r\\n\\r\\nv\\r\\n--XX--\\r\\n";
    const m = await new Response(body, { headers: { "content-type": 'multipart/form-data; boundary="XX"' } }).formData();
    return { u: [...u], f: [m.get("f").name, m.get("f").type, await m.get("f").text()], t: m.get("t") };
  `);
  assert.deepEqual(r, { u: [["a", "1"], ["b", "x y"], ["a", "é"]], f: ["n.txt", "text/plain", "hi"], t: "v" });
  await assert.rejects(evalGuest(`return new Response("x").formData()`), { name: "TypeError" });
  await assert.rejects(
    evalGuest(`return new Response("garbage", { headers: { "content-type": "multipart/form-data; boundary=XX" } }).formData()`),
    { name: "TypeError" },
  );
});

test("Body: a locked or disturbed ReadableStream cannot become a body", async () => {
  await assert.rejects(evalGuest(`const s = new ReadableStream(); s.getReader(); new Response(s);`), { name: "TypeError" });
});

test("Body: a stream of non-bytes fails to read with TypeError", async () => {
  await assert.rejects(
    evalGuest(`return new Response(new ReadableStream({ start(c) { c.enqueue("str"); c.close(); } })).text()`),
    { name: "TypeError" },
  );
});
