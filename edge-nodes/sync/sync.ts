/**
 * `createSync(options)`: the edge node's StateSource (src/pipeline/types.ts).
 *
 * - `follow: true` (one per node: the supervisor, or a single process): start
 *   from the state persisted in LMDB, else a snapshot; follow the feed
 *   (follower.ts); persist each batch (snapshot + mark in one transaction);
 *   then publish the new state to subscribers, run purges, and report.
 * - `follow: false` (a worker process): read the persisted state at start and
 *   on `reload()`; never talk to the feed. Bundles and secrets are still
 *   fetched on a miss, and shared with the other processes through LMDB.
 *
 * `start()` establishes the first state without calling subscribers; every
 * later state calls them once it is persisted.
 */
import { VergeError } from "../../src/shared/errors.ts";
import { NAME_PATTERN, type Change, type Purge, type Snapshot } from "../../src/shared/protocol.ts";
import type { EdgeStore } from "../store/index.ts";
import type { AppliedState, StateSource, SyncStatus } from "../types.ts";
import { applyBatch, createAppliedState, emptySnapshot } from "./applied-state.ts";
import { createFollower, type Follower } from "./follower.ts";
import { applyKvChanges, importKv } from "./kv.ts";
import { createLoader } from "./loader.ts";
import { readApplied, readContact, readMark, readRefused, writeApplied, writeContact } from "./persist.ts";
import { createRegistryClient } from "./registry-client.ts";
import { createReporter } from "./reporter.ts";
import { resolveVersion } from "./resolve.ts";

export interface SyncOptions {
  store: EdgeStore;
  /** The registry and a `node`-scoped operator token. */
  registry: { url: string; token: string };
  /** This node's name in reports (`[a-z0-9][a-z0-9_-]{0,62}`). */
  nodeId: string;
  /** Carried in log lines. */
  region?: string | undefined;
  /** Follow the feed from this process (one per node), or read what the follower persisted. */
  follow: boolean;
  /** Called for each purge change, in feed order, before the batch holding it is persisted; `tenant` owns the distribution. */
  onPurge?: (purge: Purge, tenant: string) => void | Promise<void>;
  log?: (line: Record<string, unknown>) => void;
  fetch?: typeof fetch;
  now?: () => number;
  /** Tuning, mostly for tests: see follower.ts and reporter.ts. */
  tuning?: { idleTimeoutMs?: number; maxBackoffMs?: number; pollWaitSeconds?: number; reportIntervalMs?: number; heartbeatMs?: number };
}

export interface Sync extends StateSource {
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * Worker mode: re-read the persisted state (the supervisor calls it when a new
   * seq applied). With `seq` (the seq the primary says it applied), returns
   * whether this process's state has caught up with it; without, true.
   */
  reload(seq?: number): boolean;
}

/** A follower's contact record older than this means the follower is gone: its "connected" is not believed. */
const CONTACT_FRESH_MS = 45_000;

/**
 * @example
 * const sync = createSync({ store, registry: { url, token }, nodeId: "edge-1", follow: true, onPurge: (p, tenant) => cache.purge(...) });
 * await sync.start();
 * const state = sync.current();
 * const spec = await sync.load(state, sync.resolve(state, "acme", association, { headers, url }));
 */
