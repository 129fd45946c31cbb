/**
 * The edge node's asset reader over a real LMDB store: bytes verified against
 * the manifest before they are stored or served, one fetch per file however
 * many requests wait, stored copies served without the registry, a damaged
 * stored copy fetched again. The registry is a stand-in answering `asset()`;
 * test/integration/assets-fleet.test.ts runs the real one over HTTP.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VergeError, hasCode } from "../../src/shared/errors.ts";
import { openEdgeStore } from "../store/index.ts";
import { createAssetReader } from "./assets.ts";
import type { RegistryClient } from "./registry-client.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-edge-assets-"));
const store = openEdgeStore({ path: dir });
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);
const entryOf = (s: string) => ({ hash: createHash("sha256").update(s).digest("hex"), size: bytes(s).byteLength, contentType: "text/plain; charset=utf-8" });

function registry(answer: (hash: string) => Promise<Uint8Array>): { client: RegistryClient; calls: string[] } {
  const calls: string[] = [];
  const client = { url: "http://registry.test", asset: async (hash: string) => (calls.push(hash), answer(hash)) } as unknown as RegistryClient;
  return { client, calls };
}

test("bytes that do not match the manifest are refused and not stored", async () => {
  const entry = entryOf("genuine");
  const { client } = registry(async () => bytes("tampered"));
  const read = createAssetReader({ store, client, log: () => {} });
  await assert.rejects(read("/a.txt", entry), (err: unknown) => hasCode(err, "ERR_DIGEST_MISMATCH") && /sha256/.test((err as unknown as Error).message));
  assert.equal(store.bytes("assets").get(entry.hash), undefined);
});

test("one fetch for concurrent reads; stored, then served from the node without the registry", async () => {
  const entry = entryOf("hello");
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { client, calls } = registry(async () => (await gate, bytes("hello")));
  const read = createAssetReader({ store, client, log: () => {} });
  const both = Promise.all([read("/h.txt", entry), read("/h.txt", entry)]);
  release();
  const [a, b] = await both;
  assert.equal(calls.length, 1);
  assert.deepEqual([a.fromCache, b.fromCache], [false, false]);
  assert.equal(new TextDecoder().decode(a.body), "hello");
  const down = registry(async () => {
    throw new VergeError("ERR_REGISTRY_UNAVAILABLE", "down");
  });
  const later = createAssetReader({ store, client: down.client, log: () => {} });
  const again = await later("/h.txt", entry);
  assert.equal(again.fromCache, true);
  assert.equal(down.calls.length, 0);
  await assert.rejects(later("/other.txt", entryOf("other")), (err: unknown) => hasCode(err, "ERR_ASSET_UNAVAILABLE") && /cannot be reached/.test((err as unknown as Error).message));
});

test("a damaged stored copy is dropped and fetched again", async () => {
  const entry = entryOf("intact");
  await store.bytes("assets").put(entry.hash, bytes("rotten"));
  const lines: Array<Record<string, unknown>> = [];
  const { client, calls } = registry(async () => bytes("intact"));
  const read = createAssetReader({ store, client, log: (l) => lines.push(l) });
  const r = await read("/i.txt", entry);
  assert.equal(new TextDecoder().decode(r.body), "intact");
  assert.equal(calls.length, 1);
  assert.equal(lines[0]?.msg, "sync: stored asset damaged, fetching again");
});
