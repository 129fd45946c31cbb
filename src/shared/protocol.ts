/**
 * The wire types of the origin registry's HTTP API (`/v1`, JSON), shared by the
 * registry, edge nodes and the CLI (DESIGN.md §2, §6, §7). Edge nodes and the
 * registry talk only through these shapes; change them with care, they are
 * public API.
 *
 * Names (tenants, functions, aliases, distributions) follow {@link NAME_PATTERN}:
 * short, lowercase, URL- and LMDB-key-safe. Versions are named by the hex sha256
 * of their bundle.
 */
import type { FunctionAssets } from "./assets/index.ts";
import type { CloudFrontEventType } from "./limits.ts";
import type { SignedStatement } from "./signing.ts";

export type { CloudFrontEventType };
export * from "./kv-wire.ts";
export * from "./registry-feed.ts";
export * from "./cron-wire.ts";

/** Tenant, function, alias and distribution names: 1–63 chars, `[a-z0-9]` then `[a-z0-9_-]`. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** A version id: the lowercase hex sha256 of the bundle bytes. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

// ─── errors ────────────────────────────────────────────────────────────────

/** Every non-2xx answer of the registry. `details` carries diagnostics when there are any. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    requestId: string;
    details?: { diagnostics?: FieldDiagnostic[] } & Record<string, unknown>;
  };
}

/** One problem found in a document, naming the field (`behaviors[1].ttl.max`). */
export interface FieldDiagnostic {
  path: string;
  message: string;
}

// ─── tenants and tokens ──────────────────────────────────────────────────────

/**
 * `read` GETs, `publish` functions/config/versions, `deploy` aliases and
 * distributions, `admin` tokens and signing (and, without a tenant, tenants),
 * `node` the feed, snapshots and bundles of every tenant plus node reports,
 * `kv` the values of the tenant's Workers KV namespaces (read and write; `admin`
 * and `node` imply it: edge nodes write on behalf of their functions).
 */
export type Scope = "read" | "publish" | "deploy" | "admin" | "node" | "kv" | "d1" | "r2";
export const SCOPES: readonly Scope[] = ["read", "publish", "deploy", "admin", "node", "kv", "d1", "r2"];

export interface Tenant {
  name: string;
  createdAt: string;
}

