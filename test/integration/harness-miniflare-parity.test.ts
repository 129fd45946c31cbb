/**
 * What a Miniflare 4 test does, run against Miniflare and against verge's
 * harness: the same scenario must give the same result, or (for input
 * Miniflare takes and verge refuses) a clear error at construction.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { Verge, type VergeOptions } from "../../src/index.ts";

const COMPATIBILITY_DATE = "2025-06-01";

/** What the scenarios call, as both classes have it (each with its own undici's types). */
interface Runtime {
  dispatchFetch(input: string, init?: RequestInit & { cf?: Record<string, unknown> }): Promise<Response>;
  setOptions(options: Record<string, unknown>): Promise<void>;
  dispose(): Promise<void>;
}

/** Runs `scenario` against a Miniflare and a Verge built from the same options; returns [miniflare, verge]. */
async function both<T>(options: Record<string, unknown>, scenario: (mf: Runtime) => Promise<T>): Promise<[T, T]> {
  const out: T[] = [];
  for (const make of [(o: Record<string, unknown>) => new Miniflare(o as never) as unknown as Runtime, (o: Record<string, unknown>) => new Verge(o as VergeOptions) as unknown as Runtime]) {
    const mf = make({ compatibilityDate: COMPATIBILITY_DATE, ...options });
    try {
      out.push(await scenario(mf));
    } finally {
      await mf.dispose();
    }
  }
  return out as [T, T];
}

function invalid(options: Record<string, unknown>): Array<{ path: string; message: string }> {
  try {
    const v = new Verge(options as VergeOptions);
    void v.dispose();
  } catch (err) {
    assert.equal((err as { code?: string }).code, "ERR_INVALID_OPTIONS");
    return (err as { details: { diagnostics: Array<{ path: string; message: string }> } }).details.diagnostics;
  }
  assert.fail(`accepted ${JSON.stringify(Object.keys(options))}`);
}

const OK = `export default { fetch: () => new Response("ok") }`;

test("a Worker that fails to load and is never used does not end the process (no unhandled rejection)", () => {
  const index = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
  const program = `
    const { Verge } = await import(${JSON.stringify(index)});
    const verge = new Verge({ modules: true, script: "export default { fetch( }" });
    await verge.dispose();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log("survived");`;
  const r = spawnSync(process.execPath, ["--no-node-snapshot", "--input-type=module", "--eval", program], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.stdout.trim(), "survived", r.stderr);
  assert.equal(r.status, 0);
});

test("env values the runtime cannot take are refused at construction, naming the option and the place", () => {
  const d = invalid({
    modules: true,
    script: OK,
    bindings: { F: () => 1, D: new Date(0), U: undefined, DEEP: { list: [1, Number.NaN] }, GOOD: { a: [1, "x", null] } },
    secrets: { S: 5, T: "fine" },
  });
  assert.deepEqual(
    d.map((x) => x.path),
    ["bindings.F", "bindings.D", "bindings.U", "bindings.DEEP.list[1]", "secrets.S"],
  );
  assert.match(d[0]!.message, /expected a string or a JSON value .* found a function/);
  assert.match(d[1]!.message, /found a Date/);
  assert.match(d[2]!.message, /found undefined/);
  assert.match(d[3]!.message, /found the number NaN/);
  assert.equal(d[4]!.message, "expected a string, found number", "a secret's value is never in a message");
  assert.deepEqual(invalid({ modules: true, script: OK, bindings: { "not-an-identifier": "x" } }).map((x) => x.path), ["bindings.not-an-identifier"]);
  assert.deepEqual(invalid({ modules: true, script: OK, bindings: { A: "x" }, secrets: { A: "y" } }).map((x) => x.path), ["secrets.A"]);
});

test("option types Miniflare checks are checked: compatibilityFlags, name, sourceMap, modules[].contents", () => {
  const d = invalid({ modules: true, script: OK, compatibilityFlags: "nodejs_compat", name: 5, sourceMap: 5 });
  assert.deepEqual(
    d.map((x) => [x.path, x.message]),
    [
      ["compatibilityFlags", 'expected an array of strings, found the string "nodejs_compat"'],
      ["name", "expected a non-empty string, found number 5"],
      ["sourceMap", "expected the source map's JSON text (a string), found number 5"],
    ],
  );
  assert.deepEqual(invalid({ modules: [{ type: "ESModule", path: "a.js", contents: 1 }] }).map((x) => x.path), ["modules[0].contents"]);
});

