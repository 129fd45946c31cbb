/**
 * What sync keeps in the node's LMDB (edge-nodes/store), shared by the
 * supervisor (which writes the applied state) and every worker (which reads it):
 *
 * | table | key | value |
 * |---|---|---|
 * | `state` | `applied` | the applied Snapshot (its `seq` is the applied seq) |
 * | `state` | `applied-mark` | `{ seq, id }`: changes with every write of `applied`, read first by `reload()` |
 * | `state` | `contact` | `{ connected, lastContactAt, at }`: the follower's view of the registry, for workers' status |
 * | `state` | `refused` | bundles refused (digest or signature), newest first, at most 20 |
 * | `secrets` | `tenant/function` | `{ updatedAt, secrets }`: values as delivered, for the function's `updatedAt` |
 * | `bundles` | hex digest | verified bundle bytes |
 */
import { randomUUID } from "node:crypto";
import type { Snapshot } from "../../src/shared/protocol.ts";
import type { EdgeStore } from "../store/index.ts";
import type { SyncStatus } from "../types.ts";

export type Refusal = SyncStatus["refused"][number];

export interface AppliedMark {
  seq: number;
  id: string;
}

export interface Contact {
  connected: boolean;
  /** ms since the epoch of the last answer from the registry. */
  lastContactAt: number;
  /** ms since the epoch this record was written (a follower that died stops refreshing it). */
  at: number;
}

export interface StoredSecrets {
  /** The function's `updatedAt` the values were fetched for. */
  updatedAt: string;
  secrets: Record<string, string>;
}

const MAX_REFUSED = 20;

export function readApplied(store: EdgeStore): Snapshot | undefined {
  return store.table<Snapshot>("state").get("applied");
}

export function readMark(store: EdgeStore): AppliedMark | undefined {
  return store.table<AppliedMark>("state").get("applied-mark");
}

/** Writes the snapshot and its mark in one transaction; returns the mark. */
export async function writeApplied(store: EdgeStore, snapshot: Snapshot): Promise<AppliedMark> {
  const mark: AppliedMark = { seq: snapshot.seq, id: randomUUID() };
  await store.transaction(() => {
    store.table<Snapshot>("state").putSync("applied", snapshot);
    store.table<AppliedMark>("state").putSync("applied-mark", mark);
  });
  return mark;
}

export function readContact(store: EdgeStore): Contact | undefined {
  return store.table<Contact>("state").get("contact");
}

export function writeContact(store: EdgeStore, contact: Contact): Promise<void> {
  return store.table<Contact>("state").put("contact", contact);
}

export function readRefused(store: EdgeStore): Refusal[] {
  return store.table<Refusal[]>("state").get("refused") ?? [];
}

/** Prepends a refusal (read-modify-write in one transaction: several workers may refuse at once). */
export async function addRefused(store: EdgeStore, refusal: Refusal): Promise<void> {
  const table = store.table<Refusal[]>("state");
  await store.transaction(() => {
    const list = (table.get("refused") ?? []).filter((r) => !(r.digest === refusal.digest && r.code === refusal.code));
    table.putSync("refused", [refusal, ...list].slice(0, MAX_REFUSED));
  });
}

export function readSecrets(store: EdgeStore, tenant: string, fn: string): StoredSecrets | undefined {
  return store.table<StoredSecrets>("secrets").get(`${tenant}/${fn}`);
}

export function writeSecrets(store: EdgeStore, tenant: string, fn: string, value: StoredSecrets): Promise<void> {
  return store.table<StoredSecrets>("secrets").put(`${tenant}/${fn}`, value);
}
