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
