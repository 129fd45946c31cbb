/**
 * The host half checks the limits again whoever calls it (the guest's namespace
 * object checks first; a handler must never store what Workers would refuse),
 * and expirations are decided by its injected clock.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createKvHandler } from "./handler.ts";
import { createMemoryKvStorage } from "./memory-storage.ts";

test("the handler refuses what Workers refuses, naming the limit, the value and the key", async () => {
  const now = 2_000_000_000_000;
  const h = createKvHandler(createMemoryKvStorage({ now: () => now }), { now: () => now });
  const v = new Uint8Array([1]);
  await assert.rejects(h.call("put", ["k", "not bytes", {}]), { name: "TypeError" });
  await assert.rejects(h.call("put", ["", v, {}]), { name: "TypeError", message: "Key name cannot be empty." });
  await assert.rejects(h.call("put", ["k", new Uint8Array(25 * 1024 * 1024 + 1), {}]), { message: 'KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400. (key "k")' });
  await assert.rejects(h.call("put", ["k", v, { metadata: "x".repeat(1025) }]), { message: /Metadata length of 1025 exceeds limit of 1024\. \(key "k"\)/ });
  await assert.rejects(h.call("put", ["k", v, { metadata: "{not json" }]), { name: "TypeError", message: /not JSON/ });
  await assert.rejects(h.call("put", ["k", v, { expiration: now / 1000 + 59 }]), { message: /at least 60 seconds in the future/ });
  await assert.rejects(h.call("get", ["k", 29]), { message: /Invalid cache_ttl of 29\. Cache TTL must be at least 30\. \(key "k"\)/ });
  await assert.rejects(h.call("list", [{ limit: 0 }]), { message: /Invalid key_count_limit of 0/ });
  await assert.rejects(h.call("getBulk", [[], undefined]), { message: /minimum of 1 key/ });
  await assert.rejects(h.call("nope", []), { name: "TypeError", message: "KV: no method nope" });
});

test("expirationTtl is counted from the handler's clock; the storage hides the entry at that second", async () => {
  let now = 1_700_000_000_000;
  const storage = createMemoryKvStorage({ now: () => now });
  const h = createKvHandler(storage, { now: () => now });
  await h.call("put", ["k", new Uint8Array([7]), { expirationTtl: 60, metadata: '{"a":1}' }]);
  assert.deepEqual(await h.call("list", [{}]), { keys: [{ name: "k", expiration: 1_700_000_060, metadata: '{"a":1}' }] });
  assert.deepEqual(await h.call("get", ["k", null]), { value: new Uint8Array([7]), metadata: '{"a":1}' });
  now += 60_000;
  assert.equal(await h.call("get", ["k", null]), null);
  assert.deepEqual(await h.call("getBulk", [["k"], null]), [null]);
});
