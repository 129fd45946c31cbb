/**
 * The invocation's body streams: a reader that cancels a streamed response body
 * (or a guest stream handed to a host op) before its first read still ends the
 * invocation and tells the guest, instead of leaving both open until the wall
 * deadline (an async generator's return() before it started skips its finally).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "./sandbox.ts";
import { createHostServices } from "./services.ts";
import { resolveLimits } from "../shared/limits.ts";

const services = createHostServices();

const code = `
let cancelled = "not cancelled";
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/status") return new Response(cancelled);
    const body = new ReadableStream({
      pull() { return new Promise(() => {}); }, // never produces a chunk
      cancel(reason) { cancelled = "cancelled: " + reason; },
    });
    return new Response(body);
  },
};`;

async function invoke(sb: Sandbox, path: string) {
  return sb.invoke({ kind: "fetch", request: { method: "GET", url: `http://inv.test${path}`, headers: [], body: null } });
}

test("a streamed body cancelled before its first read ends the invocation and cancels the guest stream", async () => {
  const sb = new Sandbox({ source: { id: "inv-cancel", code, format: "esm" }, limits: resolveLimits({ cpuMs: 2_000, wallMs: 20_000 }), env: {}, bindings: {}, services });
  try {
    const out = await invoke(sb, "/");
    assert.equal(out.kind, "response");
    if (out.kind !== "response") return;
    const body = out.response.body;
    assert.ok(body !== null && !(body instanceof Uint8Array), "a streamed body");
    await (body as AsyncGenerator<Uint8Array>).return(undefined);
    // Ends well before the 20 s wall deadline; had it waited for the deadline, the report would say so.
    const report = await Promise.race([out.finished, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the invocation did not end within 15 s")), 15_000).unref())]);
    assert.equal(report.error, undefined);
    assert.ok(report.limits.wallMs.used < 15_000);
    const status = await invoke(sb, "/status");
    assert.equal(status.kind, "response");
    if (status.kind !== "response") return;
    await status.finished;
    assert.match(new TextDecoder().decode(status.response.body as Uint8Array), /^cancelled: /);
  } finally {
    sb.dispose();
  }
});

test("console output is kept and forwarded up to 256 KiB per invocation (and the top level), then one notice; the rest is dropped", async () => {
  const lines: string[] = [];
  const logged = createHostServices({ onLog: (entry) => lines.push(entry.message) });
  const flood = `
for (let i = 0; i < 400; i++) console.log("top " + i + " " + "t".repeat(1000));
export default {
  fetch() {
    for (let i = 0; i < 400; i++) console.log(i + " " + "x".repeat(1000));
    console.log("short line after the limit");
    return new Response("ok");
  },
};`;
  const sb = new Sandbox({ source: { id: "inv-logs", code: flood, format: "esm" }, limits: resolveLimits({ cpuMs: 5_000, wallMs: 20_000 }), env: {}, bindings: {}, services: logged });
  try {
    // The top level: 100 lines at most (and 256 KiB), then one notice.
    assert.equal(sb.startupLogs.length, 100);
    assert.equal(lines.length, 101);
    assert.match(lines[100]!, /console output over the top level's limit \(100 lines or 256 KiB\) is dropped from here on/);
    lines.length = 0;
    const out = await sb.invoke({ kind: "fetch", request: { method: "GET", url: "http://inv.test/", headers: [], body: null } });
    const report = await out.finished;
    const kept = report.logs.filter((l) => !l.message.includes("dropped"));
    const bytes = kept.reduce((n, l) => n + l.message.length, 0);
    assert.ok(bytes <= 256 * 1024 && bytes > 250 * 1024, `kept ${bytes} bytes`);
    assert.equal(kept.length, 261); // lines of 1,002-1,004 characters: 261 fit in 262,144
    assert.deepEqual(kept.map((l) => Number(l.message.split(" ")[0])), [...Array(261).keys()], "the first lines, in order");
    assert.match(report.logs.at(-1)!.message, /^140 more console lines were dropped \(limit 1000 lines or 256 KiB per invocation\)$/);
    // Forwarded live: the kept lines, then one notice; nothing after it (not even a short line).
    assert.equal(lines.length, 262);
    assert.match(lines[261]!, /console output over this invocation's limit \(1000 lines or 256 KiB\) is dropped from here on/);
  } finally {
    sb.dispose();
  }
});

test("a generated response whose headers pass 128 KiB is refused with ERR_RESPONSE_TOO_LARGE, its streamed body cancelled; one just under passes", async () => {
  const big = `
let cancelled = "no";
export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/cancelled") return new Response(cancelled);
    const h = new Headers();
    const n = path === "/under" ? 60 : 70; // 2 KiB values: 60 lines fit in 128 KiB, 70 (and content-type) do not
    for (let i = 0; i < n; i++) h.set("x-h" + i, "v".repeat(2048));
    if (path === "/stream") {
      return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1)); }, cancel() { cancelled = "yes"; } }), { headers: h });
    }
    return new Response("body", { headers: h });
  },
};`;
  const sb = new Sandbox({ source: { id: "inv-headers", code: big, format: "esm" }, limits: resolveLimits({ cpuMs: 2_000, wallMs: 20_000 }), env: {}, bindings: {}, services });
  try {
    const over = await invoke(sb, "/over");
    assert.equal(over.kind, "error");
    if (over.kind === "error") {
      assert.equal(over.error.code, "ERR_RESPONSE_TOO_LARGE");
      assert.match(over.error.message, /71 headers of \d+ bytes, over the limit of 131072 bytes/);
    }
    await over.finished;
    const under = await invoke(sb, "/under");
    assert.equal(under.kind, "response");
    await under.finished;
    const streamed = await invoke(sb, "/stream");
    assert.equal(streamed.kind, "error");
    await streamed.finished;
    const status = await invoke(sb, "/cancelled");
    assert.equal(status.kind, "response");
    if (status.kind === "response") assert.equal(new TextDecoder().decode(status.response.body as Uint8Array), "yes");
    await status.finished;
  } finally {
    sb.dispose();
  }
});

test("a timer never fires early by the guest's clock, even when set late in a long entry (Node's loop time is stale then)", async () => {
  const late = `export default {
    async fetch() {
      const spinUntil = Date.now() + 30;
      while (Date.now() < spinUntil) {} // the entry runs 30 ms before it sets the timer
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
      return new Response(String(Date.now() - start));
    },
  };`;
  const sb = new Sandbox({ source: { id: "inv-timer", code: late, format: "esm" }, limits: resolveLimits({ cpuMs: 2_000, wallMs: 20_000 }), env: {}, bindings: {}, services });
  try {
    for (let i = 0; i < 3; i++) {
      const out = await invoke(sb, "/");
      assert.equal(out.kind, "response");
      if (out.kind !== "response") return;
      await out.finished;
      const elapsed = Number(new TextDecoder().decode(out.response.body as Uint8Array));
      assert.ok(elapsed >= 10, `setTimeout(10) resolved after ${elapsed} ms by Date.now()`);
    }
  } finally {
    sb.dispose();
  }
});