/** A token as listed: never the secret, which is shown once at creation. */
export interface TokenInfo {
  id: string;
  /** null for an operator token (not bound to a tenant). */
  tenant: string | null;
  scopes: Scope[];
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedToken extends TokenInfo {
  /** The bearer secret, `vrg_<id>_<secret>`. Shown once. */
  token: string;
}

export interface WhoAmI {
  tokenId: string;
  tenant: string | null;
  scopes: Scope[];
}

// ─── functions and versions ────────────────────────────────────────────────────

/** What a caller sends for a function's config (every field optional; defaults filled). */
export interface FunctionConfigInput {
  memoryMb?: number;
  cpuMs?: number;
  wallMs?: number;
  subrequests?: number;
  env?: Record<string, string>;
  /** Max concurrent invocations per edge worker process (beyond it the node answers 503); null: unreserved. */
  reservedConcurrency?: number | null;
  /** Warm isolates per version that an edge node makes when the version is deployed, before traffic. */
  provisionedConcurrency?: number;
  /** Workers KV bindings: `{ BINDING: "namespace" }` (see {@link FunctionConfig.kvNamespaces}). */
  kvNamespaces?: Record<string, string>;
  /** D1 bindings: `{ BINDING: "database" }` (see {@link FunctionConfig.d1Databases}). */
  d1Databases?: Record<string, string>;
  /** Service bindings: `{ BINDING: "function" }` (see {@link FunctionConfig.services}). */
  services?: Record<string, string>;
  /** R2 bucket bindings: `{ BINDING: "bucket" }` (see {@link FunctionConfig.r2Buckets}). */
  r2Buckets?: Record<string, string>;
  /** Cron triggers: 5-field expressions in UTC, at most {@link MAX_CRONS_PER_FUNCTION}. */
  crons?: string[];
  /** Static assets (see {@link FunctionConfig.assets}); every file uploaded first (`PUT …/assets/:hash`). */
  assets?: FunctionAssets;
}

/** A function's config as the API shows it: secrets by name only, never their values. */
export interface FunctionConfig {
  memoryMb: number;
  cpuMs: number;
  wallMs: number;
  subrequests: number;
  env: Record<string, string>;
  /** Names of the secrets set on the function, sorted. Values are encrypted at rest and never returned. */
  secrets: string[];
  /**
   * Max concurrent invocations of the function per edge worker process; an
   * invocation beyond it is throttled (503). null: unreserved. Missing (a
   * config stored before the field existed) means null: see {@link concurrencyOf}.
   */
  reservedConcurrency?: number | null;
  /**
   * Isolates per version an edge node creates, warm, when the version is
   * deployed, before it takes traffic. Missing means 0: see {@link concurrencyOf}.
   */
  provisionedConcurrency?: number;
  /**
   * Workers KV bindings: binding name (a JS identifier, not also an env var or
   * a secret) -> namespace name ({@link NAME_PATTERN}) of the function's tenant.
   * A namespace needs no creation: it exists from its first write, and reads of
   * one never written are empty. Edge nodes bind what the *version's* config
   * says (bindings are part of a version, as in Workers). Missing means none.
   */
  kvNamespaces?: Record<string, string>;
  /**
   * D1 bindings: binding name (a JS identifier, not also an env var, a secret,
   * a KV or a service binding) -> database name ({@link NAME_PATTERN}) of the
   * function's tenant. The registry hosts the database (one primary, as D1);
   * it exists from its first query. Part of a version. Missing means none.
   */
  d1Databases?: Record<string, string>;
  /**
   * Service bindings: binding name (a JS identifier, not also an env var, a
   * secret or a KV binding) -> the name of a function of the same tenant.
   * `env.BINDING.fetch()` runs that function's current version on the same
   * edge node (its `live` alias, else its only alias: {@link cronAliasOf}),
   * never over the network. Part of a version, as KV bindings. Missing means none.
   */
  services?: Record<string, string>;
  /**
   * Cron triggers (issue 5): `scheduled()` runs at each fire of each
   * expression (UTC), on one node of the fleet, with the version the
   * function's `live` alias routes to first (see {@link cronAliasOf}). The
   * function's current config counts, not a version's. Missing means none.
   */
  crons?: string[];
  /**
   * Static assets (Workers' `[assets]`): the files an edge node serves at
   * viewer-request before the Worker (src/shared/assets), by content hash from
   * the tenant's uploads. Part of a version: a bundle published while the
   * function has assets names their {@link assetsDigest} in its last line
   * (`verge publish` adds it). Missing means none.
   */
  assets?: FunctionAssets;
  /**
   * R2 bucket bindings: binding name (a JS identifier, not also an env var, a secret,
   * a KV or a service binding) -> bucket name (R2's: 3–63 lowercase letters, digits
   * and "-") of the function's tenant. Buckets live at the registry, which edge
   * nodes call for every operation; a bucket exists from its first put. Part of a
   * version, as KV bindings. Missing means none.
   */
  r2Buckets?: Record<string, string>;
}

/** Defaults of the concurrency settings, for configs that do not carry them. */
export const DEFAULT_CONCURRENCY: { reservedConcurrency: number | null; provisionedConcurrency: number } = { reservedConcurrency: null, provisionedConcurrency: 0 };

/**
 * A config's concurrency settings with defaults filled (old snapshots lack them).
 *
 * @example
 * const { reserved, provisioned } = concurrencyOf(version.config); // { reserved: null, provisioned: 0 }
 */
export function concurrencyOf(config: Pick<FunctionConfig, "reservedConcurrency" | "provisionedConcurrency">): { reserved: number | null; provisioned: number } {
  return {
    reserved: config.reservedConcurrency ?? DEFAULT_CONCURRENCY.reservedConcurrency,
    provisioned: config.provisionedConcurrency ?? DEFAULT_CONCURRENCY.provisionedConcurrency,
  };
}

export interface FunctionInfo {
  tenant: string;
  name: string;
  config: FunctionConfig;
  createdAt: string;
  updatedAt: string;
}

export type Dialect = "workers-module" | "service-worker" | "lambda-edge";

/** How a version's signature was judged at publish time, under the tenant's policy then. */
export type SignatureStatus = "verified" | "unsigned" | "untrusted-key";

export interface VersionInfo {
  tenant: string;
  function: string;
  /** Hex sha256 of the bundle: the version's name. */
  digest: string;
  size: number;
  dialect: Dialect;
  /** The function's config when the version was published. */
  config: FunctionConfig;
  /** Token id (and name) of the publisher. */
  publisher: { tokenId: string; name: string };
  createdAt: string;
  signature: SignedStatement | null;
  signatureStatus: SignatureStatus;
  /** Set when the tenant's policy was `warn` and the signature was missing or untrusted. */
  flagged: boolean;
}

// ─── aliases ──────────────────────────────────────────────────────────────────

/** A request key that keeps one user on one version while traffic is split. */
export interface StickyKey {
  source: "cookie" | "header" | "query";
  name: string;
}

export interface WeightedRoute {
  version: string;
  /** In (0, 1]; the weights of an alias sum to 1. */
  weight: number;
}

/** What a caller sends: one version, or n-way weighted routes. */
export interface AliasInput {
  version?: string;
  routes?: WeightedRoute[];
  stickyKey?: StickyKey | null;
}

export interface Alias {
  tenant: string;
  function: string;
  name: string;
  /** First route is the primary version; weights sum to 1. */
  routes: WeightedRoute[];
  /** Default sticky key; a distribution's function association may name its own. */
  stickyKey: StickyKey | null;
  /** Increases by one at every change; history keeps each revision. */
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

export interface AliasRevision {
  revision: number;
  routes: WeightedRoute[];
  stickyKey: StickyKey | null;
  at: string;
  by: string;
  /** Set when this revision was made by a rollback, naming the revision restored. */
  rollbackOf: number | null;
}

// ─── signing ──────────────────────────────────────────────────────────────────

export type SigningPolicyMode = "off" | "warn" | "enforce";

export interface TrustedKey {
  keyId: string;
  /** Ed25519 public key, raw 32 bytes as base64url. */
  publicKey: string;
  name: string;
  addedAt: string;
}

export interface SigningPolicy {
  tenant: string;
  policy: SigningPolicyMode;
  keys: TrustedKey[];
}

// ─── distributions ──────────────────────────────────────────────────────────

export interface Origin {
  id: string;
  /** http(s) URL of the customer origin; the path, if any, is prefixed to requests. */
  url: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  customHeaders: Record<string, string>;
}

/** CloudFront cache key policy list semantics. */
export interface KeyList {
  behavior: "none" | "all" | "allowList" | "allExcept";
  items: string[];
}

export interface CacheKeyPolicy {
  queryStrings: KeyList;
  headers: KeyList;
  cookies: KeyList;
}

export interface Ttl {
  min: number;
  default: number;
  max: number;
}

/** A function attached to one event of a cache behavior. Exactly one of `alias`, `version`. */
export interface FunctionAssociation {
  function: string;
  alias?: string;
  version?: string;
  includeBody: boolean;
  /** Overrides the alias's sticky key for this distribution. */
  stickyKey?: StickyKey;
}

export type FunctionAssociations = Partial<Record<CloudFrontEventType, FunctionAssociation>>;

export interface CacheBehavior {
  /**
   * CloudFront path pattern: case-sensitive, `*` any run of characters, `?`
   * exactly one; matched against the path (a leading `/` is optional).
   */
  pathPattern: string;
  originId: string;
  cacheKey: CacheKeyPolicy;
  /** Seconds. */
  ttl: Ttl;
  functions: FunctionAssociations;
}

export type DefaultCacheBehavior = Omit<CacheBehavior, "pathPattern">;

export interface Distribution {
  tenant: string;
  name: string;
  hostnames: string[];
  origins: Origin[];
  /** In precedence order: the first whose pattern matches wins, else `defaultBehavior`. */
  behaviors: CacheBehavior[];
  defaultBehavior: DefaultCacheBehavior;
  updatedAt: string;
}

// ─── purges ─────────────────────────────────────────────────────────────────

/**
 * `POST /v1/tenants/:tenant/distributions/:name/purge` with `{ prefix }` or
 * `{ tag }`: edge nodes drop the cached responses of that distribution whose
 * path starts with `prefix`, or whose `Cache-Tag` response header named `tag`.
 * A purge travels through the change feed like any change.
 */
export interface PurgeInput {
  prefix?: string;
  tag?: string;
}

export interface Purge {
  id: string;
  distribution: string;
  /** A path prefix starting with `/` ("/" purges everything). */
  prefix?: string;
  tag?: string;
  at: string;
  by: string;
}

// ─── secrets for edge nodes ─────────────────────────────────────────────────

/**
 * `GET /v1/tenants/:tenant/functions/:fn/secrets/values`, for tokens with the
 * `node` scope only: the plain values an edge node binds into the function's
 * `env`. Every other reader sees secret names only.
 */
export interface SecretValues {
  tenant: string;
  function: string;
  secrets: Record<string, string>;
}

/**
 * `verge logs`: one viewer request as an edge node saw it, with what its
 * functions wrote to the console. Nodes send them to the registry
 * (`POST /v1/nodes/logs`), which keeps each tenant's recent ones, in memory
 * and in its store (`GET /v1/tenants/:tenant/logs`) and streams new ones to live tails
 * (`GET /v1/tenants/:tenant/logs/tail`, server-sent events `log`).
 */
export interface LogEvent {
  /** ISO time the request arrived at the node. */
  at: string;
  node: string;
  region: string;
  requestId: string;
  tenant: string;
  /** The distribution's name (without the tenant). */
  distribution: string;
  method: string;
  host: string;
  /** Path and query as the viewer sent them. */
  path: string;
  status: number;
  /** `Hit`, `Miss`, ... as in `x-verge-cache`; null when the cache was not asked. */
  cache: string | null;
  durationMs: number;
  /** The request ended in an error response (`x-verge-error`). */
  error?: { code: string; message: string };
  invocations: LogInvocation[];
  /**
   * Set for a cron trigger's run on this node instead of a request: then
   * `method` is "SCHEDULED", `path` the cron expression, `host` and
   * `distribution` are "", `status` 200 when `outcome` is "ok" else 500,
   * `cache` null, and the one invocation's `event` is "scheduled".
   */
  scheduled?: { cron: string; scheduledTime: string; outcome: string };
  /**
   * Set for a service binding call's target, run on this node for a request (or a cron run):
   * `requestId` is the caller's, `method`, `host` and `path` are those of the Request the caller
   * passed to `env.<binding>.fetch()`, `status` the target's answer (500 when it failed), `cache`
   * null, `distribution` the request's ("" under a cron run), and the one invocation's `event` is
   * "service". `caller` is the calling function's name.
   */
  service?: { binding: string; caller: string };
}

export interface LogInvocation {
  /** "service": the target of a service binding call (LogEvent.service). */
  event: CloudFrontEventType | "scheduled" | "service";
  /** The function's name (without the tenant). */
  function: string;
  digest: string;
  cold: boolean;
  cpuMs: number;
  wallMs: number;
  /** The invocation's error code, if it failed. */
  error?: string;
  logs: Array<{ at: string; level: string; message: string }>;
}

/**
 * What a LogEvent weighs in memory, for the bounds both ends keep (a node's
 * queue, the registry's ring per tenant): its console text and a fixed share
 * for its other fields.
 */
export function logEventWeight(e: LogEvent): number {
  let n = 512 + e.path.length;
  for (const i of e.invocations) for (const l of i.logs) n += l.message.length + 64;
  return n;
}

/**
 * `POST /v1/nodes/logs` (node scope). Without a live tail a node sends only
 * requests that ran a function or ended in an error; while the answer says
 * `tail: true` it sends every request. Either way a node sends at most a
 * bounded rate and counts what it dropped.
 */
export interface LogBatch {
  node: string;
  region: string;
  events: LogEvent[];
  /** Events this node dropped since its last batch (rate cap, or the registry unreachable). */
  dropped: number;
}

export interface LogBatchAnswer {
  /** Some tenant has a live tail: send every request, not only those with a function or an error. */
  tail: boolean;
}

/** `GET /v1/tenants/:tenant/logs?limit=n`: the tenant's recent events, oldest first. */
export interface LogList {
  events: LogEvent[];
  /** Per node, events it reported dropped (all tenants) since the registry started. */
  dropped: Record<string, number>;
}
