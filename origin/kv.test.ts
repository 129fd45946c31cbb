/**
 * Workers KV at the registry (issue 5): values, metadata, expiration by the
 * registry's clock, listing in byte order with cursors, the runtime's limits,
 * scopes (kv; admin and node imply it), other tenants 404, and every write as
 * a change in the feed (inline base64 when small, digest only when big), plus
 * the node-only export that a cold edge node pages through.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KV_INLINE_MAX_BYTES, type Change, type KvExportPage } from "../src/shared/protocol.ts";
import { createOriginApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { createSecretBox } from "./secrets.ts";
import { openLmdbStore } from "./store/lmdb.ts";
import type { Store } from "./store/store.ts";

const ADMIN = "kv-test-admin-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "verge-origin-kv-"));
let now = 1_800_000_000_000;
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
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, bytes, text, json };
}

before(async () => {
  store = openLmdbStore({ path: dir });
  await bootstrap(store, { adminToken: ADMIN });
  app = createOriginApp({ store, secrets: createSecretBox("kv-test-key"), now: () => now });
  for (const t of ["acme", "other"]) assert.equal((await call("POST", "/v1/tenants", { json: { name: t } })).status, 201);
  const token = async (tenant: string | null, scopes: string[]) => (await call("POST", "/v1/tokens", { json: { tenant, scopes, name: scopes.join("+") } })).json.token as string;
  tokens.kv = await token("acme", ["kv"]);
  tokens.read = await token("acme", ["read", "publish", "deploy"]);
  tokens.other = await token("other", ["kv"]);
  tokens.node = await token(null, ["node"]);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const V = "/v1/tenants/acme/kv/data/values/";
const otherReader = async () => (await call("POST", "/v1/tokens", { json: { tenant: "other", scopes: ["read"], name: "r" } })).json.token as string;
const feedSince = async (seq: number): Promise<Change[]> => (await call("GET", `/v1/feed?since=${seq}`, { token: tokens.node })).json.changes;
const head = async (): Promise<number> => (await call("GET", "/v1/health")).json.seq;

test("put, get with metadata and expiration headers, overwrite, delete; each write is one change in the feed", async () => {
  const start = await head();
  const put = await call("PUT", `${V}${encodeURIComponent("a/b é")}?expirationTtl=120`, { token: tokens.kv, body: "hello", headers: { "x-verge-kv-metadata": encodeURIComponent('{"who":"é"}') } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.seq, start + 1);
  const got = await call("GET", `${V}${encodeURIComponent("a/b é")}`, { token: tokens.kv });
  assert.equal(got.status, 200);
  assert.equal(got.text, "hello");
  assert.equal(decodeURIComponent(got.headers.get("x-verge-kv-metadata")!), '{"who":"é"}');
  assert.equal(got.headers.get("x-verge-kv-expiration"), String(now / 1000 + 120));
  assert.equal(got.headers.get("x-verge-seq"), String(start + 1));
  const [change] = await feedSince(start);
  assert.deepEqual(change, {
    seq: start + 1,
    tenant: "acme",
    kind: "kv-put",
    key: "data/a/b é",
    op: "put",
    value: { namespace: "data", key: "a/b é", digest: got.headers.get("x-verge-kv-digest"), size: 5, base64: Buffer.from("hello").toString("base64"), expiration: now / 1000 + 120, metadata: '{"who":"é"}' },
    at: change!.at,
  });
  // A raw slash in the path is part of the key too.
  assert.equal((await call("GET", `${V}a/b%20%C3%A9`, { token: tokens.kv })).text, "hello");
  const del = await call("DELETE", `${V}${encodeURIComponent("a/b é")}`, { token: tokens.kv });
  assert.equal(del.json.seq, start + 2);
  assert.equal((await call("GET", `${V}${encodeURIComponent("a/b é")}`, { token: tokens.kv })).status, 404);
  const changes = await feedSince(start + 1);
  assert.deepEqual(changes.map((c) => [c.kind, c.op, c.key, c.value]), [["kv-delete", "delete", "data/a/b é", undefined]]);
  // Deleting what is not there is not a change.
  assert.deepEqual((await call("DELETE", `${V}never`, { token: tokens.kv })).json, { seq: null });
  assert.equal(await head(), start + 2);
  const ns = await call("GET", "/v1/tenants/acme/kv", { token: tokens.kv });
  assert.deepEqual(ns.json.namespaces.map((n: { name: string }) => n.name), ["data"]);
});

test("a big value travels in the feed as its digest only; the bytes come by key", async () => {
  const start = await head();
  const big = new Uint8Array(KV_INLINE_MAX_BYTES + 1).fill(7);
  assert.equal((await call("PUT", `${V}big`, { token: tokens.kv, body: big })).status, 200);
  const [change] = await feedSince(start);
  assert.equal(change!.kind, "kv-put");
  const value = change!.value as { base64?: string; size: number; digest: string };
  assert.equal(value.base64, undefined);
  assert.equal(value.size, big.byteLength);
  const got = await call("GET", `${V}big`, { token: tokens.node });
  assert.equal(got.headers.get("x-verge-kv-digest"), value.digest);
  assert.deepEqual(got.bytes, big);
});

test("expiration is the registry clock's: the entry is gone at that second", async () => {
  assert.equal((await call("PUT", `${V}ttl?expiration=${now / 1000 + 60}`, { token: tokens.kv, body: "x" })).status, 200);
  now += 59_000;
  assert.equal((await call("GET", `${V}ttl`, { token: tokens.kv })).status, 200);
  now += 1_000;
  assert.equal((await call("GET", `${V}ttl`, { token: tokens.kv })).status, 404);
  assert.ok(!(await call("GET", "/v1/tenants/acme/kv/data/keys", { token: tokens.kv })).json.keys.some((k: { name: string }) => k.name === "ttl"));
});

test("list: prefix, limit and cursor, in UTF-8 byte order, metadata parsed", async () => {
  const L = "/v1/tenants/acme/kv/list/values/";
  for (const k of ["b", "a", "a/1", "a/2", "a/3", "\u{1F600}", "\uFFFD"]) {
    assert.equal((await call("PUT", L + encodeURIComponent(k), { token: tokens.kv, body: k, headers: k === "a/2" ? { "x-verge-kv-metadata": "[1]" } : {} })).status, 200);
  }
  const all = await call("GET", "/v1/tenants/acme/kv/list/keys", { token: tokens.kv });
  assert.deepEqual(all.json, { keys: ["a", "a/1", "a/2", "a/3", "b", "\uFFFD", "\u{1F600}"].map((name) => ({ name, ...(name === "a/2" ? { metadata: [1] } : {}) })), list_complete: true });
  const p1 = await call("GET", "/v1/tenants/acme/kv/list/keys?prefix=a/&limit=2", { token: tokens.kv });
  assert.deepEqual(p1.json.keys.map((k: { name: string }) => k.name), ["a/1", "a/2"]);
  assert.equal(p1.json.list_complete, false);
  const p2 = await call("GET", `/v1/tenants/acme/kv/list/keys?prefix=a/&limit=2&cursor=${p1.json.cursor}`, { token: tokens.kv });
  assert.deepEqual(p2.json, { keys: [{ name: "a/3" }], list_complete: true });
});

test("the runtime's limits, with its messages", async () => {
  const r = async (path: string, init: Parameters<typeof call>[2] = {}) => call("PUT", path, { token: tokens.kv, body: "v", ...init });
  const long = "k".repeat(513);
  const cases: Array<[Awaited<ReturnType<typeof call>>, number, RegExp]> = [
    [await r(`${V}${long}`), 400, /exceeds key length limit of 512/],
    [await r(`${V}k?expirationTtl=59`), 400, /Expiration TTL must be at least 60/],
    [await r(`${V}k?expiration=${now / 1000 + 10}`), 400, /at least 60 seconds in the future/],
    [await r(`${V}k`, { headers: { "x-verge-kv-metadata": `"${"x".repeat(1030)}"` } }), 400, /Metadata length of 1032 exceeds limit of 1024/],
    [await r(`${V}k`, { headers: { "x-verge-kv-metadata": "{nope" } }), 400, /not JSON/],
    [await r(`${V}k`, { body: new Uint8Array(25 * 1024 * 1024 + 1) }), 413, /over the limit of 26214400 bytes/],
    [await call("GET", "/v1/tenants/acme/kv/data/keys?limit=1001", { token: tokens.kv }), 400, /Invalid key_count_limit of 1001/],
    [await r("/v1/tenants/acme/kv/Bad.Name/values/k"), 400, /namespace name/],
  ];
  for (const [res, status, message] of cases) {
    assert.equal(res.status, status, res.text);
    assert.match(res.json.error.message, message);
  }
});

test("scopes: kv (admin and node imply it); read/publish/deploy do not; another tenant's token sees 404", async () => {
  assert.equal((await call("PUT", `${V}s`, { token: tokens.read, body: "x" })).json.error.code, "ERR_MISSING_SCOPE");
  assert.equal((await call("GET", `${V}s`, { token: tokens.read })).status, 403);
  assert.equal((await call("PUT", `${V}s`, { token: tokens.node, body: "by node" })).status, 200);
  assert.equal((await call("GET", `${V}s`)).text, "by node");
  const other = await call("GET", `${V}s`, { token: tokens.other });
  assert.equal(other.status, 404);
  assert.match(other.json.error.message, /tenant "acme" not found/);
  assert.equal((await call("PUT", `${V}s`, { token: tokens.other, body: "x" })).status, 404);
  assert.equal((await call("GET", "/v1/kv/export", { token: tokens.kv })).status, 403);
  // A tenant's feed shows its KV changes; another tenant's does not.
  const mine = (await call("GET", "/v1/feed?since=0", { token: tokens.read })).json.changes as Change[];
  assert.ok(mine.some((c) => c.kind === "kv-put"));
  const theirs = (await call("GET", "/v1/feed?since=0", { token: await otherReader() })).json.changes as Change[];
  assert.ok(!theirs.some((c) => c.kind === "kv-put"));
});

test("export: pages of every tenant's live entries with their seq; the snapshot stays KV-free", async () => {
  await call("PUT", "/v1/tenants/other/kv/o/values/one", { token: tokens.other, body: "1" });
  const seen: KvExportPage["entries"] = [];
  let after: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page: KvExportPage = (await call("GET", `/v1/kv/export?limit=3${after === undefined ? "" : `&after=${encodeURIComponent(after)}`}`, { token: tokens.node })).json;
    seen.push(...page.entries);
    if (page.cursor === undefined) break;
    after = page.cursor;
  }
  const names = seen.map((e) => `${e.tenant}/${e.namespace}/${e.key}`);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("other/o/one") && names.includes("acme/data/big") && names.includes("acme/list/\u{1F600}"));
  assert.ok(!names.includes("acme/data/ttl"), "expired entries are not exported");
  const big = seen.find((e) => e.key === "big")!;
  assert.equal(big.base64, undefined);
  assert.ok(big.seq > 0);
  const snapshot = (await call("GET", "/v1/snapshot", { token: tokens.node })).json;
  assert.deepEqual(Object.keys(snapshot.tenants.acme).sort(), ["aliases", "distributions", "functions", "signing", "tenant", "versions"]);
});

test("function config: kvNamespaces are validated and kept; absent when none", async () => {
  const ok = await call("PUT", "/v1/tenants/acme/functions/f", { json: { config: { kvNamespaces: { CACHE: "data" } } } });
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual(ok.json.config.kvNamespaces, { CACHE: "data" });
  const none = await call("PUT", "/v1/tenants/acme/functions/g", { json: { config: {} } });
  assert.equal("kvNamespaces" in none.json.config, false);
  const bad = await call("PUT", "/v1/tenants/acme/functions/f", { json: { config: { env: { SAME: "x" }, kvNamespaces: { "1x": "data", SAME: "data", OK: "Not Valid" } } } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json.error.details.diagnostics.map((d: { path: string }) => d.path).sort(), ["config.kvNamespaces.1x", "config.kvNamespaces.OK", "config.kvNamespaces.SAME"]);
});
