import { test } from "node:test";
import assert from "node:assert/strict";
import { teeIntoCache, type AbandonReason } from "./tee.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A source the test feeds by hand, to see that chunks reach the viewer before the body ends. */
function manualSource() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { stream, push: (s: string) => controller.enqueue(enc(s)), end: () => controller.close(), fail: (e: Error) => controller.error(e) };
}

function track() {
  const seen: { complete?: string; abandon?: AbandonReason; calls: number } = { calls: 0 };
  return {
    seen,
    handlers: {
      complete: (b: Uint8Array) => {
        seen.calls++;
        seen.complete = new TextDecoder().decode(b);
      },
      abandon: (r: AbandonReason) => {
        seen.calls++;
        seen.abandon = r;
      },
    },
  };
}

test("the viewer gets each chunk as it arrives; the cache gets the whole body once it ended", async () => {
  const src = manualSource();
  const { seen, handlers } = track();
  const reader = teeIntoCache(src.stream, 100, handlers).getReader();
  src.push("ab");
  assert.equal(new TextDecoder().decode((await reader.read()).value), "ab");
  assert.equal(seen.calls, 0, "nothing handed to the cache mid-body");
  src.push("cd");
  assert.equal(new TextDecoder().decode((await reader.read()).value), "cd");
  src.end();
  assert.equal((await reader.read()).done, true);
  assert.deepEqual(seen, { calls: 1, complete: "abcd" });
});

test("a body over the limit still streams to the viewer but is abandoned for the cache", async () => {
  const src = manualSource();
  const { seen, handlers } = track();
  const out = teeIntoCache(src.stream, 3, handlers);
  src.push("ab");
  src.push("cd");
  src.end();
  assert.equal(await new Response(out).text(), "abcd");
  assert.deepEqual(seen, { calls: 1, abandon: "oversize" });
});

test("an origin body that errors is abandoned and the error reaches the viewer", async () => {
  const src = manualSource();
  const { seen, handlers } = track();
  const reader = teeIntoCache(src.stream, 100, handlers).getReader();
  src.push("ab");
  await reader.read();
  src.fail(new Error("reset"));
  await assert.rejects(reader.read(), /reset/);
  assert.deepEqual(seen, { calls: 1, abandon: "error" });
});

test("a viewer that cancels abandons the copy and cancels the origin body", async () => {
  let cancelled: unknown;
  const src = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(enc("x")), cancel: (r) => void (cancelled = r) });
  const { seen, handlers } = track();
  const reader = teeIntoCache(src, 100, handlers).getReader();
  await reader.read();
  await reader.cancel("gone");
  assert.equal(cancelled, "gone");
  assert.deepEqual(seen, { calls: 1, abandon: "cancel" });
});
