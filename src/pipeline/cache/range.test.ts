import { test } from "node:test";
import assert from "node:assert/strict";
import { ifRangeAllows, rangeAnswer, rangeOfMiss, sliceStream } from "./range.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A stream of `chunks`, recording whether it was cancelled and how far it was read. */
function source(chunks: string[]) {
  const seen = { pulled: 0, cancelled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i === chunks.length) return c.close();
      seen.pulled++;
      c.enqueue(new TextEncoder().encode(chunks[i++]!));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

test("sliceStream: the inclusive range across chunk boundaries, then the rest drained or cancelled", async () => {
  const whole = ["012", "345", "678", "9"];
  for (const [start, end, want] of [[0, 0, "0"], [2, 4, "234"], [3, 5, "345"], [1, 8, "12345678"], [9, 9, "9"], [0, 9, "0123456789"]] as const) {
    const s = source(whole);
    assert.equal(await new Response(sliceStream(s.stream, start, end, true)).text(), want, `${start}-${end}`);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.seen.pulled, 4, "drained to its end");
    assert.equal(s.seen.cancelled, false);
  }
  const s = source(whole);
  assert.equal(await new Response(sliceStream(s.stream, 0, 1, false)).text(), "01");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.seen.cancelled, true, "not drained: cancelled");
  assert.equal(s.seen.pulled < 4, true);
});

test("ifRangeAllows: absent, a strong tag equal to the entry's, or its exact Last-Modified; never a weak tag", () => {
  const entry = { etag: '"v1"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT" };
  assert.equal(ifRangeAllows(null, entry), true);
  assert.equal(ifRangeAllows('"v1"', entry), true);
  assert.equal(ifRangeAllows('"v2"', entry), false);
  assert.equal(ifRangeAllows('W/"v1"', entry), false);
  assert.equal(ifRangeAllows('"v1"', { etag: 'W/"v1"', lastModified: null }), false);
  assert.equal(ifRangeAllows("Tue, 01 Dec 2026 10:00:00 GMT", entry), true);
  assert.equal(ifRangeAllows("Tue, 01 Dec 2026 10:00:01 GMT", entry), false);
  assert.equal(ifRangeAllows("not a date", entry), false);
  assert.equal(ifRangeAllows("Tue, 01 Dec 2026 10:00:00 GMT", { etag: '"v1"', lastModified: null }), false);
});

test("rangeAnswer: one range, several as multipart/byteranges, 416, other units ignored", () => {
  const body = new TextEncoder().encode("0123456789");
  const one = rangeAnswer("bytes=-4", body, "text/plain")!;
  assert.deepEqual([one.status, one.headers, text(one.body), one.multipart], [206, [["content-range", "bytes 6-9/10"]], "6789", false]);
  const two = rangeAnswer("bytes=0-1,8-", body, "text/plain")!;
  assert.equal(two.status, 206);
  assert.equal(two.multipart, true);
  const boundary = /boundary=(.+)$/.exec(two.headers[0]![1])![1];
  assert.equal(text(two.body), `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89\r\n--${boundary}--`);
  assert.deepEqual(rangeAnswer("bytes=10-", body, undefined)?.headers, [["content-range", "bytes */10"]]);
  assert.equal(rangeAnswer("bytes=10-", body, undefined)?.status, 416);
  assert.equal(rangeAnswer("items=0-1", body, undefined), undefined);
});

test("rangeOfMiss: a 206 sliced from a 200 of known length; the whole response when it cannot say the length or the range", async () => {
  const viewer = (h: Record<string, string>) => new Headers(h);
  const origin = (headers: Record<string, string> = { "content-length": "10", etag: '"v1"', "content-type": "text/plain" }, status = 200) =>
    new Response("0123456789", { status, headers });
  const one = rangeOfMiss(origin(), viewer({ range: "bytes=3-5" }), 100);
  assert.equal(one.status, 206);
  assert.equal(one.headers.get("content-range"), "bytes 3-5/10");
  assert.equal(one.headers.get("content-length"), "3");
  assert.equal(one.headers.get("content-type"), "text/plain");
  assert.equal(await one.text(), "345");
  const none = rangeOfMiss(origin(), viewer({ range: "bytes=30-" }), 100);
  assert.deepEqual([none.status, none.headers.get("content-range"), none.headers.get("content-type"), await none.text()], [416, "bytes */10", null, ""]);
  for (const [what, res, h] of [
    ["no Content-Length", origin({ etag: '"v1"' }), { range: "bytes=3-5" }],
    ["several ranges", origin(), { range: "bytes=0-1,3-4" }],
    ["an If-Range naming another version", origin(), { range: "bytes=3-5", "if-range": '"v0"' }],
    ["not a 200", origin(undefined, 404), { range: "bytes=3-5" }],
    ["no Range", origin(), {}],
  ] as const) {
    const out = rangeOfMiss(res, viewer(h), 100);
    assert.equal(out.status, res.status, what);
    assert.equal(await out.text(), "0123456789", what);
  }
});
