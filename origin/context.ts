/** What every route needs: the store, the secret box, the feed hub, limits, a clock and a logger. */
import type { Store, WriteTx } from "./store/store.ts";
import type { SecretBox } from "./secrets.ts";
import type { D1Host } from "./d1.ts";
import { createFeedHub, headSeq, type FeedHub } from "./feed.ts";
import { createLogHub, type LogHub } from "./logs.ts";
import type { Scope } from "../src/shared/protocol.ts";

export interface OriginDeps {
  store: Store;
  secrets: SecretBox;
  /** Defaults to a hub started at the store's head. */
  hub?: FeedHub;
  /** `verge logs`: recent events and live tails. Defaults to a hub keeping `logRingSize` events per tenant, in memory only (server.ts passes one over the store). */
  logs?: LogHub;
  /** Events kept per tenant for `verge logs`. Default 1000. */
  logRingSize?: number;
  log?: (line: string) => void;
  /** D1 databases hosted here (server.ts: under the data directory); absent: the D1 routes answer 404. */
  d1?: D1Host;
  now?: () => number;
  /** Largest bundle accepted. Default 10 MiB. */
  maxBundleBytes?: number;
  /** A signed statement older than this is refused at publish. Default 15 minutes. */
  signatureMaxAgeMs?: number;
  /** A node is live if it reported within this window. Default 60 s. */
  nodeLiveMs?: number;
  /** Longest long poll, and the SSE heartbeat interval. Default 30 s / 15 s. */
  maxWaitMs?: number;
  heartbeatMs?: number;
}

export interface Metrics {
  requests: Map<string, number>;
  publishes: { created: number; existing: number; refused: number };
  sseClients: number;
}

export interface OriginContext {
  store: Store;
  secrets: SecretBox;
  hub: FeedHub;
  logs: LogHub;
  log: (line: string) => void;
  now: () => number;
  maxBundleBytes: number;
  signatureMaxAgeMs: number;
  nodeLiveMs: number;
  maxWaitMs: number;
  heartbeatMs: number;
  startedAt: number;
  metrics: Metrics;
  /** Runs a write transaction, then wakes feed followers if it appended changes. */
  write<T>(fn: (tx: WriteTx) => T): Promise<T>;
  iso(): string;
}

export interface Principal {
  tokenId: string;
  name: string;
  /** null: an operator token, not bound to a tenant. */
  tenant: string | null;
  scopes: Scope[];
}

/** Hono's typed context variables for the registry. */
export type OriginEnv = { Variables: { principal: Principal; requestId: string } };

export function createContext(deps: OriginDeps): OriginContext {
  const { store } = deps;
  const hub = deps.hub ?? createFeedHub(store.read(headSeq));
  const now = deps.now ?? Date.now;
  return {
    store,
    secrets: deps.secrets,
    hub,
    logs: deps.logs ?? createLogHub(deps.logRingSize === undefined ? {} : { ringSize: deps.logRingSize }),
    log: deps.log ?? (() => {}),
    now,
    maxBundleBytes: deps.maxBundleBytes ?? 10 * 1024 * 1024,
    signatureMaxAgeMs: deps.signatureMaxAgeMs ?? 15 * 60_000,
    nodeLiveMs: deps.nodeLiveMs ?? 60_000,
    maxWaitMs: deps.maxWaitMs ?? 30_000,
    heartbeatMs: deps.heartbeatMs ?? 15_000,
    startedAt: now(),
    metrics: { requests: new Map(), publishes: { created: 0, existing: 0, refused: 0 }, sseClients: 0 },
    async write(fn) {
      const before = store.read(headSeq);
      const result = await store.write(fn);
      const after = store.read(headSeq);
      if (after > before) hub.notify(after);
      return result;
    },
    iso: () => new Date(now()).toISOString(),
  };
}
