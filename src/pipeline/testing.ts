/**
 * In-memory doubles of the contracts the pipeline uses (types.ts),
 * for tests: a `StateSource` over a snapshot built by hand, a `Quarantine`, and
 * a distribution builder. The response-cache double is in testing-cache.ts.
 * They honour the contracts: each change makes a new immutable applied state,
 * `resolve` reads only the state it is given, `load` returns the same spec
 * object for the same version and config.
 */
import { createHash } from "node:crypto";
import { VergeError, type VergeErrorCode } from "../shared/errors.ts";
import { resolveLimits, type LimitsOptions } from "../shared/limits.ts";
import type { Alias, CacheBehavior, Distribution, FunctionAssociations, FunctionConfig, Origin, Snapshot, StickyKey, TenantState, WeightedRoute } from "../shared/protocol.ts";
import { createBindings, type FunctionSpec } from "../runtime/index.ts";
import type { AppliedState, Quarantine, StateSource, StickyInput, SyncStatus, VersionRef } from "./types.ts";

export { createTestCache, type TestCache } from "./testing-cache.ts";

export interface VersionOptions {
  /** Function config (limits in it are applied); `reservedConcurrency` as the protocol is adding it. */
  config?: Partial<FunctionConfig> & { reservedConcurrency?: number | null };
  /** Raw limits, over the config's (e.g. `{ profile: "lambda-edge" }`). */
  limits?: LimitsOptions;
  format?: "esm" | "script";
}

export interface TestState extends StateSource {
  /** Adds a version of `fn` (creating the function) and returns its digest. The function's config becomes this one. */
  addVersion(fn: string, code: string, options?: VersionOptions): string;
  setAlias(fn: string, alias: string, routes: string | WeightedRoute[], stickyKey?: StickyKey | null): void;
  putDistribution(distribution: Distribution): void;
  /** Makes `load` of `digest` throw `code` (ERR_BUNDLE_UNAVAILABLE, ERR_SIGNATURE_INVALID, ...). */
  failLoad(digest: string, code: VergeErrorCode | null): void;
  /** How many times `current()` was called. */
  readonly currentCalls: number;
}

