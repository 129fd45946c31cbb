/**
 * Workers KV from inside the isolate, through the harness (Miniflare 4's
 * kvNamespaces / kvPersist / getKVNamespace): every method and option, each
 * limit's error, expiration, copies across the boundary, persistence across two
 * Verge instances. Expiration needs 60 s in the API, so the short-wait test seeds
 * an entry with a 1 s expiration straight into the LMDB directory (storage level)
 * and watches the function stop seeing it.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Verge } from "../../src/index.ts";
import { createLmdbKvStorage } from "../../src/runtime/bindings/kv/lmdb-storage.ts";
import { harnessChildren, openFiles } from "../helpers/children.ts";

/** A Worker that runs the posted body as an async function of `env`, answering { ok } or { err: { name, message } }. */
const EVAL_WORKER = `export default { async fetch(req, env) {
  const AsyncFunction = (async () => {}).constructor;
  try { return Response.json({ ok: await new AsyncFunction("env", await req.text())(env) ?? null }); }
  catch (e) { return Response.json({ err: { name: e.name, message: e.message } }); }
} }`;

const dir = mkdtempSync(join(tmpdir(), "verge-kv-conf-"));
const verge = new Verge({ modules: true, script: EVAL_WORKER, kvNamespaces: { KV: "main-ns", OTHER: "other-ns" }, limits: { cpuMs: 2_000 } });
after(async () => {
  await verge.dispose();
  rmSync(dir, { recursive: true, force: true });
});

type Out = { ok?: unknown; err?: { name: string; message: string } };
async function run(code: string, v: Verge = verge): Promise<Out> {
  return (await (await v.dispatchFetch("http://kv.test/", { method: "POST", body: code })).json()) as Out;
}
async function ok(code: string, v?: Verge): Promise<unknown> {
  const r = await run(code, v);
  assert.equal(r.err, undefined, `unexpected error: ${JSON.stringify(r.err)}`);
  return r.ok;
}
async function fails(code: string, name: string, ...parts: string[]): Promise<string> {
  const r = await run(code);
  assert.ok(r.err, `expected ${name}, got ${JSON.stringify(r.ok)}`);
  assert.equal(r.err.name, name, r.err.message);
  for (const p of parts) assert.ok(r.err.message.includes(p), `${JSON.stringify(r.err.message)} should include ${JSON.stringify(p)}`);
  return r.err.message;
}

