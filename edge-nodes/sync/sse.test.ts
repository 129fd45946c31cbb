/** The event-stream parser: line endings, chunk splits, multi-line data, comments. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSseParser } from "./sse.ts";

test("events split anywhere across chunks, with LF, CRLF and CR line endings", () => {
  const text = 'event: change\ndata: {"seq":1}\nid: 1\n\n: keep-alive\r\n\r\nevent: head\r\ndata: {"last":1}\r\n\r\ndata: a\rdata: b\r\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const p = createSseParser();
    const events = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
    assert.deepEqual(
      events.map((e) => [e.event, e.data]),
      [
        ["change", '{"seq":1}'],
        ["head", '{"last":1}'],
        ["message", "a\nb"],
      ],
      `cut at ${cut}`,
    );
    assert.equal(events[0]!.id, "1");
  }
});

test("one character at a time; fields without a space; an event without data is not dispatched", () => {
  const p = createSseParser();
  const out = [];
  for (const ch of "event:x\n\nevent:change\ndata:{}\n\n") out.push(...p.push(ch));
  assert.deepEqual(out.map((e) => [e.event, e.data]), [["change", "{}"]]);
});
