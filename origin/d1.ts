/**
 * D1 at the registry: each tenant's databases are SQLite files under the data
 * directory (`<dir>/<tenant>/<database>.sqlite`), run by the shared D1 engine
 * (src/shared/d1/engine.ts: a child process per open database, each query
 * under a time limit, the authorizer and caps of the runtime's binding). As in
 * Cloudflare, a database is one primary: every edge node's binding sends its
 * queries here. A database exists from its first query.
 *
 * An engine whose database has been idle for `idleMs` is closed (its process
 * ends), so a registry with many tenants keeps processes only for the
 * databases in use.
 */
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createD1Engine, type D1DatabaseLimits, type D1Engine, type D1Request, type D1Response } from "../src/shared/d1/index.ts";

export interface D1HostOptions {
  /** Directory of the databases (server.ts: `<dataDir>/d1`). */
  dir: string;
  /** Milliseconds one query, batch or exec may run (default 30 000). */
  timeoutMs?: number;
  limits?: Partial<D1DatabaseLimits>;
  /** An engine idle this long is closed (default 5 minutes). */
  idleMs?: number;
}

export interface D1DatabaseInfo {
  name: string;
  sizeBytes: number;
}

export interface D1Host {
  /** Runs a request on the tenant's database (names already checked against NAME_PATTERN). */
  run(tenant: string, database: string, request: D1Request): Promise<D1Response>;
  /** The tenant's databases (those queried at least once). */
  list(tenant: string): D1DatabaseInfo[];
  close(): Promise<void>;
}

export function createD1Host(options: D1HostOptions): D1Host {
  const idleMs = options.idleMs ?? 5 * 60_000;
  const open = new Map<string, { engine: D1Engine; busy: number; idle?: NodeJS.Timeout }>();

  const entryFor = (path: string) => {
    let e = open.get(path);
    if (e === undefined) {
      e = { engine: createD1Engine({ ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...(options.limits !== undefined ? { limits: options.limits } : {}) }), busy: 0 };
      open.set(path, e);
    }
    if (e.idle !== undefined) clearTimeout(e.idle);
    e.idle = undefined;
    return e;
  };

  return {
    async run(tenant, database, request) {
      const dir = join(options.dir, tenant);
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${database}.sqlite`);
      const e = entryFor(path);
      e.busy++;
      try {
        return await e.engine.run(path, request);
      } finally {
        if (--e.busy === 0) {
          e.idle = setTimeout(() => {
            if (open.get(path) === e && e.busy === 0) {
              open.delete(path);
              void e.engine.close();
            }
          }, idleMs);
          e.idle.unref();
        }
      }
    },
    list(tenant) {
      let names: string[];
      try {
        names = readdirSync(join(options.dir, tenant));
      } catch {
        return [];
      }
      return names
        .filter((n) => n.endsWith(".sqlite"))
        .sort()
        .map((n) => ({ name: n.slice(0, -".sqlite".length), sizeBytes: statSync(join(options.dir, tenant, n)).size }));
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      for (const e of all) if (e.idle !== undefined) clearTimeout(e.idle);
      await Promise.all(all.map((e) => e.engine.close()));
    },
  };
}
