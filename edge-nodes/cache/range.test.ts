/**
 * Byte ranges through the node's cache (LMDB): a hit answers them from the
 * stored body; a miss slices them from the whole body it stores.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { get, makeOrigin, ok, setup } from "./test-support.ts";

const WHOLE = "0123456789";
const sized = (extra: Record<string, string> = {}) =>
  ok(WHOLE, { "cache-control": "max-age=60", "content-type": "text/plain", "content-length": "10", etag: '"v1"', "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT", ...extra });

test("a ranged miss gets a 206 sliced from the origin's whole body, which is stored: the next plain GET is a Hit", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(sized());
  const miss = await get(h, origin, { headers: { range: "bytes=2-4" } });
  assert.deepEqual([miss.result, miss.status, miss.headers.get("content-range"), miss.headers.get("content-length"), miss.body], ["Miss", 206, "bytes 2-4/10", "3", "234"]);
  const whole = await get(h, origin);
  assert.deepEqual([whole.result, whole.status, whole.body], ["Hit", 200, WHOLE]);
  assert.equal(origin.calls.length, 1);
});

test("a hit answers one range, several (multipart/byteranges), none that fits (416); HEAD and other statuses ignore Range", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(sized());
  await get(h, origin);
  const one = await get(h, origin, { headers: { range: "bytes=-3" } });
  // No Content-Length of the whole body: the server writes the range's own.
  assert.deepEqual([one.result, one.status, one.headers.get("content-range"), one.headers.get("content-length"), one.headers.get("content-type"), one.body], ["Hit", 206, "bytes 7-9/10", null, "text/plain", "789"]);
  assert.equal(one.headers.get("etag"), '"v1"');
  assert.equal(one.headers.get("age"), "0");
  const two = await get(h, origin, { headers: { range: "bytes=0-0,9-" } });
  assert.equal(two.status, 206);
  const boundary = /^multipart\/byteranges; boundary=(.+)$/.exec(two.headers.get("content-type")!)?.[1];
  assert.ok(boundary);
  assert.equal(two.body, `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/10\r\n\r\n0\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 9-9/10\r\n\r\n9\r\n--${boundary}--`);
  const none = await get(h, origin, { headers: { range: "bytes=10-" } });
  assert.deepEqual([none.status, none.headers.get("content-range"), none.headers.get("content-type"), none.body], [416, "bytes */10", null, ""]);
  const head = await get(h, origin, { method: "HEAD", headers: { range: "bytes=0-1" } });
  assert.deepEqual([head.status, head.body], [200, ""]);
  const other = makeOrigin(ok("not here", { "cache-control": "max-age=60", "content-length": "8" }, 404));
  await get(h, other, { path: "/gone" });
  const gone = await get(h, other, { path: "/gone", headers: { range: "bytes=0-1" } });
  assert.deepEqual([gone.result, gone.status, gone.body], ["Hit", 404, "not here"]);
  assert.equal(origin.calls.length, 1);
});

test("If-Range: the entry's strong ETag or its exact Last-Modified gets the range; anything else the whole body", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(sized());
  await get(h, origin);
  const cases: Array<[string, number, string]> = [
    ['"v1"', 206, "01"],
    ["Tue, 01 Dec 2026 10:00:00 GMT", 206, "01"],
    ['"v0"', 200, WHOLE],
    ['W/"v1"', 200, WHOLE],
    ["Tue, 01 Dec 2026 09:00:00 GMT", 200, WHOLE],
  ];
  for (const [ifRange, status, body] of cases) {
    const r = await get(h, origin, { headers: { range: "bytes=0-1", "if-range": ifRange } });
    assert.deepEqual([r.status, r.body], [status, body], ifRange);
  }
  // The viewer's own validator still wins over its range.
  assert.equal((await get(h, origin, { headers: { range: "bytes=0-1", "if-none-match": '"v1"' } })).status, 304);
});

test("a revalidated entry (RefreshHit) answers the range too", async (t) => {
  const h = setup(t);
  const origin = makeOrigin(sized({ "cache-control": "max-age=10" }));
  await get(h, origin);
  h.clock.advance(20);
  origin.answer(new Response(null, { status: 304, headers: { etag: '"v1"', "cache-control": "max-age=10" } }));
  const r = await get(h, origin, { headers: { range: "bytes=5-" } });
  assert.deepEqual([r.result, r.status, r.headers.get("content-range"), r.body], ["RefreshHit", 206, "bytes 5-9/10", "56789"]);
  assert.deepEqual(origin.calls[1], { "if-none-match": '"v1"', "if-modified-since": "Tue, 01 Dec 2026 10:00:00 GMT" });
});

test("a ranged miss of a body too big to store still gets its range; the origin's body is cancelled after it, and nothing is stored", async (t) => {
  const h = setup(t, { maxObjectBytes: 4 });
  let cancelled = false;
  const chunks = ["0123", "4567", "89"];
  const origin = makeOrigin(() => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i === chunks.length) c.close();
        else c.enqueue(new TextEncoder().encode(chunks[i++]!));
      },
      cancel() {
        cancelled = true;
      },
    });
    return new Response(body, { headers: { "cache-control": "max-age=60", "content-length": "10" } });
  });
  const r = await get(h, origin, { headers: { range: "bytes=1-2" } });
  assert.deepEqual([r.result, r.status, r.body], ["Miss", 206, "12"]);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(cancelled, true);
  assert.equal((await get(h, origin)).result, "Miss");
  assert.equal(h.cache.stats().entries, 0);
});
