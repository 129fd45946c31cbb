/**
 * R2 in a fleet, over real HTTP: a registry and two edge nodes. A function's
 * R2 binding runs every operation at the registry (the bucket is central, as in
 * Cloudflare): an object put through node A is read through node B at once,
 * bodies stream both ways, R2's errors reach the function with R2's message,
 * the tenant's API sees the same bucket, and a registry that is down fails the
 * call with an error that says so. Multipart uploads run there too.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startFleet, type Fleet } from "../helpers/fleet.ts";

const HOST = "files.example.com";
const WORKER = `export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    const key = u.searchParams.get("k");
    try {
      if (u.pathname === "/put") {
        const o = await env.FILES.put(key, request.body, { httpMetadata: request.headers, customMetadata: { from: u.searchParams.get("node") } });
        return Response.json({ size: o.size, etag: o.etag });
      }
      if (u.pathname === "/get") {
        const o = await env.FILES.get(key, { range: request.headers, onlyIf: request.headers });
        if (o === null) return new Response("none", { status: 404 });
        const headers = new Headers({ etag: o.httpEtag, "x-custom": JSON.stringify(o.customMetadata) });
        o.writeHttpMetadata(headers);
        if (!("body" in o)) return new Response(null, { status: 304, headers });
        return new Response(o.body, { status: o.range.length < o.size ? 206 : 200, headers });
      }
      if (u.pathname === "/digest") {
        const o = await env.FILES.get(key);
        let n = 0;
        const h = [];
        for await (const c of o.body) { n += c.byteLength; h.push(c); }
        const all = new Uint8Array(n);
        let at = 0;
        for (const c of h) { all.set(c, at); at += c.byteLength; }
        const d = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
        return new Response([...d].map((b) => b.toString(16).padStart(2, "0")).join(""));
      }
      if (u.pathname === "/bad-md5") return Response.json(await env.FILES.put(key, "x", { md5: "00000000000000000000000000000000" }));
      if (u.pathname === "/list") {
        const r = await env.FILES.list({ prefix: u.searchParams.get("prefix") ?? undefined, delimiter: "/", include: ["customMetadata"] });
        return Response.json({ keys: r.objects.map((o) => [o.key, o.customMetadata]), prefixes: r.delimitedPrefixes, truncated: r.truncated });
      }
      if (u.pathname === "/delete") { await env.FILES.delete(key.split(",")); return Response.json(await env.FILES.head(key.split(",")[0])); }
      if (u.pathname === "/head") return Response.json(await env.FILES.head(key));
      if (u.pathname === "/multipart") {
        const up = await env.FILES.createMultipartUpload(key, { httpMetadata: { contentType: "x/parts" } });
        const first = await up.uploadPart(1, new Uint8Array(5 * 1024 * 1024).fill(7));
        const resumed = env.FILES.resumeMultipartUpload(key, up.uploadId);
        const second = await resumed.uploadPart(2, "the end");
        const o = await resumed.complete([first, second]);
        return Response.json({ size: o.size, etag: o.etag });
      }
      return new Response("?", { status: 404 });
    } catch (e) {
      return new Response(e.name + ": " + e.message, { status: 500 });
    }
  },
};
`;

let fleet: Fleet;
before(async () => {
  fleet = await startFleet({ nodes: 2 });
  await fleet.publish("files-app", WORKER, { r2Buckets: { FILES: "app-files" }, cpuMs: 2_000 });
  await fleet.distribution("site", { hostnames: [HOST], origins: [{ id: "web", url: "http://127.0.0.1:9" }], defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "files-app", alias: "live" } } }, behaviors: [] });
  await fleet.waitApplied();
});
after(() => fleet?.close());

const q = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;

test("an object put through node A is read through node B at once: metadata, ranges, conditionals, a streamed body", async () => {
  const text = "hello from node A";
  const put = await fleet.get(0, HOST, q("/put", { k: "docs/hello.txt", node: "a" }), { method: "PUT", body: text, headers: { "content-type": "text/plain" } });
  assert.equal(put.status, 200, put.body);
  const { etag, size } = JSON.parse(put.body);
  assert.equal(size, text.length);
  assert.equal(etag, createHash("md5").update(text).digest("hex"));

  const got = await fleet.get(1, HOST, q("/get", { k: "docs/hello.txt" }));
  assert.equal(got.status, 200, got.body);
  assert.equal(got.body, text);
  assert.equal(got.headers["content-type"], "text/plain");
  assert.equal(got.headers["x-custom"], '{"from":"a"}');
  const part = await fleet.get(1, HOST, q("/get", { k: "docs/hello.txt" }), { headers: { range: "bytes=6-9" } });
  assert.equal(part.status, 206);
  assert.equal(part.body, "from");
  const same = await fleet.get(1, HOST, q("/get", { k: "docs/hello.txt" }), { headers: { "if-none-match": `"${etag}"` } });
  assert.equal(same.status, 304);
  assert.equal((await fleet.get(1, HOST, q("/get", { k: "absent" }))).status, 404);

  // 1 MiB through node B and back out of node A: many chunks each way.
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
  const bigPut = await fleet.get(1, HOST, q("/put", { k: "blobs/big.bin", node: "b" }), { method: "PUT", body: big });
  assert.equal(JSON.parse(bigPut.body).size, big.length, bigPut.body);
  assert.equal((await fleet.get(0, HOST, q("/digest", { k: "blobs/big.bin" }))).body, createHash("sha256").update(big).digest("hex"));
});

test("list with a delimiter, delete, and R2's errors with R2's message, through the nodes", async () => {
  await fleet.get(0, HOST, q("/put", { k: "docs/a/1", node: "a" }), { method: "PUT", body: "1" });
  const listed = JSON.parse((await fleet.get(1, HOST, q("/list", { prefix: "docs/" }))).body);
  assert.deepEqual(listed, { keys: [["docs/hello.txt", { from: "a" }]], prefixes: ["docs/a/"], truncated: false });
  const bad = await fleet.get(0, HOST, q("/bad-md5", { k: "x" }));
  assert.equal(bad.status, 500);
  assert.match(bad.body, /^Error: put: The MD5 checksum you specified did not match what we received\.\nYou provided a MD5 checksum with value: 0{32}\nActual MD5 was: 9dd4e461268c8034f5c8564e155c67a6 \(10037\)$/);
  const deleted = await fleet.get(1, HOST, q("/delete", { k: "docs/a/1,absent" }));
  assert.equal(deleted.body, "null");
  assert.equal((await fleet.get(0, HOST, q("/head", { k: "docs/a/1" }))).body, "null");
});

test("a multipart upload through node A (a part resumed by id) is one object on node B", async () => {
  const r = await fleet.get(0, HOST, q("/multipart", { k: "parts.bin" }));
  assert.equal(r.status, 200, r.body);
  const { size, etag } = JSON.parse(r.body);
  assert.equal(size, 5 * 1024 * 1024 + 7);
  const md5 = (b: Buffer) => createHash("md5").update(b).digest();
  assert.equal(etag, `${createHash("md5").update(Buffer.concat([md5(Buffer.alloc(5 * 1024 * 1024, 7)), md5(Buffer.from("the end"))])).digest("hex")}-2`);
  const tail = await fleet.get(1, HOST, q("/get", { k: "parts.bin" }), { headers: { range: "bytes=-9" } });
  assert.equal(tail.status, 206);
  assert.equal(tail.body, "\x07\x07the end");
  assert.equal(tail.headers["content-type"], "x/parts");
});

test("the tenant's API sees the same bucket; other tenants' tokens do not", async () => {
  const buckets = await fleet.registry.call("GET", `/v1/tenants/${fleet.tenant}/r2`, { token: fleet.tenantToken });
  assert.deepEqual(buckets.body.buckets.map((b: { name: string }) => b.name), ["app-files"]);
  const obj = await fleet.registry.call("GET", `/v1/tenants/${fleet.tenant}/r2/app-files/object?key=${encodeURIComponent("docs/hello.txt")}`, { token: fleet.tenantToken });
  assert.equal(obj.status, 200);
  assert.equal(obj.body, "hello from node A");
  const put = await fleet.registry.call("PUT", `/v1/tenants/${fleet.tenant}/r2/app-files/object?key=seeded`, { token: fleet.tenantToken, body: new TextEncoder().encode("by the tenant"), headers: { "content-type": "text/x-seed" } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const viaNode = await fleet.get(0, HOST, q("/get", { k: "seeded" }));
  assert.equal(viaNode.body, "by the tenant");
  assert.equal(viaNode.headers["content-type"], "text/x-seed");
  const other = await fleet.registry.tenant("other-co", ["admin"]);
  const refused = await fleet.registry.call("GET", `/v1/tenants/${fleet.tenant}/r2/app-files/object?key=seeded`, { token: other });
  assert.equal(refused.status, 404);
  const badName = await fleet.registry.call("GET", `/v1/tenants/${fleet.tenant}/r2/Bad_Name/objects`, { token: fleet.tenantToken });
  assert.equal(badName.status, 400);
});

test("with the registry down, an R2 call fails with an error saying so; it works again once the registry is back", async () => {
  await fleet.stopRegistry();
  try {
    const down = await fleet.get(0, HOST, q("/head", { k: "seeded" }));
    assert.equal(down.status, 500);
    assert.match(down.body, /^Error: R2 head: the registry could not be reached \(.*\); the bucket "app-files" is kept there, so R2 is unavailable until it is back$/);
  } finally {
    await fleet.restartRegistry();
  }
  const back = await fleet.get(0, HOST, q("/head", { k: "seeded" }));
  assert.equal(JSON.parse(back.body).key, "seeded");
});