export function createSync(options: SyncOptions): Sync {
  if (!NAME_PATTERN.test(options.nodeId)) throw new VergeError("ERR_INVALID_OPTIONS", `nodeId: expected 1–63 characters [a-z0-9_-] starting with a letter or digit, found ${JSON.stringify(options.nodeId.slice(0, 70))}`);
  const { store, follow } = options;
  const now = options.now ?? Date.now;
  const region = options.region === undefined ? {} : { region: options.region };
  const baseLog = options.log ?? (() => {});
  const log = (line: Record<string, unknown>) => baseLog({ node: options.nodeId, ...region, ...line });
  const client = createRegistryClient({ url: options.registry.url, token: options.registry.token, fetch: options.fetch ?? fetch });
  const loader = createLoader({ store, client, log, now });
  const listeners = new Set<(state: AppliedState) => void>();
  const tuning = options.tuning ?? {};
  const startedAt = now();

  let state = createAppliedState(emptySnapshot());
  let markId: string | undefined;
  let connected = false;
  let lastContactAt = startedAt;
  let contactWrittenAt = 0;
  let follower: Follower | undefined;
  let tick: NodeJS.Timeout | undefined;
  let closed = false;

  const staleSeconds = () => (connected ? 0 : Math.max(0, (now() - lastContactAt) / 1000));
  const reporter = createReporter({
    client,
    nodeId: options.nodeId,
    log,
    report: () => ({ appliedSeq: state.seq, staleSeconds: staleSeconds() }),
    ...(tuning.reportIntervalMs === undefined ? {} : { minIntervalMs: tuning.reportIntervalMs }),
    ...(tuning.heartbeatMs === undefined ? {} : { heartbeatMs: tuning.heartbeatMs }),
  });

  function publish(next: AppliedState, notify: boolean): void {
    state = next;
    loader.prune(next);
    if (!notify) return;
    for (const listener of listeners) {
      try {
        listener(next);
      } catch (err) {
        log({ msg: "sync: a state listener threw", error: (err as Error)?.stack ?? String(err) });
      }
    }
  }

  async function purge(p: Purge, tenant: string): Promise<void> {
    try {
      await options.onPurge?.(p, tenant);
    } catch (err) {
      log({ msg: "sync: purge failed", tenant, distribution: p.distribution, id: p.id, error: (err as Error)?.message ?? String(err) });
    }
  }

  function writeContactRecord(): void {
    contactWrittenAt = now();
    writeContact(store, { connected, lastContactAt, at: contactWrittenAt }).catch((err: unknown) => log({ msg: "sync: could not persist contact", error: (err as Error).message }));
  }

  function contact(ok: boolean): void {
    const t = now();
    if (ok) lastContactAt = t;
    const changed = ok !== connected;
    connected = ok;
    if (changed) log({ msg: ok ? "sync: connected" : "sync: disconnected", seq: state.seq });
    if (changed || t - contactWrittenAt > 5_000) writeContactRecord();
    if (changed && ok) reporter.request();
  }

  async function apply(changes: Change[]): Promise<void> {
    const { state: next, purges } = applyBatch(state, changes);
    if (next.seq === state.seq) return;
    // Purge before persisting: a crash in between replays the purge (harmless), never loses it.
    for (const p of purges) await purge(p.purge, p.tenant);
    // KV writes likewise (kv.ts): applying one twice is harmless; a failed fetch retries the batch.
    await applyKvChanges(store, client, changes.filter((c) => c.seq > state.seq));
    const mark = await writeApplied(store, next.snapshot);
    markId = mark.id;
    // Deletes up to here are applied and persisted: no older change replays, their tombstones can go.
    await store.kv().sweepTombstones(next.seq);
    publish(next, true);
    reporter.request();
  }

  async function replace(snapshot: Snapshot, reason: "cold" | "gap"): Promise<void> {
    // KV is not in the snapshot: take the registry's whole KV contents (deletes in a gap are lost otherwise).
    await importKv(store, client);
    const next = createAppliedState(snapshot);
    if (reason === "gap") {
      // Purges in the part of the feed we could not read are lost: drop every cached response.
      log({ msg: "sync: replaced the state from a snapshot after a feed gap; purging all cached responses", from: state.seq, to: snapshot.seq });
      for (const t of Object.values(next.snapshot.tenants)) {
        for (const d of Object.values(t.distributions)) await purge({ id: `resync-${snapshot.seq}`, distribution: d.name, prefix: "/", at: new Date(now()).toISOString(), by: "verge-sync" }, t.tenant.name);
      }
    }
    const mark = await writeApplied(store, next.snapshot);
    markId = mark.id;
    publish(next, true);
    reporter.request();
  }

  function reload(seq?: number): boolean {
    if (follow || closed) return true;
    // Reads share one LMDB snapshot until lmdb-js resets it on a timer (≥ 1 ms):
    // a commit made meanwhile by another process (the primary) is not seen yet, so
    // the caller re-reads until `seq` is there (worker-reload.ts; issue 4/6).
    const caughtUp = () => seq === undefined || state.seq >= seq;
    const mark = readMark(store);
    if (mark === undefined || mark.id === markId) return caughtUp();
    const snapshot = readApplied(store);
    if (snapshot === undefined) return caughtUp();
    markId = mark.id;
    publish(createAppliedState(snapshot), true);
    return caughtUp();
  }

  async function startFollowing(): Promise<void> {
    lastContactAt = readContact(store)?.lastContactAt ?? startedAt;
    const persisted = readApplied(store);
    if (persisted !== undefined) {
      markId = readMark(store)?.id;
      publish(createAppliedState(persisted), false);
      log({ msg: "sync: resumed from the persisted state", seq: persisted.seq });
    } else {
      try {
        const snapshot = await client.snapshot(AbortSignal.timeout(10_000));
        await importKv(store, client);
        contact(true);
        markId = (await writeApplied(store, snapshot)).id;
        publish(createAppliedState(snapshot), false);
        log({ msg: "sync: cold start from a snapshot", seq: snapshot.seq });
      } catch (err) {
        // A token the registry refuses will not start working by waiting: the node stops here, saying so.
        const code = (err as { code?: unknown }).code;
        if (code === "ERR_UNAUTHORIZED" || code === "ERR_TOKEN_REVOKED" || code === "ERR_MISSING_SCOPE") {
          throw new VergeError(code, `${(err as Error).message}; the node has no state of its own yet, so it cannot serve: pass an operator token with the node scope (--token or VERGE_NODE_TOKEN)`, { cause: err });
        }
        log({ msg: "sync: no persisted state and no snapshot yet; serving nothing until the registry answers", reason: (err as Error).message });
      }
    }
    follower = createFollower({
      client,
      log,
      seq: () => state.seq,
      apply,
      replace,
      contact,
      needSnapshot: state.seq === 0 && markId === undefined,
      ...(tuning.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: tuning.idleTimeoutMs }),
      ...(tuning.maxBackoffMs === undefined ? {} : { maxBackoffMs: tuning.maxBackoffMs }),
      ...(tuning.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: tuning.pollWaitSeconds }),
    });
    void follower.run();
    reporter.start();
    reporter.request();
    // Keep the contact record fresh for the workers' status while nothing else writes it.
    tick = setInterval(() => {
      if (now() - contactWrittenAt > 5_000) writeContactRecord();
    }, 5_000);
    tick.unref();
  }

  function status(): SyncStatus {
    const refused = readRefused(store);
    if (follow) return { appliedSeq: state.seq, staleSeconds: staleSeconds(), connected, refused };
    const c = readContact(store);
    if (c === undefined) return { appliedSeq: state.seq, staleSeconds: (now() - startedAt) / 1000, connected: false, refused };
    const live = c.connected && now() - c.at < CONTACT_FRESH_MS;
    return { appliedSeq: state.seq, staleSeconds: live ? 0 : Math.max(0, (now() - c.lastContactAt) / 1000), connected: live, refused };
  }

  return {
    current: () => state,
    resolve: (s, tenant, association, request) => resolveVersion(s, tenant, association, request),
    load: (s, ref) => loader.load(s, ref),
    status,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async start() {
      if (follow) await startFollowing();
      else reload();
    },
    reload,
    async close() {
      closed = true;
      clearInterval(tick);
      await follower?.stop();
      await reporter.stop();
      listeners.clear();
    },
  };
}
