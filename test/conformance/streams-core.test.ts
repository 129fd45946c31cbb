/** WHATWG Streams inside the isolate (web-streams-polyfill ponyfill) and Workers' extra streams. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("streams: the classes are globals", async () => {
  const r = await evalGuest(`
    return ["ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
      "ReadableStreamDefaultController", "ReadableByteStreamController", "WritableStream", "WritableStreamDefaultWriter",
      "WritableStreamDefaultController", "TransformStream", "TransformStreamDefaultController", "ByteLengthQueuingStrategy",
      "CountQueuingStrategy", "TextEncoderStream", "TextDecoderStream", "CompressionStream", "DecompressionStream",
      "IdentityTransformStream", "FixedLengthStream"].filter((n) => typeof globalThis[n] !== "function");
  `);
  assert.deepEqual(r, []);
});

test("ReadableStream: pull source, reader, async iteration, tee, from()", async () => {
  const r = await evalGuest(`
    let i = 0;
    const s = new ReadableStream({ pull(c) { if (i < 3) c.enqueue(i++); else c.close(); } });
    const [a, b] = s.tee();
    const fromA = [];
    for await (const x of a) fromA.push(x);
    const reader = b.getReader();
    const fromB = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) fromB.push(r.value);
    const fromIter = [];
    for await (const x of ReadableStream.from(["x", "y"])) fromIter.push(x);
    return { fromA, fromB, fromIter, locked: b.locked };
  `);
  assert.deepEqual(r, { fromA: [0, 1, 2], fromB: [0, 1, 2], fromIter: ["x", "y"], locked: true });
});

test("ReadableStream: a second reader on a locked stream is a TypeError", async () => {
  await assert.rejects(evalGuest(`const s = new ReadableStream(); s.getReader(); s.getReader();`), { name: "TypeError" });
});

test("WritableStream and pipeTo / pipeThrough with queuing strategies", async () => {
  const r = await evalGuest(`
    const got = [];
    const ws = new WritableStream({ write(chunk) { got.push(chunk); } }, new CountQueuingStrategy({ highWaterMark: 2 }));
    await ReadableStream.from([1, 2, 3]).pipeThrough(new TransformStream({ transform(c, ctl) { ctl.enqueue(c * 10); } })).pipeTo(ws);
    const bl = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
    return { got, hwm: bl.highWaterMark, size: bl.size(new Uint8Array(5)) };
  `);
  assert.deepEqual(r, { got: [10, 20, 30], hwm: 16, size: 5 });
});

test("pipeTo with an aborted signal rejects with the signal's reason", async () => {
  const r = await evalGuest(`
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    try { await new ReadableStream().pipeTo(new WritableStream(), { signal: ac.signal }); return "no"; }
    catch (e) { return e.message; }
  `);
  assert.equal(r, "stop");
});

test("IdentityTransformStream passes bytes and rejects other chunks", async () => {
  const r = await evalGuest(`
    const t = new IdentityTransformStream();
    const w = t.writable.getWriter();
    w.write(new Uint8Array([1, 2])); w.write(new Uint16Array([3]).buffer); w.close();
    const out = [];
    for await (const c of t.readable) out.push(...c);
    // A transform runs only when its readable side is read (backpressure): read while writing.
    const bad = new IdentityTransformStream();
    const readErr = bad.readable.getReader().read().then(() => "read", (e) => e.constructor.name);
    let err;
    try { await bad.writable.getWriter().write("str"); } catch (e) { err = e.constructor.name; }
    return { out, err, readErr: await readErr, isTransform: t instanceof TransformStream };
  `);
  assert.deepEqual(r, { out: [1, 2, 3, 0], err: "TypeError", readErr: "TypeError", isTransform: true });
});

test("FixedLengthStream checks the total length", async () => {
  const r = await evalGuest(`
    const run = async (n, parts) => {
      const t = new FixedLengthStream(n);
      const w = t.writable.getWriter();
      const drain = new Response(t.readable).arrayBuffer().then((b) => b.byteLength, (e) => e.constructor.name);
      try { for (const p of parts) await w.write(new Uint8Array(p)); await w.close(); } catch (e) { return [e.constructor.name, await drain]; }
      return ["ok", await drain];
    };
    return [await run(3, [1, 2]), await run(3, [2, 2]), await run(3, [1])];
  `);
  assert.deepEqual(r, [["ok", 3], ["TypeError", "TypeError"], ["TypeError", "TypeError"]]);
  await assert.rejects(evalGuest(`new FixedLengthStream(-1)`), { name: "TypeError" });
});
