/**
 * Workers KV on an edge node (issue 5): reads are local, writes go to the
 * registry and come back through the feed.
 *
 * - `applyKvChanges`: the follower applies each batch's `kv-put` / `kv-delete`
 *   changes to the node's `kv` table (edge-nodes/store) before it persists the
 *   batch, so a crash in between replays them. A value too big for the feed
 *   (digest only) is fetched by key; if the registry has a different value
 *   now, or none, a later change in the feed says so, and this one is skipped.
 * - `importKv`: a cold start (or a feed gap) clears the table and pages
 *   through `GET /v1/kv/export`, before following the feed from the snapshot's
 *   seq: every entry carries the seq of its write, and the table never lets an
 *   older change overwrite a newer entry, so replaying the feed converges on
 *   the registry's contents.
 * - `createEdgeKvStorage`: the runtime's KvStorage for one binding. `put` and
 *   `delete` call the registry with the node token, then apply the write
 *   locally with the seq the registry gave it: a function that reads after
 *   `await put()` on the same node sees its write (read-your-writes), other
 *   nodes see it when the feed reaches them (eventual).
 */
import { createHash } from "node:crypto";
import type { Change, KvEntryWire } from "../../src/shared/protocol.ts";
import { decodeCursor, encodeCursor, type KvEntry, type KvKey, type KvListOptions, type KvListResult, type KvStorage } from "../../src/runtime/bindings/kv/storage.ts";
import type { EdgeKvRow, EdgeStore } from "../store/index.ts";
import type { RegistryClient } from "./registry-client.ts";

const scopeOf = (tenant: string, ns: string) => `${tenant}/${ns}`;

function isLive(row: EdgeKvRow, nowMs: number): boolean {
  return row.e === undefined || row.e * 1000 > nowMs;
}

/** The row a wire entry describes, fetching the bytes when they did not travel inline; null to skip it. */
async function rowOf(client: RegistryClient, tenant: string, w: KvEntryWire, seq: number, signal?: AbortSignal): Promise<EdgeKvRow | null> {
  let value: Uint8Array;
  if (w.base64 !== undefined) value = new Uint8Array(Buffer.from(w.base64, "base64"));
  else {
    const got = await client.kvValue(tenant, w.namespace, w.key, signal);
    if (got === null) return null;
    value = got.value;
  }
  // A fetched value written after this change is another change's: skip, it comes later.
  if (createHash("sha256").update(value).digest("hex") !== w.digest) return null;
  const row: EdgeKvRow = { v: value, s: seq };
  if (w.expiration !== undefined) row.e = w.expiration;
  if (w.metadata !== undefined) row.m = w.metadata;
  return row;
}

/** Applies the KV changes of a batch, in order; other kinds are ignored. */
export async function applyKvChanges(store: EdgeStore, client: RegistryClient, changes: readonly Change[]): Promise<number> {
  const kv = store.kv();
  let n = 0;
  for (const c of changes) {
    if (c.kind === "kv-put" && c.value !== undefined) {
      const row = await rowOf(client, c.tenant, c.value, c.seq, AbortSignal.timeout(30_000));
      if (row !== null) await kv.put(scopeOf(c.tenant, c.value.namespace), c.value.key, row);
      n++;
    } else if (c.kind === "kv-delete") {
      const slash = c.key.indexOf("/");
      await kv.remove(scopeOf(c.tenant, c.key.slice(0, slash)), c.key.slice(slash + 1), c.seq);
      n++;
    }
  }
  return n;
}

/** Replaces the node's KV contents with the registry's (cold start, feed gap). */
export async function importKv(store: EdgeStore, client: RegistryClient): Promise<number> {
  const kv = store.kv();
  await kv.clear();
  let after: string | undefined;
  let n = 0;
  for (;;) {
    const page = await client.kvExport(after, AbortSignal.timeout(30_000));
    for (const e of page.entries) {
      const row = await rowOf(client, e.tenant, e, e.seq, AbortSignal.timeout(30_000));
      if (row !== null) await kv.put(scopeOf(e.tenant, e.namespace), e.key, row);
      n++;
    }
    if (page.cursor === undefined) return n;
    after = page.cursor;
  }
}

export interface EdgeKvStorageOptions {
  store: EdgeStore;
  client: RegistryClient;
  tenant: string;
  namespace: string;
  now: () => number;
}

/** A binding's storage on an edge node: local reads, writes through the registry (see the file comment). */
export function createEdgeKvStorage(options: EdgeKvStorageOptions): KvStorage {
  const { client, tenant, namespace, now } = options;
  const kv = options.store.kv();
  const scope = scopeOf(tenant, namespace);
  return {
    async get(key): Promise<KvEntry | null> {
      const row = kv.get(scope, key);
      if (row === undefined || !isLive(row, now())) return null;
      return { value: row.v, ...(row.e !== undefined ? { expiration: row.e } : {}), ...(row.m !== undefined ? { metadata: row.m } : {}) };
    },
    async put(key, entry) {
      const seq = await client.kvPut(tenant, namespace, key, entry, AbortSignal.timeout(30_000));
      const row: EdgeKvRow = { v: entry.value, s: seq };
      if (entry.expiration !== undefined) row.e = entry.expiration;
      if (entry.metadata !== undefined) row.m = entry.metadata;
      await kv.put(scope, key, row);
    },
    async delete(key) {
      const seq = await client.kvDelete(tenant, namespace, key, AbortSignal.timeout(30_000));
      // null: the registry had nothing (or only an expired entry); drop ours whatever its seq.
      await kv.remove(scope, key, seq);
    },
    async list({ prefix = "", limit, cursor }: KvListOptions): Promise<KvListResult> {
      const t = now();
      const keys: KvKey[] = [];
      for (const { key, row } of kv.range(scope, prefix, decodeCursor(cursor))) {
        if (!isLive(row, t)) continue;
        if (keys.length === limit) return { keys, cursor: encodeCursor(keys[keys.length - 1]!.name) };
        keys.push({ name: key, ...(row.e !== undefined ? { expiration: row.e } : {}), ...(row.m !== undefined ? { metadata: row.m } : {}) });
      }
      return { keys };
    },
    async close() {},
  };
}
