/**
 * Runs the registry: reads `VERGE_*` settings (here and in src/cli only),
 * opens the LMDB store, bootstraps the admin token and listens.
 *
 *   VERGE_PORT (8788)  VERGE_HOST (127.0.0.1)  VERGE_DATA_DIR (./.verge/origin)
 *   VERGE_SECRET_KEY   key sealing secrets at rest; without it one is made in <data>/secret.key
 *   VERGE_ADMIN_TOKEN  the operator admin token; without it one is generated on first start and printed once
 *   VERGE_MAX_BUNDLE_BYTES (10485760)  VERGE_SIGNATURE_MAX_AGE_S (900)  VERGE_NODE_LIVE_S (60)
 *
 * @example
 * const origin = await startOriginServer({ port: 0, dataDir: tmp, secretKey: "k", adminToken: "t".repeat(32) });
 * await fetch(`${origin.url}/v1/health`);
 * await origin.close();
 */
import { serve } from "@hono/node-server";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { VergeError } from "../src/shared/errors.ts";
import { createOriginApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { createFeedHub, headSeq } from "./feed.ts";
import { createLogHub } from "./logs.ts";
import { createD1Host } from "./d1.ts";
import { createSecretBox } from "./secrets.ts";
import { openLmdbStore } from "./store/lmdb.ts";

export interface OriginServerOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /** Seals secrets at rest. Without it a random key is kept in `<dataDir>/secret.key`. */
  secretKey?: string;
  adminToken?: string;
  maxBundleBytes?: number;
  signatureMaxAgeMs?: number;
  nodeLiveMs?: number;
  /** Events kept per tenant for `verge logs` (in memory and in the store). Default 1000. */
  logRingSize?: number;
  /** Heartbeat of server-sent-event streams (feed, log tails). Default 15 s. */
  heartbeatMs?: number;
  /** Milliseconds one D1 query may run at the registry (default 30 000). */
  d1TimeoutMs?: number;
  log?: (line: string) => void;
}

export interface OriginServer {
  url: string;
  /** Set on the first start without `adminToken`: the generated admin token, to print once. */
  generatedAdminToken: string | null;
  close(): Promise<void>;
}

function secretKeyFor(options: OriginServerOptions, log: (line: string) => void): string {
  if (options.secretKey !== undefined && options.secretKey !== "") return options.secretKey;
  const file = join(options.dataDir, "secret.key");
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600 });
    log(`no VERGE_SECRET_KEY: generated a key for secrets at rest in ${file}; keep it apart from the data in production`);
  }
  return readFileSync(file, "utf8").trim();
}

export async function startOriginServer(options: OriginServerOptions): Promise<OriginServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.adminToken !== undefined && options.adminToken.length < 24) {
    throw new VergeError("ERR_INVALID_OPTIONS", "VERGE_ADMIN_TOKEN: expected at least 24 characters");
  }
  mkdirSync(options.dataDir, { recursive: true });
  const store = openLmdbStore({ path: join(options.dataDir, "lmdb") });
  const { generatedToken } = await bootstrap(store, options.adminToken === undefined ? {} : { adminToken: options.adminToken });
  const hub = createFeedHub(store.read(headSeq));
  // `verge logs`: the rings come back from the store, and are written behind each batch.
  const logs = createLogHub({ store, log, ...(options.logRingSize === undefined ? {} : { ringSize: options.logRingSize }) });
  // D1: each tenant's databases, as SQLite files under the data directory.
  const d1 = createD1Host({ dir: join(options.dataDir, "d1"), ...(options.d1TimeoutMs === undefined ? {} : { timeoutMs: options.d1TimeoutMs }) });
  const app = createOriginApp({
    store,
    d1,
    hub,
    logs,
    secrets: createSecretBox(secretKeyFor(options, log)),
    log,
    ...(options.maxBundleBytes === undefined ? {} : { maxBundleBytes: options.maxBundleBytes }),
    ...(options.signatureMaxAgeMs === undefined ? {} : { signatureMaxAgeMs: options.signatureMaxAgeMs }),
    ...(options.nodeLiveMs === undefined ? {} : { nodeLiveMs: options.nodeLiveMs }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  });
  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8788, hostname: host }, () => resolve(s));
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    generatedAdminToken: generatedToken,
    async close() {
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      // Log events still queued are written before the store goes.
      await logs.close();
      await d1.close();
      await store.close();
    },
  };
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw new VergeError("ERR_INVALID_OPTIONS", `${name}: expected a non-negative integer`);
  return Number(raw);
}

/** Server options from `VERGE_*` variables; explicit values win. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<OriginServerOptions> = {}): OriginServerOptions {
  const maxAge = intFromEnv(env, "VERGE_SIGNATURE_MAX_AGE_S");
  const live = intFromEnv(env, "VERGE_NODE_LIVE_S");
  const base: OriginServerOptions = { dataDir: env.VERGE_DATA_DIR || ".verge/origin", port: intFromEnv(env, "VERGE_PORT") ?? 8788, host: env.VERGE_HOST || "127.0.0.1" };
  if (env.VERGE_SECRET_KEY) base.secretKey = env.VERGE_SECRET_KEY;
  if (env.VERGE_ADMIN_TOKEN) base.adminToken = env.VERGE_ADMIN_TOKEN;
  const maxBundle = intFromEnv(env, "VERGE_MAX_BUNDLE_BYTES");
  if (maxBundle !== undefined) base.maxBundleBytes = maxBundle;
  if (maxAge !== undefined) base.signatureMaxAgeMs = maxAge * 1000;
  if (live !== undefined) base.nodeLiveMs = live * 1000;
  return { ...base, ...overrides };
}

/** `node origin/server.ts`: start from the environment and print where it listens. */
if (import.meta.main) {
  const origin = await startOriginServer(optionsFromEnv());
  process.stdout.write(`verge origin listening on ${origin.url}\n`);
  if (origin.generatedAdminToken !== null) process.stdout.write(`admin token (shown once, store it now): ${origin.generatedAdminToken}\n`);
  const stop = () => void origin.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
