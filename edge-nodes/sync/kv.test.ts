/**
 * The node's KV copy: feed changes apply in seq order (an older change never
 * undoes a newer entry, so an early local write survives the replay), big
 * values are fetched and digest-checked, expiration is the node's clock.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Change } from "../../src/shared/protocol.ts";
import { openEdgeStore } from "../store/index.ts";
import { applyKvChanges, createEdgeKvStorage } from "./kv.ts";
import type { RegistryClient } from "./registry-client.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-edge-kv-"));
const store = openEdgeStore({ path: dir });
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const put = (seq: number, key: string, text: string, extra: object = {}): Change => ({ seq, tenant: "t", kind: "kv-put", key: `ns/${key}`, op: "put", value: { namespace: "ns", key, base64: Buffer.from(text).toString("base64"), digest: sha(text), size: text.length, ...extra }, at: "" });
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString("utf8"));

test("changes apply in seq order per key; an older change does not undo a newer entry; deletes too", async () => {
  let now = 1_000_000_000_000;
  const remote = new Map<string, Uint8Array>([["big", new TextEncoder().encode("BIG")]]);
  let seq = 100;
  const client = {
    kvValue: async (_t: string, _ns: string, key: string) => (remote.has(key) ? { value: remote.get(key)!, digest: sha(remote.get(key)!), seq: 1 } : null),
    kvPut: async () => ++seq,
    kvDelete: async () => ++seq,
  } as unknown as RegistryClient;
  const kv = createEdgeKvStorage({ store, client, tenant: "t", namespace: "ns", now: () => now });
  await applyKvChanges(store, client, [put(1, "a", "one"), put(2, "a", "two"), put(3, "gone", "x"), { seq: 4, tenant: "t", kind: "kv-delete", key: "ns/gone", op: "delete", at: "" }]);
  assert.equal(text((await kv.get("a"))?.value), "two");
  assert.equal(await kv.get("gone"), null);
  // A local write (seq 101 from the registry) is visible at once, and the feed's older change leaves it.
  await kv.put("a", { value: new TextEncoder().encode("mine") });
  await applyKvChanges(store, client, [put(50, "a", "older")]);
  assert.equal(text((await kv.get("a"))?.value), "mine");
  // Big values: fetched by key; a value that changed since (digest differs) is skipped.
  await applyKvChanges(store, client, [
    { ...put(60, "big", ""), value: { namespace: "ns", key: "big", digest: sha("BIG"), size: 3 } } as Change,
    { ...put(61, "moved", ""), value: { namespace: "ns", key: "moved", digest: sha("old"), size: 3 } } as Change,
  ]);
  assert.equal(text((await kv.get("big"))?.value), "BIG");
  assert.equal(await kv.get("moved"), null);
  // Expiration by the node's clock; list skips expired entries.
  await applyKvChanges(store, client, [put(70, "ttl", "t", { expiration: now / 1000 + 60, metadata: '{"m":1}' })]);
  assert.deepEqual((await kv.list({ limit: 10 })).keys, [{ name: "a" }, { name: "big" }, { name: "ttl", expiration: now / 1000 + 60, metadata: '{"m":1}' }]);
  now += 60_000;
  assert.equal(await kv.get("ttl"), null);
  assert.deepEqual((await kv.list({ limit: 1 })).keys, [{ name: "a" }]);
  const p2 = await kv.list({ limit: 1, cursor: (await kv.list({ limit: 1 })).cursor! });
  assert.deepEqual(p2, { keys: [{ name: "big" }] });
  await kv.delete("a");
  assert.equal(await kv.get("a"), null);
});

test("a local delete leaves a tombstone: an older put replayed from the feed cannot bring the key back", async () => {
  let seq = 200;
  const client = {
    kvPut: async () => ++seq,
    kvDelete: async (_t: string, _ns: string, key: string) => (key === "unknown" ? null : ++seq),
  } as unknown as RegistryClient;
  const kv = createEdgeKvStorage({ store, client, tenant: "t", namespace: "tomb", now: () => Date.now() });
  const tput = (s: number, key: string, value: string): Change => ({ ...put(s, key, value), key: `tomb/${key}`, value: { ...put(s, key, value).value!, namespace: "tomb" } }) as Change;
  await applyKvChanges(store, client, [tput(150, "k", "v1")]);
  assert.equal(text((await kv.get("k"))?.value), "v1");
  await kv.delete("k"); // the registry's delete is change 201; the feed is still at 150
  assert.equal(await kv.get("k"), null);
  // The follower replays the batch that held change 150 (a crash before it persisted its seq).
  await applyKvChanges(store, client, [tput(150, "k", "v1")]);
  assert.equal(await kv.get("k"), null, "the tombstone keeps the key deleted");
  assert.deepEqual((await kv.list({ prefix: "k", limit: 10 })).keys, []);
  // A newer put wins over the tombstone.
  await applyKvChanges(store, client, [tput(202, "k", "v2")]);
  seq = 202;
  assert.equal(text((await kv.get("k"))?.value), "v2");
  // Swept once the feed has applied past the delete: later replays are impossible, the table is clean.
  await kv.delete("k"); // 203
  await store.kv().sweepTombstones(202); // the earlier test's tombstones (seq 4, 10x) go; this one stays
  await applyKvChanges(store, client, [tput(150, "k", "v1")]);
  assert.equal(await kv.get("k"), null, "the tombstone at 203 is still there");
  assert.equal(await store.kv().sweepTombstones(203), 1);
  assert.equal(await store.kv().sweepTombstones(1_000), 0, "nothing left");
  await applyKvChanges(store, client, [tput(204, "k", "v3")]);
  assert.equal(text((await kv.get("k"))?.value), "v3");
  // The registry had nothing to delete (null seq): the local entry goes, no tombstone is left.
  await applyKvChanges(store, client, [tput(205, "unknown", "x")]);
  await kv.delete("unknown");
  assert.equal(await kv.get("unknown"), null);
  await applyKvChanges(store, client, [tput(3, "unknown", "old")]);
  assert.equal(text((await kv.get("unknown"))?.value), "old", "no tombstone: a later feed delete will say so");
});
