/**
 * Workers KV at the registry: how entries are kept (table `kv`, see
 * store/README.md) and written. Every write stores the row and appends its
 * `kv-put` / `kv-delete` change in the caller's transaction, so edge nodes
 * learn every write, in order, from the feed. Limits are src/shared/kv-rules.ts,
 * the same rules the runtime's binding applies.
 */
import { createHash } from "node:crypto";
import { KV_INLINE_MAX_BYTES, type Change, type KvEntryWire, type KvNamespaceInfo } from "../src/shared/protocol.ts";
import { appendChange } from "./feed.ts";
import type { ReadTx, WriteTx } from "./store/store.ts";

/** One stored entry. */
export interface KvRow {
  v: Uint8Array;
  /** Expiration, seconds since the epoch. */
  e?: number;
  /** Metadata, JSON text. */
  m?: string;
  /** Hex sha256 of `v`. */
  d: string;
  /** Seq of the change that wrote it. */
  s: number;
}

export const hexKey = (key: string): string => Buffer.from(key, "utf8").toString("hex");
export const unhexKey = (hex: string): string => Buffer.from(hex, "hex").toString("utf8");
export const nsPrefix = (tenant: string, ns: string): string => `${tenant}/${ns}/`;
export const rowKey = (tenant: string, ns: string, key: string): string => nsPrefix(tenant, ns) + hexKey(key);

export function isLive(row: KvRow, nowMs: number): boolean {
  return row.e === undefined || row.e * 1000 > nowMs;
}

export function getRow(tx: ReadTx, tenant: string, ns: string, key: string, nowMs: number): KvRow | undefined {
  const row = tx.get<KvRow>("kv", rowKey(tenant, ns, key));
  return row !== undefined && isLive(row, nowMs) ? row : undefined;
}

/** The wire form of a row: inline bytes when small, else the digest only. */
export function wireOf(ns: string, key: string, row: KvRow): KvEntryWire {
  const w: KvEntryWire = { namespace: ns, key, digest: row.d, size: row.v.byteLength };
  if (row.v.byteLength <= KV_INLINE_MAX_BYTES) w.base64 = Buffer.from(row.v).toString("base64");
  if (row.e !== undefined) w.expiration = row.e;
  if (row.m !== undefined) w.metadata = row.m;
  return w;
}

export function putKv(tx: WriteTx, tenant: string, ns: string, key: string, entry: { value: Uint8Array; expiration?: number | undefined; metadata?: string | undefined }, at: string): Change {
  if (tx.get("kv-namespaces", `${tenant}/${ns}`) === undefined) tx.put("kv-namespaces", `${tenant}/${ns}`, { name: ns, createdAt: at } satisfies KvNamespaceInfo);
  const row: KvRow = { v: entry.value, d: createHash("sha256").update(entry.value).digest("hex"), s: 0 };
  if (entry.expiration !== undefined) row.e = entry.expiration;
  if (entry.metadata !== undefined) row.m = entry.metadata;
  const change = appendChange(tx, { tenant, kind: "kv-put", key: `${ns}/${key}`, op: "put", value: wireOf(ns, key, row) }, at);
  row.s = change.seq;
  tx.put("kv", rowKey(tenant, ns, key), row);
  return change;
}

/** Deletes the entry; null (no change appended) when there was none. */
export function deleteKv(tx: WriteTx, tenant: string, ns: string, key: string, at: string): Change | null {
  const k = rowKey(tenant, ns, key);
  if (tx.get("kv", k) === undefined) return null;
  tx.delete("kv", k);
  return appendChange(tx, { tenant, kind: "kv-delete", key: `${ns}/${key}`, op: "delete" }, at);
}
