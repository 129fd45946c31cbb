/**
 * What a bundle is decides how it runs, as in Workers: an entry that exports
 * nothing is a service worker (a classic script, bindings as globals); one that
 * exports is a module, and may import the runtime's `cloudflare:workers`
 * (kept external by the bundler, provided by the runtime), with a class
 * default export constructed per invocation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle } from "../../src/build/bundle.ts";
import { Verge } from "../../src/index.ts";

const CLASS_WORKER = `import { WorkerEntrypoint } from "cloudflare:workers";
import { shout } from "./shout.ts";
interface Env { GREETING: string; SINK: string }
export default class Hello extends WorkerEntrypoint<Env> {
  override async fetch(request: Request): Promise<Response> {
    return new Response(shout(this.env.GREETING) + " " + new URL(request.url).pathname);
  }
  async scheduled(controller: { cron: string }): Promise<void> {
    console.log("tick " + controller.cron + " " + this.env.GREETING);
  }
}
`;
// The class's type parameter and override only type-check against the real typings; esbuild strips them.
const SHOUT = `export const shout = (s: string): string => s.toUpperCase();\n`;
const SERVICE_WORKER = `addEventListener("fetch", (event: any) => event.respondWith(new Response(GREETING + " from a service worker")));
declare const GREETING: string;
`;

test("a bundle that exports is a module: cloudflare:workers stays an import the runtime provides; a class default export answers fetch and scheduled", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-formats-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.ts"), CLASS_WORKER);
  writeFileSync(join(dir, "shout.ts"), SHOUT);
  const built = await bundle(join(dir, "index.ts"));
  assert.equal(built.format, "esm");
  assert.match(built.code, /from "cloudflare:workers"/);
  const verge = new Verge({ modules: true, script: built.code, bindings: { GREETING: "hey" } });
  t.after(() => verge.dispose());
  const logs: string[] = [];
  verge.onLog((e) => logs.push(e.message));
  const res = await verge.dispatchFetch("http://localhost/path");
  assert.equal(await res.text(), "HEY /path");
  await verge.dispatchScheduled("*/5 * * * *");
  assert.ok(logs.includes("tick */5 * * * * hey"), JSON.stringify(logs));
});

test("a bundle that exports nothing is a service worker: a classic script with its bindings as globals", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-formats-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "sw.ts"), SERVICE_WORKER);
  const built = await bundle(join(dir, "sw.ts"));
  assert.equal(built.format, "script");
  const verge = new Verge({ modules: false, script: built.code, bindings: { GREETING: "hello" } });
  t.after(() => verge.dispose());
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), "hello from a service worker");
});

test("a module Worker that imports a cloudflare:workers member verge does not have fails to load with the module's name in the error", { timeout: 60_000 }, async (t) => {
  const verge = new Verge({ modules: true, script: `import { DurableObjectNamespace } from "cloudflare:workers"; export default { fetch() { return new Response("x"); } };` });
  t.after(() => verge.dispose());
  await assert.rejects(verge.ready, (err: Error & { code?: string }) => err.code === "ERR_BUNDLE_COMPILE" && /DurableObjectNamespace/.test(err.message));
});
