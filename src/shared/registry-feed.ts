/**
 * The registry's change feed and what edge nodes build from it: the changes, a
 * tenant's state and the snapshot with `applyChange`, and the nodes' reports
 * and the registry's health. Part of the registry's public wire types
 * (re-exported by protocol.ts).
 */
import type { Alias, Distribution, FunctionInfo, Purge, SigningPolicy, Tenant, VersionInfo } from "./protocol.ts";
import type { KvEntryWire } from "./kv-wire.ts";

/** What a change is about; `key` names the object within the tenant. */
export type Change =
  | ChangeOf<"tenant", Tenant>
  | ChangeOf<"function", FunctionInfo>
  | ChangeOf<"version", VersionInfo>
  | ChangeOf<"alias", Alias>
  | ChangeOf<"distribution", Distribution>
  | ChangeOf<"signing", SigningPolicy>
  /** Not state: an instruction to edge nodes, kept in the feed so a node that was away still purges. */
  | ChangeOf<"purge", Purge>
  /**
   * A KV write (`op: "put"`), key `namespace/key`. Not part of the Snapshot
   * (applyChange skips it, as purges): edge nodes keep KV in their own table and
   * take `GET /v1/kv/export` on a cold start.
   */
  | ChangeOf<"kv-put", KvEntryWire>
  /** A KV delete (`op: "delete"`, no value), key `namespace/key` (split at the first `/`). */
  | ChangeOf<"kv-delete", never>;

interface ChangeOf<K extends string, V> {
  /** Global sequence number: starts at 1, increases by one per change, no gaps. */
  seq: number;
  tenant: string;
  kind: K;
  /** `function`, `function/alias`, `function/digest`, distribution or tenant name; `distribution/id` for a purge. */
  key: string;
  op: "put" | "delete";
  /** The new value on `put`; absent on `delete`. */
  value?: V;
  at: string;
}

export type ChangeKind = Change["kind"];

/** `GET /v1/feed?since=N` (long poll with `wait=seconds`). */
export interface FeedPage {
  changes: Change[];
  /** Seq of the last change in `changes`, or `since` when empty: pass it as the next `since`. */
  last: number;
  /** The registry's newest seq when the page was read. */
  head: number;
}

/** One tenant's desired state. Maps are keyed as the change feed's `key`. */
export interface TenantState {
  tenant: Tenant;
  functions: Record<string, FunctionInfo>;
  versions: Record<string, VersionInfo>;
  aliases: Record<string, Alias>;
  distributions: Record<string, Distribution>;
  signing: SigningPolicy;
}

/** `GET /v1/snapshot`: every visible tenant's state as of `seq`, read in one transaction. */
export interface Snapshot {
  seq: number;
  tenants: Record<string, TenantState>;
}

/** An empty state for a tenant first seen in the feed. */
export function emptyTenantState(tenant: Tenant): TenantState {
  return { tenant, functions: {}, versions: {}, aliases: {}, distributions: {}, signing: { tenant: tenant.name, policy: "off", keys: [] } };
}

/**
 * Applies one change to a follower's state, in place: what an edge node does
 * with each feed entry. A follower that applies every change after a snapshot
 * at N ends with the state of a snapshot taken later.
 *
 * @example
 * let state: Snapshot = await (await fetch(`${origin}/v1/snapshot`, auth)).json();
 * for (const change of page.changes) applyChange(state, change);
 */
export function applyChange(state: Snapshot, change: Change): void {
  if (change.seq <= state.seq) return;
  state.seq = change.seq;
  if (change.kind === "tenant") {
    if (change.op === "delete") delete state.tenants[change.tenant];
    else if (change.value !== undefined && state.tenants[change.tenant] === undefined) state.tenants[change.tenant] = emptyTenantState(change.value);
    return;
  }
  const t = state.tenants[change.tenant];
  if (t === undefined) return;
  if (change.kind === "purge" || change.kind === "kv-put" || change.kind === "kv-delete") return;
  if (change.kind === "signing") {
    if (change.value !== undefined) t.signing = change.value;
    return;
  }
  const table: Record<string, unknown> = {
    function: t.functions,
    version: t.versions,
    alias: t.aliases,
    distribution: t.distributions,
  }[change.kind] as Record<string, unknown>;
  if (change.op === "delete") delete table[change.key];
  else table[change.key] = change.value;
}

// ─── nodes ────────────────────────────────────────────────────────────────────

/** `POST /v1/nodes/:id/report` body. */
export interface NodeReport {
  appliedSeq: number;
  /** Seconds since the node last reached the registry successfully (0 when in sync). */
  staleSeconds?: number;
  hostname?: string;
  version?: string;
}

export interface NodeInfo {
  id: string;
  appliedSeq: number;
  staleSeconds: number;
  hostname: string | null;
  version: string | null;
  lastSeenAt: string;
  /** Reported within the registry's liveness window. */
  live: boolean;
}

/** `GET /v1/changes/:seq`: which live nodes have applied a change. */
export interface ChangeStatus {
  change: Change;
  applied: string[];
  pending: string[];
  /** True when every live node has applied it (vacuously true with no live node). */
  complete: boolean;
}

export interface Health {
  ok: boolean;
  seq: number;
  uptimeSeconds: number;
}
