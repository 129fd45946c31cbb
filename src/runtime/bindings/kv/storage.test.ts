/**
 * Both KvStorage implementations pass the same checks: values are copies,
 * expiration hides entries at the exact second (injected clock), list pages in
 * UTF-8 byte order with prefix and cursor, metadata kept as JSON text. The LMDB
 * one also persists across close/reopen and across two processes' worth of opens.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryKvStorage } from "./memory-storage.ts";
import { createLmdbKvStorage } from "./lmdb-storage.ts";
import type { KvStorage, KvStorageOptions } from "./storage.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-kv-storage-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const kinds: Record<string, (o: KvStorageOptions) => KvStorage> = {
  memory: (o) => createMemoryKvStorage(o),
  lmdb: (o) => createLmdbKvStorage({ ...o, path: dir, namespace: `ns${n++}` }),
};

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

for (const [kind, make] of Object.entries(kinds)) {
  test(`${kind}: put, get, delete; values are copies`, async () => {
    const s = make({});
    const v = bytes("hello");
    await s.put("a", { value: v, metadata: '{"m":1}' });
    v[0] = 0;
    const got = await s.get("a");
    assert.equal(text(got?.value), "hello");
    assert.equal(got?.metadata, '{"m":1}');
    assert.equal(got?.expiration, undefined);
    got!.value[0] = 0;
    assert.equal(text((await s.get("a"))?.value), "hello");
    await s.put("a", { value: bytes("two") });
    assert.deepEqual({ ...(await s.get("a")), value: "two" }, { value: "two" });
    await s.delete("a");
    assert.equal(await s.get("a"), null);
    await s.delete("never");
    await s.put("empty", { value: new Uint8Array(0) });
    assert.equal((await s.get("empty"))?.value.byteLength, 0);
    await s.close();
  });

  test(`${kind}: expired entries are never returned (injected clock)`, async () => {
    let now = 1_000_000_000_000;
    const s = make({ now: () => now });
    const exp = now / 1000 + 60;
    await s.put("x", { value: bytes("1"), expiration: exp });
    await s.put("y", { value: bytes("2") });
    assert.equal((await s.get("x"))?.expiration, exp);
    assert.deepEqual((await s.list({ limit: 10 })).keys, [{ name: "x", expiration: exp }, { name: "y" }]);
    now = exp * 1000 - 1;
    assert.ok(await s.get("x"));
    now = exp * 1000;
    assert.equal(await s.get("x"), null);
    assert.deepEqual((await s.list({ limit: 10 })).keys, [{ name: "y" }]);
    await s.close();
  });

  test(`${kind}: expired entries are removed, not only hidden (seen by moving the clock back)`, async () => {
    let now = 1_000_000_000_000;
    const s = make({ now: () => now });
    const soon = now / 1000 + 10;
    for (const k of ["a", "b", "c", "d"]) await s.put(k, { value: bytes(k), expiration: soon });
    await s.put("keep", { value: bytes("k"), expiration: soon + 1000 });
    now = soon * 1000;
    assert.equal(await s.get("a"), null, "a read of an expired entry");
    assert.deepEqual((await s.list({ prefix: "b", limit: 10 })).keys, [], "a list that meets one");
    assert.equal(await s.purgeExpired!(), 2, "the sweep takes the rest (c, d)");
    // Removal of a and b runs after the read and the list answered: wait for it.
    for (let i = 0; i < 100 && (await s.purgeExpired!()) > 0; i++);
    now = soon * 1000 - 5_000;
    assert.deepEqual((await s.list({ limit: 10 })).keys.map((k) => k.name), ["keep"], "nothing expired is left");
    await s.close();
  });

  test(`${kind}: list pages in UTF-8 byte order, with prefix and cursor`, async () => {
    const s = make({});
    const names = ["b", "a", "a/1", "a/2", "a/3", "\u{1F600}", "\uFFFD", "c"];
    for (const k of names) await s.put(k, { value: bytes(k), ...(k === "a/2" ? { metadata: "[1]" } : {}) });
    const all = await s.list({ limit: 1000 });
    assert.deepEqual(all.keys.map((k) => k.name), ["a", "a/1", "a/2", "a/3", "b", "c", "\uFFFD", "\u{1F600}"]);
    assert.equal(all.cursor, undefined);
    const p1 = await s.list({ prefix: "a/", limit: 2 });
    assert.deepEqual(p1.keys, [{ name: "a/1" }, { name: "a/2", metadata: "[1]" }]);
    assert.ok(p1.cursor);
    const p2 = await s.list({ prefix: "a/", limit: 2, cursor: p1.cursor! });
    assert.deepEqual(p2.keys, [{ name: "a/3" }]);
    assert.equal(p2.cursor, undefined);
    // A page that ends exactly at the last key says so: no cursor.
    const exact = await s.list({ prefix: "a/", limit: 3 });
    assert.equal(exact.keys.length, 3);
    assert.equal(exact.cursor, undefined);
    // Paging through everything one by one visits each key once.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.list({ limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.keys.map((k) => k.name));
      cursor = page.cursor;
    } while (cursor);
    assert.deepEqual(seen, all.keys.map((k) => k.name));
    assert.deepEqual((await s.list({ prefix: "zzz", limit: 5 })).keys, []);
    await s.close();
  });
}

test("lmdb: entries persist across close and reopen; namespaces are separate", async () => {
  const path = join(dir, "persist");
  const a = createLmdbKvStorage({ path, namespace: "one" });
  await a.put("k", { value: bytes("kept"), metadata: '{"v":2}', expiration: 4_000_000_000 });
  await a.close();
  const b = createLmdbKvStorage({ path, namespace: "one" });
  const other = createLmdbKvStorage({ path, namespace: "two" });
  assert.deepEqual({ ...(await b.get("k")), value: text((await b.get("k"))?.value) }, { value: "kept", metadata: '{"v":2}', expiration: 4_000_000_000 });
  assert.equal(await other.get("k"), null);
  await Promise.all([b.close(), other.close()]);
});

test("lmdb: a 25 MiB value round-trips", async () => {
  const s = createLmdbKvStorage({ path: join(dir, "big"), namespace: "big" });
  const big = new Uint8Array(25 * 1024 * 1024).fill(7);
  big[big.length - 1] = 9;
  await s.put("big", { value: big });
  const got = await s.get("big");
  assert.equal(got?.value.byteLength, big.byteLength);
  assert.equal(got?.value[big.length - 1], 9);
  await s.close();
});
