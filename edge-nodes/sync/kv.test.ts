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