const DEFAULT_CONFIG: FunctionConfig = { memoryMb: 128, cpuMs: 50, wallMs: 30_000, subrequests: 50, env: {}, secrets: [] };

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function createTestState(tenantName = "acme"): TestState {
  let snapshot: Snapshot = { seq: 0, tenants: { [tenantName]: emptyTenant(tenantName) } };
  const bundles = new Map<string, { code: string; options: VersionOptions }>();
  const failures = new Map<string, VergeErrorCode>();
  const specs = new Map<string, FunctionSpec>();
  const listeners = new Set<(s: AppliedState) => void>();
  let applied = freeze(snapshot);
  let currentCalls = 0;

  function freeze(s: Snapshot): AppliedState {
    const frozen = deepFreeze(structuredClone(s));
    const byHost = new Map<string, Distribution>();
    for (const t of Object.values(frozen.tenants)) for (const d of Object.values(t.distributions)) for (const h of d.hostnames) byHost.set(h.toLowerCase(), d);
    return { seq: frozen.seq, snapshot: frozen, distributionFor: (host) => byHost.get(host) };
  }

  function change(edit: (t: TenantState) => void): void {
    const next = structuredClone(snapshot);
    edit(next.tenants[tenantName]!);
    next.seq++;
    snapshot = next;
    applied = freeze(snapshot);
    for (const l of listeners) l(applied);
  }

  return {
    get currentCalls() {
      return currentCalls;
    },
    current() {
      currentCalls++;
      return applied;
    },

    resolve(state: AppliedState, tenant: string, association, request: StickyInput): VersionRef {
      const t = state.snapshot.tenants[tenant];
      const fn = association.function;
      if (t?.functions[fn] === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `function ${tenant}/${fn} does not exist`);
      if (association.version !== undefined) {
        if (t.versions[`${fn}/${association.version}`] === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `version ${association.version} of ${tenant}/${fn} does not exist`);
        return { tenant, function: fn, digest: association.version };
      }
      const alias = t.aliases[`${fn}/${association.alias}`];
      if (alias === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `alias ${association.alias} of ${tenant}/${fn} does not exist`);
      return { tenant, function: fn, digest: pick(alias, association.stickyKey ?? alias.stickyKey, request) };
    },

    async load(state: AppliedState, ref: VersionRef): Promise<FunctionSpec> {
      const failure = failures.get(ref.digest);
      if (failure !== undefined) throw new VergeError(failure, `version ${ref.digest} of ${ref.tenant}/${ref.function} cannot be loaded (${failure})`);
      const bundle = bundles.get(ref.digest);
      const config = state.snapshot.tenants[ref.tenant]?.functions[ref.function]?.config;
      if (bundle === undefined || config === undefined) throw new VergeError("ERR_BUNDLE_UNAVAILABLE", `no bundle for ${ref.digest}`);
      const key = `${ref.digest}\u0000${JSON.stringify(config)}`;
      let spec = specs.get(key);
      if (spec === undefined) {
        const limits = resolveLimits({ cpuMs: config.cpuMs, wallMs: config.wallMs, memoryMb: config.memoryMb, subrequests: config.subrequests, ...bundle.options.limits });
        // Service bindings as an edge node binds them (edge-nodes/sync/loader.ts); ids as a node's, `tenant/function/digest`.
        const bindings = createBindings(Object.fromEntries(Object.entries(config.services ?? {}).map(([binding, service]) => [binding, { type: "service", value: { service } }]))).bindings;
        spec = { source: { id: `${ref.tenant}/${ref.function}/${ref.digest}`, code: bundle.code, format: bundle.options.format ?? "esm" }, limits, env: { ...config.env }, bindings };
        specs.set(key, spec);
      }
      return spec;
    },

    status(): SyncStatus {
      return { appliedSeq: applied.seq, staleSeconds: 0, connected: true, refused: [] };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    addVersion(fn, code, options = {}) {
      const digest = createHash("sha256").update(code).digest("hex");
      bundles.set(digest, { code, options });
      const config: FunctionConfig = { ...DEFAULT_CONFIG, ...options.config } as FunctionConfig;
      const at = new Date(0).toISOString();
      change((t) => {
        t.functions[fn] = { tenant: tenantName, name: fn, config, createdAt: at, updatedAt: at };
        t.versions[`${fn}/${digest}`] = {
          tenant: tenantName, function: fn, digest, size: code.length, dialect: "workers-module", config, publisher: { tokenId: "t", name: "test" },
          createdAt: at, signature: null, signatureStatus: "unsigned", flagged: false,
        };
      });
      return digest;
    },
    setAlias(fn, alias, routes, stickyKey = null) {
      const list = typeof routes === "string" ? [{ version: routes, weight: 1 }] : routes;
      change((t) => {
        const a: Alias = { tenant: tenantName, function: fn, name: alias, routes: list, stickyKey, revision: 1, updatedAt: new Date(0).toISOString(), updatedBy: "test" };
        t.aliases[`${fn}/${alias}`] = a;
      });
    },
    putDistribution(distribution) {
      change((t) => {
        t.distributions[distribution.name] = distribution;
      });
    },
    failLoad(digest, code) {
      if (code === null) failures.delete(digest);
      else failures.set(digest, code);
    },
  };
}

function emptyTenant(name: string): TenantState {
  return { tenant: { name, createdAt: new Date(0).toISOString() }, functions: {}, versions: {}, aliases: {}, distributions: {}, signing: { tenant: name, policy: "off", keys: [] } };
}

/** A weighted route: by a hash of the sticky key's value when the request has it, else at random. */
function pick(alias: Alias, sticky: StickyKey | null | undefined, request: StickyInput): string {
  let value: string | null = null;
  if (sticky) {
    if (sticky.source === "header") value = request.headers.get(sticky.name);
    else if (sticky.source === "query") value = request.url.searchParams.get(sticky.name);
    else value = (request.headers.get("cookie") ?? "").split(/;\s*/).find((c) => c.startsWith(`${sticky.name}=`))?.slice(sticky.name.length + 1) ?? null;
  }
  const r = value === null ? Math.random() : createHash("sha256").update(value).digest().readUInt32BE(0) / 2 ** 32;
  let sum = 0;
  for (const route of alias.routes) {
    sum += route.weight;
    if (r < sum) return route.version;
  }
  return alias.routes[alias.routes.length - 1]!.version;
}

export function createTestQuarantine(): Quarantine & { add(digest: string): void } {
  const entries = new Map<string, { digest: string; crashes: number; since: string }>();
  return {
    has: (digest) => entries.has(digest),
    list: () => [...entries.values()],
    add: (digest) => void entries.set(digest, { digest, crashes: 3, since: new Date().toISOString() }),
  };
}

export interface TestDistributionOptions {
  name?: string;
  tenant?: string;
  hostnames?: string[];
  originUrl: string;
  origin?: Partial<Origin>;
  functions?: FunctionAssociations;
  behaviors?: Array<Partial<CacheBehavior> & { pathPattern: string }>;
  ttl?: { min: number; default: number; max: number };
}

/** A distribution with one origin and a default behavior caching by path and full query. */
export function testDistribution(o: TestDistributionOptions): Distribution {
  const cacheKey = { queryStrings: { behavior: "all" as const, items: [] }, headers: { behavior: "none" as const, items: [] }, cookies: { behavior: "none" as const, items: [] } };
  const ttl = o.ttl ?? { min: 0, default: 60, max: 3600 };
  return {
    tenant: o.tenant ?? "acme",
    name: o.name ?? "site",
    hostnames: o.hostnames ?? ["site.test"],
    origins: [{ id: "main", url: o.originUrl, connectTimeoutMs: 2_000, readTimeoutMs: 5_000, customHeaders: {}, ...o.origin }],
    behaviors: (o.behaviors ?? []).map((b) => ({ originId: "main", cacheKey, ttl, functions: {}, ...b })),
    defaultBehavior: { originId: "main", cacheKey, ttl, functions: o.functions ?? {} },
    updatedAt: new Date(0).toISOString(),
  };
}
