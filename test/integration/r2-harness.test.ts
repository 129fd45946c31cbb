/**
 * R2 in the harness: `r2Buckets`, `r2Persist`, `r2MaxObjectBytes`, `getR2Bucket`; bodies
 * streamed both ways under a heap smaller than the object; the object size cap and the
 * per-invocation operation cap; the options' errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Verge, type R2Bucket } from "../../src/index.ts";

const SERVE = `export default { async fetch(request, env) {
  const url = new URL(request.url);
  const key = url.pathname.slice(1);
  if (request.method === "PUT") {
    const o = await env.B.put(key, request.body, { httpMetadata: request.headers, customMetadata: { via: "worker" } });
    return Response.json({ size: o.size, etag: o.etag });
  }
  const o = await env.B.get(key, { range: request.headers, onlyIf: request.headers });
  if (o === null) return new Response("missing", { status: 404 });
  const headers = new Headers({ etag: o.httpEtag });
  o.writeHttpMetadata(headers);
  if (!("body" in o)) return new Response(null, { status: 304, headers });
  return new Response(o.body, { status: o.range && o.range.length < o.size ? 206 : 200, headers });
} };`;

test("getR2Bucket seeds what the function serves (metadata, ranges, conditionals) and reads what it stores", async (t) => {
  const verge = new Verge({ modules: true, script: SERVE, r2Buckets: { B: "assets" } });
  t.after(() => verge.dispose());
  const bucket: R2Bucket = await verge.getR2Bucket("B");
  const seeded = await bucket.put("logo.svg", "<svg/>", { httpMetadata: { contentType: "image/svg+xml", cacheControl: "max-age=60" } });
  assert.ok(seeded !== null);

  const res = await verge.dispatchFetch("http://x.test/logo.svg");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "image/svg+xml");
  assert.equal(res.headers.get("cache-control"), "max-age=60");
  assert.equal(res.headers.get("etag"), seeded.httpEtag);
  assert.equal(await res.text(), "<svg/>");
  const part = await verge.dispatchFetch("http://x.test/logo.svg", { headers: { range: "bytes=1-3" } });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), "svg");
  const unchanged = await verge.dispatchFetch("http://x.test/logo.svg", { headers: { "if-none-match": seeded.httpEtag } });
  assert.equal(unchanged.status, 304);
  assert.equal((await verge.dispatchFetch("http://x.test/none")).status, 404);

  const put = await verge.dispatchFetch("http://x.test/notes.txt", { method: "PUT", body: "from a request", headers: { "content-type": "text/plain" } });
  assert.deepEqual(await put.json(), { size: 14, etag: createHash("md5").update("from a request").digest("hex") });
  const stored = await bucket.get("notes.txt");
  assert.ok(stored !== null && "body" in stored);
  assert.equal(stored.httpMetadata.contentType, "text/plain");
  assert.deepEqual(stored.customMetadata, { via: "worker" });
  assert.equal(await stored.text(), "from a request");
  const env = await verge.getBindings<{ B: R2Bucket }>();
  assert.deepEqual((await env.B.list()).objects.map((o) => o.key), ["logo.svg", "notes.txt"]);
  await assert.rejects(verge.getR2Bucket("NOPE"), (e: Error & { code?: string }) => e.code === "ERR_INVALID_OPTIONS" && /r2Buckets declares \[B\]/.test(e.message));
});

test("r2Persist keeps objects across instances; without it they last as long as the instance (setOptions included)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-r2-persist-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = new Verge({ modules: true, script: SERVE, r2Buckets: ["B"], r2Persist: dir });
  await (await first.getR2Bucket("B")).put("kept", "yes");
  await first.dispose();
  const second = new Verge({ modules: true, script: SERVE, r2Buckets: ["B"], r2Persist: dir });
  t.after(() => second.dispose());
  assert.equal(await (await second.dispatchFetch("http://x.test/kept")).text(), "yes");

  const scratch = new Verge({ modules: true, script: SERVE, r2Buckets: ["B"] });
  await (await scratch.getR2Bucket("B")).put("temp", "1");
  await scratch.setOptions({ modules: true, script: SERVE, r2Buckets: ["B"], bindings: { V: "2" } });
  assert.equal(await (await scratch.dispatchFetch("http://x.test/temp")).text(), "1");
  await scratch.dispose();
  const fresh = new Verge({ modules: true, script: SERVE, r2Buckets: ["B"] });
  t.after(() => fresh.dispose());
  assert.equal((await fresh.dispatchFetch("http://x.test/temp")).status, 404);
});

const STREAM = `export default { async fetch(request, env) {
  const size = Number(new URL(request.url).searchParams.get("size"));
  const mode = new URL(request.url).pathname;
  if (mode === "/write") {
    let sent = 0;
    const body = new ReadableStream({ pull(c) {
      if (sent >= size) return c.close();
      const part = new Uint8Array(Math.min(256 * 1024, size - sent)).fill(sent % 251);
      sent += part.length;
      c.enqueue(part);
    } });
    const o = await env.B.put("big", body);
    return new Response(String(o.size));
  }
  const o = await env.B.get("big");
  if (mode === "/whole") return new Response(String((await o.arrayBuffer()).byteLength));
  let n = 0;
  for await (const chunk of o.body) n += chunk.byteLength;
  return new Response(String(n));
} };`;

test("a body larger than the function's heap streams into R2 and back out; reading it whole does not fit", async (t) => {
  const size = 48 * 1024 * 1024;
  const verge = new Verge({ modules: true, script: STREAM, r2Buckets: ["B"], limits: { memoryMb: 16, cpuMs: 10_000 } });
  t.after(() => verge.dispose());
  assert.equal(await (await verge.dispatchFetch(`http://x.test/write?size=${size}`)).text(), String(size));
  assert.equal((await (await verge.getR2Bucket("B")).head("big"))?.size, size);
  assert.equal(await (await verge.dispatchFetch("http://x.test/read")).text(), String(size));
  // The control: the same object as one ArrayBuffer is over the 16 MB heap.
  await assert.rejects(verge.dispatchFetch("http://x.test/whole"), (e: Error & { code?: string }) => e.code === "ERR_MEMORY_LIMIT");
});

test("r2MaxObjectBytes caps a streamed put with R2's 100100 error; 1,000 operations per invocation", async (t) => {
  const script = `export default { async fetch(request, env) {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/big") await env.B.put("big", new Response(new Uint8Array(2000)).body);
      else for (let i = 0; i < 1001; i++) await env.B.head("k" + i);
      return new Response("done");
    } catch (e) { return new Response(e.name + ": " + e.message); }
  } };`;
  const verge = new Verge({ modules: true, script, r2Buckets: ["B"], r2MaxObjectBytes: 1000, limits: { cpuMs: 5_000 } });
  t.after(() => verge.dispose());
  assert.equal(await (await verge.dispatchFetch("http://x.test/big")).text(), "Error: put: Your proposed upload exceeds the maximum allowed object size. (100100)");
  assert.equal(await (await verge.getR2Bucket("B")).head("big"), null);
  await assert.rejects((await verge.getR2Bucket("B")).put("big", new Uint8Array(1001)), /\(100100\)/);
  assert.match(await (await verge.dispatchFetch("http://x.test/ops")).text(), /^Error: B\.head\(\): too many binding operations in one invocation; the limit is 1000/);
});

test("bad R2 options are reported at construction, each with its path", () => {
  const bad = [
    [{ r2Buckets: 5 }, /r2Buckets: expected an array of binding names or \{ BINDING: "bucket-name" \}, found number 5/],
    [{ r2Buckets: { B: "" } }, /r2Buckets\.B: expected a bucket name string/],
    [{ r2Buckets: ["B"], kvNamespaces: ["B"] }, /r2Buckets\.B: the binding B is also declared as a kv binding/],
    [{ r2Buckets: ["B"], r2Persist: 3 }, /r2Persist: expected a boolean or a directory path/],
    [{ r2Buckets: ["B"], r2MaxObjectBytes: -1 }, /r2MaxObjectBytes: expected a number of bytes/],
    [{ r2Buckets: ["not an identifier"] }, /r2Buckets\.not an identifier: expected a JavaScript identifier/],
  ] as const;
  for (const [options, message] of bad) {
    assert.throws(() => new Verge({ modules: true, script: SERVE, ...(options as object) }), (e: Error & { code?: string }) => e.code === "ERR_INVALID_OPTIONS" && message.test(e.message), JSON.stringify(options));
  }
});
