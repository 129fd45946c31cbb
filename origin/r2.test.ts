/**
 * R2 at the registry: the tenant and node API (origin/routes/r2.ts) over the
 * registry's store (origin/r2.ts): any key (empty, with "/", non-ASCII), metadata
 * in headers, ranges and conditionals, list pages, deletes that leave no chunks,
 * the size cap, scopes (r2; admin and node imply it; kv does not), other tenants
 * 404, nothing in the feed; and `config.r2Buckets` validation.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { R2_LIMITS } from "../src/shared/r2-rules.ts";
import { R2_HEADERS, decodeHeaderJson, encodeHeaderJson } from "../src/shared/r2-wire.ts";
import { createOriginApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { createRegistryR2 } from "./r2.ts";
import { createSecretBox } from "./secrets.ts";
import { openLmdbStore } from "./store/lmdb.ts";
import type { Store } from "./store/store.ts";
import { validateConfig } from "./validate/config.ts";

const ADMIN = "r2-test-admin-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "verge-origin-r2-"));
let store: Store;
let app: ReturnType<typeof createOriginApp>;
const tokens: Record<string, string> = {};

async function call(method: string, path: string, o: { token?: string; body?: string | Uint8Array; json?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${o.token ?? ADMIN}`, ...o.headers };
  let body = o.body;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers["content-type"] = "application/json";
  }
  const res = await app.request(path, { method, headers, ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> | string }) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

before(async () => {
  store = openLmdbStore({ path: dir });
  await bootstrap(store, { adminToken: ADMIN });
  app = createOriginApp({ store, secrets: createSecretBox("r2-test-key") });
  for (const t of ["acme", "other"]) assert.equal((await call("POST", "/v1/tenants", { json: { name: t } })).status, 201);
  const token = async (tenant: string | null, scopes: string[]) => (await call("POST", "/v1/tokens", { json: { tenant, scopes, name: scopes.join("+") } })).json.token as string;
  tokens.r2 = await token("acme", ["r2"]);
  tokens.kv = await token("acme", ["kv"]);
  tokens.other = await token("other", ["r2"]);
  tokens.node = await token(null, ["node"]);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const B = "/v1/tenants/acme/r2/photos";
const obj = (key: string) => `${B}/object?key=${encodeURIComponent(key)}`;

test("any key round-trips with its metadata; ranges, conditionals and HEAD-by-metadata; the bucket is listed from its first put", async () => {
  const start = (await call("GET", "/v1/health")).json.seq;
  for (const key of ["", "a/b/c.txt", "é ✓ 𝄞"]) {
    const put = await call("PUT", obj(key), { token: tokens.r2, body: `body of ${key}`, headers: { [R2_HEADERS.put]: encodeHeaderJson({ httpMetadata: { contentType: "text/x-a" }, customMetadata: { who: "é" } }) } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.object.key, key);
    const got = await call("GET", obj(key), { token: tokens.node });
    assert.equal(got.status, 200);
    assert.equal(got.text, `body of ${key}`);
    assert.equal(got.headers.get("content-type"), "text/x-a");
    assert.deepEqual((decodeHeaderJson(R2_HEADERS.object, got.headers.get(R2_HEADERS.object)) as { customMetadata: unknown }).customMetadata, { who: "é" });
  }
  const part = await call("GET", obj("a/b/c.txt"), { token: tokens.r2, headers: { [R2_HEADERS.get]: encodeHeaderJson({ range: { suffix: 5 } }) } });
  assert.equal(part.status, 206);
  assert.equal(part.text, "c.txt");
  assert.equal(part.headers.get(R2_HEADERS.range), "12,5");
  const head = await call("GET", `${obj("a/b/c.txt")}&metadata`, { token: tokens.r2 });
  const failed = await call("GET", obj("a/b/c.txt"), { token: tokens.r2, headers: { [R2_HEADERS.get]: encodeHeaderJson({ onlyIf: { etagDoesNotMatch: [head.json.object.etag] } }) } });
  assert.equal(failed.status, 412);
  assert.equal(failed.text, "");
  const bad = await call("GET", obj("a/b/c.txt"), { token: tokens.r2, headers: { [R2_HEADERS.get]: encodeHeaderJson({ range: { offset: 100 } }) } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.message, "get: The requested range is not satisfiable (10039)");
  assert.equal((await call("GET", obj("absent"), { token: tokens.r2 })).status, 404);
  // A plain PUT with only a content-type works for a tenant's scripts.
  const simple = await call("PUT", obj("plain.txt"), { token: tokens.r2, body: "p", headers: { "content-type": "text/plain" } });
  assert.equal(simple.json.object.httpMetadata.contentType, "text/plain");
  assert.deepEqual((await call("GET", "/v1/tenants/acme/r2", { token: tokens.r2 })).json.buckets.map((b: { name: string }) => b.name), ["photos"]);
  assert.equal((await call("GET", "/v1/health")).json.seq, start, "R2 writes are not in the feed");
});

test("list pages with prefix, delimiter, cursor and include; delete one and many", async () => {
  const page1 = await call("GET", `${B}/objects?prefix=a/&delimiter=/&limit=1`, { token: tokens.r2 });
  assert.deepEqual([page1.json.objects.length, page1.json.delimitedPrefixes, page1.json.truncated], [0, ["a/b/"], false]);
  const all = await call("GET", `${B}/objects?include=customMetadata&limit=2`, { token: tokens.r2 });
  assert.deepEqual(all.json.objects.map((o: { key: string }) => o.key), ["", "a/b/c.txt"]);
  assert.deepEqual(all.json.objects[0].customMetadata, { who: "é" });
  assert.equal(all.json.truncated, true);
  const rest = await call("GET", `${B}/objects?cursor=${encodeURIComponent(all.json.cursor)}`, { token: tokens.r2 });
  assert.deepEqual(rest.json.objects.map((o: { key: string }) => o.key), ["plain.txt", "é ✓ 𝄞"]);
  assert.equal((await call("GET", `${B}/objects?limit=0`, { token: tokens.r2 })).json.error.message, "list: MaxKeys params must be positive integer <= 1000. (10022)");
  assert.equal((await call("DELETE", obj(""), { token: tokens.r2 })).status, 200);
  assert.equal((await call("POST", `${B}/delete`, { token: tokens.node, json: { keys: ["a/b/c.txt", "plain.txt", "é ✓ 𝄞", "absent"] } })).status, 200);
  assert.deepEqual((await call("GET", `${B}/objects`, { token: tokens.r2 })).json.objects, []);
  assert.equal(store.read((tx) => tx.range("r2-chunks", { prefix: "" }).length), 0, "deleted objects leave no chunks");
});

test("scopes: r2, admin and node may; kv may not; another tenant's token gets 404; bad names and keys are 400", async () => {
  assert.equal((await call("GET", `${B}/objects`, { token: tokens.kv })).status, 403);
  assert.equal((await call("GET", `${B}/objects`)).status, 200);
  assert.equal((await call("GET", `${B}/objects`, { token: tokens.other })).status, 404);
  assert.equal((await call("GET", "/v1/tenants/acme/r2/x/objects", { token: tokens.r2 })).json.error.code, "ERR_INVALID_NAME");
  assert.equal((await call("PUT", obj("k".repeat(1025)), { token: tokens.r2, body: "x" })).json.error.message, "put: The specified object name is not valid. (10020)");
  assert.equal((await call("PUT", `${B}/object`, { token: tokens.r2, body: "x" })).status, 400);
  assert.equal((await call("PUT", obj("k"), { token: tokens.r2, body: "x", headers: { [R2_HEADERS.put]: "not json" } })).status, 400);
});

test("the registry's store: objects in chunks, the size cap refuses with 100100 and keeps nothing", async () => {
  const r2 = createRegistryR2(store, { maxObjectBytes: R2_LIMITS.chunkBytes + 10 });
  const b = r2.bucket("acme", "capped");
  const fits = new Uint8Array(R2_LIMITS.chunkBytes + 10).fill(3);
  assert.equal((await b.put("fits", fits, { httpMetadata: {}, customMetadata: {}, storageClass: "Standard" }))!.size, fits.length);
  await assert.rejects(b.put("over", new Uint8Array(fits.length + 1), { httpMetadata: {}, customMetadata: {}, storageClass: "Standard" }), /\(100100\)$/);
  assert.equal(await b.head("over"), null);
  const got = await b.get("fits", { range: { offset: R2_LIMITS.chunkBytes - 2, length: 5 } });
  const parts: Uint8Array[] = [];
  for await (const c of got!.body!) parts.push(c);
  assert.deepEqual(Buffer.concat(parts), Buffer.alloc(5, 3));
  await b.delete(["fits"]);
  assert.equal(store.read((tx) => tx.range("r2-chunks", { prefix: "" }).length), 0);
});

test("config.r2Buckets: bucket names as R2 names them, a binding bound once", () => {
  assert.deepEqual(validateConfig({ r2Buckets: { FILES: "app-files" } }).config.r2Buckets, { FILES: "app-files" });
  const { diagnostics } = validateConfig({ env: { X: "1" }, kvNamespaces: { K: "ns" }, r2Buckets: { A: "Bad_Name", X: "fine-name", K: "also-fine", "1bad": "ok-name" } });
  const byPath = Object.fromEntries(diagnostics.list.map((d) => [d.path, d.message]));
  assert.match(byPath["config.r2Buckets.A"]!, /expected an R2 bucket name/);
  assert.match(byPath["config.r2Buckets.X"]!, /bound once/);
  assert.match(byPath["config.r2Buckets.K"]!, /bound once/);
  assert.ok(Object.keys(byPath).some((p) => p.startsWith("config.r2Buckets") && p.includes("1bad")));
  assert.equal(validateConfig({}).config.r2Buckets, undefined);
});