function moduleTree(t: TestContext, under = tmpdir()): string {
  mkdirSync(under, { recursive: true });
  const dir = mkdtempSync(join(under, "verge-modules-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "lib"));
  writeFileSync(join(dir, "index.js"), `import { greet } from "./lib/greet.js"; import data from "./data.js"; export default { fetch: () => new Response(greet(data.name)) };`);
  writeFileSync(join(dir, "lib/greet.js"), `import data from "../data.js"; export function greet(n) { return "hello " + n + " from " + data.name; }`);
  writeFileSync(join(dir, "data.js"), `export default { name: "modules" };`);
  return dir;
}

test("modules: [...] given by path (relative to the working directory, as Miniflare takes them) resolve their imports", { timeout: 60_000 }, async (t) => {
  // Under the working directory: workerd refuses module names that climb out of it with "..".
  const dir = relative(process.cwd(), moduleTree(t, join(process.cwd(), "tmp")));
  const modules = ["index.js", "lib/greet.js", "data.js"].map((p) => ({ type: "ESModule", path: join(dir, p) }));
  const [mf, verge] = await both({ modules }, async (w) => (await w.dispatchFetch("http://localhost/")).text());
  assert.equal(mf, "hello modules from modules");
  assert.equal(verge, mf);
});

test("modules: [...] given by absolute path, with contents or from disk, resolve their imports", async (t) => {
  const dir = moduleTree(t);
  const modules = [
    { type: "ESModule" as const, path: join(dir, "index.js") },
    { type: "ESModule" as const, path: join(dir, "lib/greet.js") },
    { type: "ESModule" as const, path: join(dir, "data.js"), contents: `export default { name: "given" };` },
  ];
  const verge = new Verge({ modules });
  t.after(() => verge.dispose());
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), "hello given from given");
});

test("init.cf reaches request.cf, over the defaults, as in Miniflare", { timeout: 60_000 }, async () => {
  const script = `export default { fetch: (req) => Response.json({ type: typeof req.cf, country: req.cf?.country ?? null, custom: req.cf?.custom ?? null, colo: typeof req.cf?.colo }) }`;
  const [mf, verge] = await both({ modules: true, script }, async (w) => {
    const plain = await (await w.dispatchFetch("http://localhost/")).json();
    const given = await (await w.dispatchFetch("http://localhost/", { cf: { country: "DE", custom: { a: 1 } } })).json();
    return [(plain as { type: string }).type, (plain as { colo: string }).colo, given];
  });
  assert.deepEqual(mf, ["object", "string", { type: "object", country: "DE", custom: { a: 1 }, colo: "string" }]);
  assert.deepEqual(verge, mf);
});

test("init.cf that is not an object is a clear error; with upstream it is refused by name", async (t) => {
  const verge = new Verge({ modules: true, script: OK });
  t.after(() => verge.dispose());
  await assert.rejects(verge.dispatchFetch("http://localhost/", { cf: "DE" } as unknown as RequestInit), {
    code: "ERR_INVALID_REQUEST",
    message: 'dispatchFetch: init.cf: expected an object of request properties, found the string "DE"',
  });
  const edge = new Verge({ modules: true, script: OK, upstream: "http://127.0.0.1:9" });
  t.after(() => edge.dispose());
  await assert.rejects(edge.dispatchFetch("http://localhost/", { cf: { country: "DE" } } as RequestInit), { code: "ERR_INVALID_REQUEST", message: /init\.cf is not applied with `upstream`/ });
});

const SLOW = `export default { async fetch(req) {
  if (new URL(req.url).pathname === "/stream") {
    const { readable, writable } = new TransformStream();
    const w = writable.getWriter();
    w.write(new TextEncoder().encode("first"));
    setTimeout(() => w.write(new TextEncoder().encode("late")).then(() => w.close()), 3000);
    return new Response(readable);
  }
  await new Promise((r) => setTimeout(r, 3000));
  return new Response("late");
} }`;

