/**
 * The applied state as one immutable object (src/pipeline/types.ts AppliedState):
 * a deep-frozen Snapshot and a hostname index built once per state. A batch of
 * changes makes the next state copy-on-write: only the tenants it touches get
 * new containers, everything else is shared with the previous (frozen) state,
 * so applying a change costs the size of the tenant it touches, not the fleet.
 */
import { applyChange, type Change, type Distribution, type Purge, type Snapshot, type TenantState } from "../../src/shared/protocol.ts";
import type { AppliedState } from "../types.ts";

/** Freezes `value` and everything reachable from it; stops at objects already frozen (shared parts). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

/**
 * A Host header's name as distributions list it: lowercase, no port, no
 * trailing dot. `[::1]:8080` → `[::1]`.
 */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(":");
  if (colon !== -1) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

function indexHosts(snapshot: Snapshot): Map<string, Distribution> {
  const index = new Map<string, Distribution>();
  for (const tenant of Object.values(snapshot.tenants)) {
    for (const d of Object.values(tenant.distributions)) for (const host of d.hostnames) index.set(normalizeHost(host), d);
  }
  return index;
}

/** Where a state keeps its hostname index, for the next state to reuse. */
const HOSTS = Symbol("verge.hosts");

/**
 * Wraps a snapshot (frozen in place) as an AppliedState. `hosts` reuses the
 * previous state's index when the batch changed no distribution.
 */
export function createAppliedState(snapshot: Snapshot, hosts?: Map<string, Distribution>): AppliedState {
  const frozen = deepFreeze(snapshot);
  const index = hosts ?? indexHosts(frozen);
  return Object.freeze({
    seq: frozen.seq,
    snapshot: frozen,
    distributionFor: (host: string) => index.get(normalizeHost(host)),
    [HOSTS]: index,
  });
}

export function emptySnapshot(): Snapshot {
  return { seq: 0, tenants: {} };
}

function cloneTenant(t: TenantState): TenantState {
  return { ...t, functions: { ...t.functions }, versions: { ...t.versions }, aliases: { ...t.aliases }, distributions: { ...t.distributions } };
}

export interface BatchResult {
  state: AppliedState;
  /** The purge changes of the batch, in order, with the tenant each belongs to. */
  purges: Array<{ tenant: string; purge: Purge }>;
  /** Changes at or below the state's seq (already applied), skipped. */
  skipped: number;
}

/**
 * Applies `changes` in order to a copy of `prev` (which stays untouched and
 * valid for requests still holding it) with the protocol's own reducer.
 */
export function applyBatch(prev: AppliedState, changes: readonly Change[]): BatchResult {
  const next: Snapshot = { seq: prev.snapshot.seq, tenants: { ...prev.snapshot.tenants } };
  const copied = new Set<string>();
  const purges: BatchResult["purges"] = [];
  let skipped = 0;
  let hostsChanged = false;
  for (const change of changes) {
    if (change.seq <= next.seq) {
      skipped++;
      continue;
    }
    const t = next.tenants[change.tenant];
    if (t !== undefined && !copied.has(change.tenant)) {
      next.tenants[change.tenant] = cloneTenant(t);
      copied.add(change.tenant);
    }
    applyChange(next, change);
    // A tenant put makes a fresh (mutable) state and a delete removes it: either way it is ours now.
    if (change.kind === "tenant") copied.add(change.tenant);
    if (change.kind === "distribution" || change.kind === "tenant") hostsChanged = true;
    if (change.kind === "purge" && change.op === "put" && change.value !== undefined) purges.push({ tenant: change.tenant, purge: change.value });
  }
  const hosts = hostsChanged ? undefined : (prev as unknown as Record<symbol, Map<string, Distribution>>)[HOSTS];
  return { state: createAppliedState(next, hosts), purges, skipped };
}
