import { test } from "node:test";
import assert from "node:assert/strict";
import { createFrameDecoder, encodeFrame } from "./channel.ts";

const messages = [
  { t: "fetch", id: 1, request: { method: "POST", url: "https://x/é", headers: [["a", "b"]], body: new Uint8Array([1, 2, 3]) } },
  { t: "ok", id: 2, value: { parts: [new Uint8Array(0), { deep: new Uint8Array(70_000).fill(7) }], none: null } },
  { t: "log", fn: "f", entry: { level: "info", message: "naïve ☃ \u0000 text", at: 1.5 } },
  { t: "chunk", id: 3, chunk: null },
];

function decodeAll(bytes: Buffer, step: number): unknown[] {
  const out: unknown[] = [];
  const decode = createFrameDecoder((m) => out.push(m));
  for (let i = 0; i < bytes.length; i += step) decode(bytes.subarray(i, i + step));
  return out;
}

test("frames survive any split of the byte stream, with bytes as Uint8Array copies", () => {
  const bytes = Buffer.concat(messages.map(encodeFrame));
  for (const step of [1, 3, 7, 64, 4096, bytes.length]) {
    const out = decodeAll(bytes, step);
    assert.equal(out.length, messages.length, `step ${step}`);
    assert.deepEqual(out[0], messages[0]);
    const deep = (out[1] as unknown as { value: { parts: [Uint8Array, { deep: Uint8Array }] } }).value.parts;
    assert.equal(deep[0].byteLength, 0);
    assert.equal(deep[1].deep.byteLength, 70_000);
    assert.equal(deep[1].deep[69_999], 7);
    assert.equal(Object.getPrototypeOf(deep[1].deep), Uint8Array.prototype, "a plain Uint8Array, not a Buffer view");
    assert.equal(deep[1].deep.buffer.byteLength, 70_000, "its own ArrayBuffer");
    assert.deepEqual(out[2], messages[2]);
    assert.deepEqual(out[3], messages[3]);
  }
});

test("a message without bytes is sent as it is and not copied", () => {
  const m = { t: "x", nested: { list: [1, "two", { three: true }] } };
  assert.deepEqual(decodeAll(encodeFrame(m), 5), [m]);
});