test("an abort signal rejects dispatchFetch with its reason, before or during the call, and errors a body being read", { timeout: 60_000 }, async () => {
  const [mf, verge] = await both({ modules: true, script: SLOW }, async (w) => {
    const before = await w.dispatchFetch("http://localhost/", { signal: AbortSignal.abort() }).then(() => "resolved", (e: Error) => e.name);
    const ac = new AbortController();
    const pending = w.dispatchFetch("http://localhost/", { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const during = await pending.then(() => "resolved", (e: Error) => e.name);
    const body = new AbortController();
    const res = await w.dispatchFetch("http://localhost/stream", { signal: body.signal });
    const reader = res.body!.getReader();
    let first = "";
    while (first === "") first = new TextDecoder().decode((await reader.read()).value);
    body.abort();
    const after = await reader.read().then(() => "read", (e: Error) => e.name);
    // Miniflare's transport may hold the first chunk until the next (it compresses text).
    return [before, during, first.startsWith("first"), after];
  });
  assert.deepEqual(mf, ["AbortError", "AbortError", true, "AbortError"]);
  assert.deepEqual(verge, mf);
});

test("setOptions with a script that fails to load rejects, and the previous Worker goes on answering", { timeout: 60_000 }, async () => {
  const [mf, verge] = await both({ modules: true, script: OK }, async (w) => {
    const failed = await w.setOptions({ modules: true, compatibilityDate: COMPATIBILITY_DATE, script: "export default { fetch( }" }).then(() => "resolved", () => "rejected");
    const res = await w.dispatchFetch("http://localhost/");
    return [failed, res.status, await res.text()];
  });
  assert.deepEqual(mf, ["rejected", 200, "ok"]);
  assert.deepEqual(verge, mf);
});

test("setOptions that fails leaves ready as it was; one that loads replaces the Worker", async (t) => {
  const verge = new Verge({ modules: true, script: OK });
  t.after(() => verge.dispose());
  await verge.ready;
  await assert.rejects(verge.setOptions({ modules: true, script: "export default { fetch( }" }), { code: "ERR_BUNDLE_COMPILE" });
  await verge.ready;
  await verge.setOptions({ modules: true, script: `export default { fetch: () => new Response("two") }`, outbound: { allowPrivateAddresses: true } });
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), "two");
  await assert.rejects(verge.setOptions({ modules: true, script: "export default { fetch( }" }), { code: "ERR_BUNDLE_COMPILE" });
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), "two", "a new child for a new outbound policy is not kept either");
});

test("with upstream, an abort signal rejects dispatchFetch while the origin has not answered", async (t) => {
  const hung = new Set<ServerResponse>();
  const origin = createServer((_req, res) => void hung.add(res));
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  t.after(() => {
    for (const res of hung) res.destroy();
    origin.close();
  });
  const verge = new Verge({ modules: true, script: `export default { fetch: (req) => fetch(req) }`, upstream: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` });
  t.after(() => verge.dispose());
  const ac = new AbortController();
  const pending = verge.dispatchFetch("http://site.test/", { signal: ac.signal });
  const deadline = Date.now() + 10_000;
  while (hung.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(hung.size, 1, "the request reached the origin");
  ac.abort();
  await assert.rejects(pending, { name: "AbortError" });
});

test("KV in memory survives a setOptions that changes outbound (a new child process), with metadata and expiration, as Miniflare keeps KV across setOptions", async (t) => {
  const W = `export default { async fetch(req, env) { const r = await env.NS.getWithMetadata("k"); return new Response(JSON.stringify([r.value, r.metadata, (await env.NS.list()).keys.length])); } }`;
  const options = { modules: true, script: W, kvNamespaces: ["NS"] };
  const verge = new Verge(options as VergeOptions);
  t.after(() => verge.dispose());
  const ns = await verge.getKVNamespace("NS");
  const expiration = Math.floor(Date.now() / 1000) + 3600;
  await ns.put("k", "kept", { metadata: { by: "test" }, expiration });
  for (let i = 0; i < 3; i++) await ns.put(`other-${i}`, new Uint8Array([i, 255]));
  await verge.setOptions({ ...options, outbound: { allowPrivateAddresses: true } } as VergeOptions);
  assert.equal(await (await verge.dispatchFetch("http://localhost/")).text(), JSON.stringify(["kept", { by: "test" }, 4]));
  const after = await verge.getKVNamespace("NS");
  assert.equal((await after.list({ prefix: "k" })).keys[0]?.expiration, expiration);
  assert.deepEqual([...new Uint8Array((await after.get("other-2", "arrayBuffer"))!)], [2, 255]);
});