test("get in each type, with options objects and cacheTtl; missing keys are null", async () => {
  await ok(`await env.KV.put("t", '{"a":[1,2]}')`);
  assert.deepEqual(
    await ok(`const kv = env.KV; return [
      await kv.get("t"), await kv.get("t", "text"), await kv.get("t", "json"), await kv.get("t", { type: "json", cacheTtl: 60 }),
      [...new Uint8Array(await kv.get("t", "arrayBuffer"))].length, (await kv.get("t", "arrayBuffer")) instanceof ArrayBuffer,
      await new Response(await kv.get("t", { type: "stream" })).text(), (await kv.get("t", "stream")) instanceof ReadableStream,
      await kv.get("nope"), await kv.get("nope", "json"), await kv.get("nope", "stream"), await kv.get("t", { cacheTtl: 30 })]`),
    ['{"a":[1,2]}', '{"a":[1,2]}', { a: [1, 2] }, { a: [1, 2] }, 11, true, '{"a":[1,2]}', true, null, null, null, '{"a":[1,2]}'],
  );
  await fails(`return env.KV.get("t", "blob")`, "TypeError", 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".');
  await fails(`return env.KV.get("t", { type: "nope" })`, "TypeError", "Unknown response type");
  await fails(`return env.KV.get()`, "TypeError", "parameter 1 is not of type 'string or Array'");
  await fails(`return env.KV.get("t", "json").then(() => env.KV.put("bad", "x{")).then(() => env.KV.get("bad", "json"))`, "SyntaxError");
});

test("getWithMetadata: value and metadata, null metadata, missing key", async () => {
  await ok(`await env.KV.put("m", "v", { metadata: { tag: "x", n: [1] } }); await env.KV.put("nm", "v");`);
  assert.deepEqual(await ok(`return [await env.KV.getWithMetadata("m"), await env.KV.getWithMetadata("nm", "json").catch(e => e.name), await env.KV.getWithMetadata("nm"), await env.KV.getWithMetadata("missing")]`), [
    { value: "v", metadata: { tag: "x", n: [1] }, cacheStatus: null },
    "SyntaxError",
    { value: "v", metadata: null, cacheStatus: null },
    { value: null, metadata: null, cacheStatus: null },
  ]);
  assert.deepEqual(await ok(`const r = await env.KV.getWithMetadata("m", { type: "arrayBuffer" }); return [r.value.byteLength, r.metadata.tag]`), [1, "x"]);
});

test("put accepts strings, ArrayBuffer, views, ReadableStream and coerces primitives; refuses other objects", async () => {
  assert.deepEqual(
    await ok(`const kv = env.KV;
      await kv.put("s", "str");
      await kv.put("ab", new Uint8Array([104, 105]).buffer);
      await kv.put("view", new Uint8Array([120, 104, 105, 120]).subarray(1, 3));
      await kv.put("dv", new DataView(new Uint8Array([100, 118]).buffer));
      await kv.put("stream", new Response("streamed body").body);
      await kv.put("chunks", new ReadableStream({ start(c) { c.enqueue(new Uint8Array([97])); c.enqueue(new Uint8Array([98])); c.close(); } }));
      await kv.put("num", 42); await kv.put("nul", null); await kv.put("bool", true); await kv.put("empty", "");
      return Promise.all(["s", "ab", "view", "dv", "stream", "chunks", "num", "nul", "bool", "empty"].map((k) => kv.get(k)))`),
    ["str", "hi", "hi", "dv", "streamed body", "ab", "42", "null", "true", ""],
  );
  await fails(`return env.KV.put("o", { a: 1 })`, "TypeError", "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.");
  await fails(`return env.KV.put("o")`, "TypeError", "parameter 2");
  await fails(`return env.KV.put("o", "x", { metadata: () => 1 })`, "TypeError", "not serializable as JSON", '"o"');
  assert.equal(await ok(`return env.KV.get("o")`), null);
});

test("values cross as copies in both directions", async () => {
  assert.deepEqual(
    await ok(`const b = new Uint8Array([1, 2, 3]); const p = env.KV.put("copy", b); b[0] = 9; await p;
      const got = new Uint8Array(await env.KV.get("copy", "arrayBuffer")); got[1] = 9;
      return [...new Uint8Array(await env.KV.get("copy", "arrayBuffer"))]`),
    [1, 2, 3],
  );
});

test("delete removes a key; deleting a missing key is fine", async () => {
  assert.deepEqual(await ok(`await env.KV.put("d", "x"); const a = await env.KV.delete("d"); await env.KV.delete("never-there"); return [a ?? "undefined", await env.KV.get("d")]`), ["undefined", null]);
  await fails(`return env.KV.delete("")`, "TypeError", "Key name cannot be empty.");
});

test("list: prefix, limit, cursor pages, metadata and expiration, default and maximum limit of 1000", async () => {
  const r = (await ok(`const kv = env.OTHER;
    const exp = Math.floor(Date.now() / 1000) + 3600;
    for (const k of ["p/1", "p/2", "p/3", "q"]) await kv.put(k, k, k === "p/2" ? { metadata: { two: true }, expiration: exp } : undefined);
    const page1 = await kv.list({ prefix: "p/", limit: 2 });
    const page2 = await kv.list({ prefix: "p/", limit: 2, cursor: page1.cursor });
    return { exp, all: await kv.list(), page1, page2, none: await kv.list({ prefix: "zz" }), nullOpts: (await kv.list(null)).keys.length, strLimit: (await kv.list({ limit: "1" })).keys.length }`)) as Record<string, any>;
  assert.deepEqual(r.all, { keys: [{ name: "p/1" }, { name: "p/2", expiration: r.exp, metadata: { two: true } }, { name: "p/3" }, { name: "q" }], list_complete: true, cacheStatus: null });
  assert.equal(r.page1.list_complete, false);
  assert.equal(typeof r.page1.cursor, "string");
  assert.deepEqual(r.page1.keys.map((k: { name: string }) => k.name), ["p/1", "p/2"]);
  assert.deepEqual(r.page2, { keys: [{ name: "p/3" }], list_complete: true, cacheStatus: null });
  assert.deepEqual(r.none, { keys: [], list_complete: true, cacheStatus: null });
  assert.equal(r.nullOpts, 4);
  assert.equal(r.strLimit, 1);
  // 1001 keys: the default page is 1000 and the next page has the last one.
  const many = await verge.getKVNamespace("OTHER");
  await Promise.all(Array.from({ length: 997 }, (_, i) => many.put(`z/${String(i).padStart(4, "0")}`, "")));
  assert.deepEqual(await ok(`const a = await env.OTHER.list(); const b = await env.OTHER.list({ cursor: a.cursor, limit: 1000 }); return [a.keys.length, a.list_complete, b.keys.length, b.list_complete, b.keys[0].name]`), [1000, false, 1, true, "z/0996"]);
  await fails(`return env.OTHER.list({ limit: 1001 })`, "Error", "KV GET failed: 400 Invalid key_count_limit of 1001.", "less than 1000");
  await fails(`return env.OTHER.list({ limit: -1 })`, "Error", "Invalid key_count_limit of -1. Please specify an integer greater than 0.");
  await fails(`return env.OTHER.list({ prefix: "p".repeat(513) })`, "Error", "414 UTF-8 encoded length of 513 exceeds key length limit of 512.");
});

test("bulk get: up to 100 keys as a Map, text or json only, with metadata", async () => {
  await ok(`await env.KV.put("b1", '"one"', { metadata: { i: 1 } }); await env.KV.put("b2", "[2]");`);
  assert.deepEqual(await ok(`return [...await env.KV.get(["b1", "b2", "b-missing"])]`), [["b1", '"one"'], ["b2", "[2]"], ["b-missing", null]]);
  assert.deepEqual(await ok(`return [...await env.KV.get(["b1", "b2"], { type: "json" })]`), [["b1", "one"], ["b2", [2]]]);
  assert.deepEqual(await ok(`const m = await env.KV.getWithMetadata(["b1", "nope"], "json"); return [m instanceof Map, ...m]`), [true, ["b1", { value: "one", metadata: { i: 1 } }], ["nope", null]]);
  await fails(`return env.KV.get(["b1"], "arrayBuffer")`, "Error", 'KV GET_BULK failed: 400 "arrayBuffer" is not a valid type. Use "json" or "text"');
  await fails(`return env.KV.get([])`, "Error", "You must request a minimum of 1 key");
  await fails(`return env.KV.get(Array.from({ length: 101 }, (_, i) => "k" + i))`, "Error", "You can request a maximum of 100 keys");
  await fails(`await env.KV.put("notjson", "x"); return env.KV.get(["notjson"], "json")`, "Error", "At least one of the requested keys corresponds to a non-json value");
});

test("key limits: empty, '.', '..', over 512 UTF-8 bytes (named with the key)", async () => {
  await fails(`return env.KV.put("", "x")`, "TypeError", "Key name cannot be empty.");
  await fails(`return env.KV.get(".")`, "TypeError", '"." is not allowed as a key name.');
  await fails(`return env.KV.put("..", "x")`, "TypeError", '".." is not allowed as a key name.');
  await fails(`return env.KV.put("k".repeat(513), "x")`, "Error", "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.", '(key "kkkk');
  // 171 three-byte characters: 171 characters, 513 bytes.
  await fails(`return env.KV.get("€".repeat(171))`, "Error", "KV GET failed: 414 UTF-8 encoded length of 513");
  assert.equal(await ok(`await env.KV.put("€".repeat(170), "ok"); return env.KV.get("€".repeat(170))`), "ok");
});

test("value, metadata, expiration and cacheTtl limits", async () => {
  await fails(`return env.KV.put("big", new Uint8Array(25 * 1024 * 1024 + 1))`, "Error", "KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.", '(key "big")');
  await fails(
    `let n = 0; return env.KV.put("bigstream", new ReadableStream({ pull(c) { if (n++ < 26) c.enqueue(new Uint8Array(1024 * 1024)); else c.close(); } }))`,
    "Error",
    "Value length of 27262976 exceeds limit of 26214400.",
    '"bigstream"',
  );
  assert.equal(await ok(`await env.KV.put("max", new Uint8Array(25 * 1024 * 1024)); return (await env.KV.get("max", "arrayBuffer")).byteLength`), 25 * 1024 * 1024);
  await fails(`return env.KV.put("meta", "x", { metadata: "m".repeat(1023) })`, "Error", "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.", '"meta"');
  assert.equal(await ok(`await env.KV.put("meta", "x", { metadata: "m".repeat(1022) }); return (await env.KV.getWithMetadata("meta")).metadata.length`), 1022);
  await fails(`return env.KV.put("e", "x", { expirationTtl: 59 })`, "Error", "KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60.", '"e"');
  await fails(`return env.KV.put("e", "x", { expirationTtl: 0 })`, "Error", "Invalid expiration_ttl of 0. Please specify integer greater than 0.");
  await fails(`return env.KV.put("e", "x", { expirationTtl: "soon" })`, "Error", "Invalid expiration_ttl of 0.");
  await fails(`return env.KV.put("e", "x", { expiration: 1000 })`, "Error", "Invalid expiration of 1000. Please specify integer greater than the current number of seconds since the UNIX epoch.");
  await fails(`return env.KV.put("e", "x", { expiration: Math.floor(Date.now() / 1000) + 30 })`, "Error", "Expiration times must be at least 60 seconds in the future.", '"e"');
  await fails(`return env.KV.get("e", { cacheTtl: 29 })`, "Error", "KV GET failed: 400 Invalid cache_ttl of 29. Cache TTL must be at least 30.", '"e"');
  const r = (await ok(`const now = Math.floor(Date.now() / 1000);
    await env.KV.put("ttl", "x", { expirationTtl: 120.9 }); await env.KV.put("abs", "x", { expiration: now + 61 });
    const keys = (await env.KV.list()).keys.filter((k) => k.name === "ttl" || k.name === "abs");
    return { now, keys }`)) as { now: number; keys: Array<{ name: string; expiration: number }> };
  const byName = Object.fromEntries(r.keys.map((k) => [k.name, k.expiration]));
  assert.equal(byName.abs, r.now + 61);
  assert.ok(Math.abs(byName.ttl! - (r.now + 120)) <= 1, `ttl expiration ${byName.ttl} should be about ${r.now + 120}`);
});

test("1,000 KV operations per invocation, as Workers KV allows; the next one throws, and the next invocation starts again", async () => {
  await fails(`for (let i = 0; i < 1000; i++) await env.KV.get("k" + i); await env.OTHER.put("one-too-many", "x");`, "Error", "OTHER.put(): too many binding operations in one invocation; the limit is 1000");
  assert.equal(await ok(`await env.KV.put("fresh", "y"); return env.KV.get("fresh")`), "y");
  assert.equal(await ok(`return env.OTHER.get("one-too-many")`), null, "the refused put stored nothing");
});

test("getKVNamespace: the host seeds and reads the same namespace, with the same API and errors", async () => {
  const kv = await verge.getKVNamespace("KV");
  await kv.put("from-host", JSON.stringify({ host: true }), { metadata: { by: "test" } });
  assert.deepEqual(await ok(`return [await env.KV.get("from-host", "json"), (await env.KV.getWithMetadata("from-host")).metadata]`), [{ host: true }, { by: "test" }]);
  await ok(`await env.KV.put("from-fn", new Uint8Array([1, 2]))`);
  assert.deepEqual([...new Uint8Array((await kv.get("from-fn", "arrayBuffer"))!)], [1, 2]);
  assert.equal(await new Response(await kv.get("from-host", "stream")).text(), '{"host":true}');
  await kv.put("host-stream", new Blob(["a", "b"]).stream());
  assert.equal(await kv.get("host-stream"), "ab");
  assert.deepEqual((await kv.list({ prefix: "from-" })).keys.map((k) => k.name), ["from-fn", "from-host"]);
  await assert.rejects(kv.put("", "x"), { name: "TypeError", message: "Key name cannot be empty." });
  await assert.rejects(kv.put("x", "y", { expirationTtl: 1 }), (e: Error) => e.constructor === Error && /expiration_ttl of 1\. .*\(key "x"\)/.test(e.message));
  const env = await verge.getBindings<{ KV: typeof kv; OTHER: typeof kv }>();
  assert.equal(await env.KV.get("from-host", "text"), '{"host":true}');
  await assert.rejects(verge.getKVNamespace("NOPE"), { code: "ERR_INVALID_OPTIONS", message: /no KV namespace is bound as "NOPE"; kvNamespaces declares \[KV, OTHER\]/ });
  // Namespaces with different ids are separate.
  assert.equal(await (await verge.getKVNamespace("OTHER")).get("from-host"), null);
});

test("options: kvNamespaces and kvPersist are validated like every other option", () => {
  assert.throws(() => new Verge({ script: EVAL_WORKER, kvNamespaces: 5 as never }), { code: "ERR_INVALID_OPTIONS", message: /kvNamespaces: expected an array of binding names/ });
  assert.throws(() => new Verge({ script: EVAL_WORKER, kvNamespaces: { A: "" } }), { message: /kvNamespaces\.A: expected a namespace id string/ });
  assert.throws(() => new Verge({ script: EVAL_WORKER, kvPersist: 3 as never }), { message: /kvPersist: expected a boolean or a directory path/ });
  assert.throws(() => new Verge({ script: EVAL_WORKER, bindings: { A: "x" }, kvNamespaces: ["A"] }), { message: /kvNamespaces\.A: the binding A is also declared in bindings/ });
});

test("kvPersist: data survives into a second Verge; in-memory data does not; expired entries vanish", async () => {
  const path = join(dir, "persisted");
  const first = new Verge({ modules: true, script: EVAL_WORKER, kvNamespaces: ["CACHE"], kvPersist: path });
  await ok(`await env.CACHE.put("kept", "across instances", { metadata: { v: 1 } })`, first);
  await first.dispose();
  const memory = new Verge({ modules: true, script: EVAL_WORKER, kvNamespaces: ["CACHE"] });
  assert.equal(await ok(`return env.CACHE.get("kept")`, memory), null);
  await memory.dispose();

  // Seed an entry that expires in about a second, at the storage level (the API refuses under 60 s).
  const seed = createLmdbKvStorage({ path, namespace: "CACHE" });
  const expiration = Math.floor(Date.now() / 1000) + 1;
  await seed.put("short-lived", { value: new TextEncoder().encode("soon gone"), expiration });
  await seed.close();

  const second = new Verge({ modules: true, script: EVAL_WORKER, kvNamespaces: ["CACHE"], kvPersist: path });
  try {
    assert.deepEqual(await ok(`return env.CACHE.getWithMetadata("kept")`, second), { value: "across instances", metadata: { v: 1 }, cacheStatus: null });
    const seen = (await ok(`return [await env.CACHE.get("short-lived"), (await env.CACHE.list()).keys.map((k) => k.name)]`, second)) as [string | null, string[]];
    if (Date.now() < expiration * 1000) assert.deepEqual(seen, ["soon gone", ["kept", "short-lived"]]);
    const deadline = Date.now() + 2_500;
    while (Date.now() < expiration * 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await ok(`return [await env.CACHE.get("short-lived"), (await env.CACHE.list()).keys.map((k) => k.name), await env.CACHE.get(["short-lived"]).then((m) => m.get("short-lived"))]`, second), [null, ["kept"], null]);
    const host = await second.getKVNamespace("CACHE");
    assert.equal(await host.get("short-lived"), null);
  } finally {
    await second.dispose();
  }
});

test("KV that is not persisted survives its child process dying (as when a function aborts it), and goes with dispose()", async () => {
  const others = new Set(harnessChildren());
  const v = new Verge({ modules: true, script: EVAL_WORKER, kvNamespaces: ["NS"] });
  const own = () => harnessChildren().filter((pid) => !others.has(pid));
  try {
    await (await v.getKVNamespace("NS")).put("seeded", "by the test", { metadata: { from: "test" } });
    await ok(`await env.NS.put("written", "by the function")`, v);
    const [child] = own();
    assert.ok(child !== undefined, "the instance runs one child process");
    const store = openFiles(child).find((f) => f.includes("verge-kv-") && f.endsWith("data.mdb"));
    assert.ok(store !== undefined, `the child holds the instance's KV store open: ${openFiles(child).join(", ")}`);
    process.kill(child, "SIGKILL");
    // The call that finds the child gone fails; the next runs in a new child.
    await v.dispatchFetch("http://kv.test/", { method: "POST", body: "return 1" }).catch(() => {});
    assert.deepEqual(
      await ok(`return [await env.NS.getWithMetadata("seeded"), await env.NS.get("written"), (await env.NS.list()).keys.map((k) => k.name)]`, v),
      [{ value: "by the test", metadata: { from: "test" }, cacheStatus: null }, "by the function", ["seeded", "written"]],
    );
    assert.equal(own().length, 1);
    assert.notEqual(own()[0], child, "a new child process serves");
    await v.dispose();
    assert.equal(existsSync(dirname(store)), false, "dispose() removes the instance's KV directory");
  } finally {
    await v.dispose();
  }
});
