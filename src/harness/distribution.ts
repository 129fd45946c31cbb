/**
 * `upstream` and `distribution` (harness options) → the one-origin
 * distribution the edge pipeline runs the function in. Names and defaults are
 * the registry's (origin/validate/distribution.ts), so what a test sets is what
 * a distribution published to a fleet says: TTLs 0 / 86400 / 31536000 s, a
 * cache key of the path alone (no query strings, headers or cookies) unless
 * `cacheKey` says more, origin timeouts 10 s to connect and 30 s to read.
 * Validation is pure and reports every problem at once.
 */
import { describe, type CloudFrontEventType, type Diagnostic } from "../shared/limits.ts";
import type { CacheKeyPolicy, Distribution, FunctionAssociations, KeyList, Origin, Ttl } from "../shared/protocol.ts";
import { normalize, pathPatternProblem } from "../shared/path-pattern.ts";

/** Where and how the function under test sits in its distribution (with `upstream`). */
export interface DistributionOptions {
  /**
   * Host names the distribution serves. Default: every host (whatever URL you
   * dispatch, as a local server answers any `Host`). With a list, other hosts
   * get 404 `ERR_NO_DISTRIBUTION`, as on an edge node.
   */
  hostnames?: string[];
  /** The default behavior's TTLs in seconds: `{ min, default, max }` (CloudFront's: 0, 86400, 31536000). */
  ttl?: Partial<Ttl>;
  /**
   * The default behavior's cache key policy (CloudFront's): `queryStrings`,
   * `headers`, `cookies`, each `{ behavior: "none" | "all" | "allowList" |
   * "allExcept", items }` (headers: none or allowList). Default: none of them.
   */
  cacheKey?: Partial<CacheKeyPolicy>;
  /** Lambda@Edge include-body: the function sees the request body (request events only). */
  includeBody?: boolean;
  /**
   * More cache behaviors, first match wins, else the default one. Each has its
   * own `ttl` and `cacheKey` (defaults as above); `function: false` leaves the
   * function off its paths.
   */
  behaviors?: Array<{ pathPattern: string; ttl?: Partial<Ttl>; cacheKey?: Partial<CacheKeyPolicy>; function?: boolean }>;
  /** The origin's timeouts (ms) and custom headers added to every origin request. */
  origin?: { connectTimeoutMs?: number; readTimeoutMs?: number; customHeaders?: Record<string, string> };
}

/** The tenant and name the harness's distribution has (cache keys, logs, `x-verge-*` headers say `local/local`). */
export const LOCAL_TENANT = "local";
export const LOCAL_DISTRIBUTION = "local";

const ONE_YEAR = 31_536_000;
const DEFAULT_TTL: Ttl = { min: 0, default: 86_400, max: ONE_YEAR };
const KEY_BEHAVIORS = ["none", "all", "allowList", "allExcept"] as const;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const HOSTNAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const REQUEST_EVENTS = new Set<string>(["viewer-request", "origin-request"]);

export interface FunctionRef {
  name: string;
  digest: string;
  events: CloudFrontEventType[];
}

/** Checks `upstream` (an http(s) origin URL, a path allowed as the origin path). */
export function validateUpstream(raw: unknown, d: Diagnostic[]): URL | undefined {
  if (typeof raw !== "string" || !URL.canParse(raw)) {
    d.push({ path: "upstream", message: `expected an http(s) URL such as "http://127.0.0.1:8080", found ${describe(raw)}` });
    return undefined;
  }
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") d.push({ path: "upstream", message: `expected an http(s) URL, found the scheme ${url.protocol}` });
  else if (url.username || url.password) d.push({ path: "upstream", message: "credentials in the URL are not allowed; use distribution.origin.customHeaders" });
  else if (url.search || url.hash) d.push({ path: "upstream", message: "expected no query or fragment" });
  else return url;
  return undefined;
}

/** The distribution for `fn` at `upstream`, or diagnostics naming each bad field. */
export function buildDistribution(raw: DistributionOptions | undefined, upstream: URL, fn: FunctionRef, d: Diagnostic[]): Distribution {
  const o = (object(raw, "distribution", d) ?? {}) as Record<string, unknown>;
  known(o, "distribution", ["hostnames", "ttl", "cacheKey", "includeBody", "behaviors", "origin"], d);
  const includeBody = o.includeBody ?? false;
  if (typeof includeBody !== "boolean") d.push({ path: "distribution.includeBody", message: `expected true or false, found ${describe(includeBody)}` });
  else if (includeBody && !fn.events.some((e) => REQUEST_EVENTS.has(e))) d.push({ path: "distribution.includeBody", message: "the body can be included only at viewer-request and origin-request" });
  const functions: FunctionAssociations = {};
  for (const event of fn.events) functions[event] = { function: fn.name, version: fn.digest, includeBody: includeBody === true && REQUEST_EVENTS.has(event) };

  const hostnames: string[] = [];
  if (o.hostnames !== undefined) {
    if (!Array.isArray(o.hostnames) || o.hostnames.length === 0) d.push({ path: "distribution.hostnames", message: `expected a non-empty array of host names, found ${describe(o.hostnames)}` });
    else
      o.hostnames.forEach((h, i) => {
        const host = typeof h === "string" ? h.toLowerCase() : "";
        if (!HOSTNAME.test(host) || host.length > 253) d.push({ path: `distribution.hostnames[${i}]`, message: `expected a DNS name such as "www.example.com", found ${describe(h)}` });
        else hostnames.push(host);
      });
  }

  const behaviors: Distribution["behaviors"] = [];
  if (o.behaviors !== undefined && !Array.isArray(o.behaviors)) d.push({ path: "distribution.behaviors", message: `expected an array, found ${describe(o.behaviors)}` });
  else
    ((o.behaviors as unknown[] | undefined) ?? []).forEach((b, i) => {
      const path = `distribution.behaviors[${i}]`;
      const bo = object(b, path, d);
      if (bo === undefined) return;
      known(bo, path, ["pathPattern", "ttl", "cacheKey", "function"], d);
      const pattern = bo.pathPattern;
      if (typeof pattern !== "string") return void d.push({ path: `${path}.pathPattern`, message: `expected a path pattern such as "/images/*", found ${describe(pattern)}` });
      const problem = pathPatternProblem(pattern);
      if (problem !== null) d.push({ path: `${path}.pathPattern`, message: problem });
      else if (behaviors.some((e) => normalize(e.pathPattern) === normalize(pattern))) d.push({ path: `${path}.pathPattern`, message: `"${pattern}" is listed twice` });
      if (bo.function !== undefined && typeof bo.function !== "boolean") d.push({ path: `${path}.function`, message: `expected true or false, found ${describe(bo.function)}` });
      behaviors.push({ pathPattern: pattern, originId: "upstream", cacheKey: cacheKey(bo.cacheKey, `${path}.cacheKey`, d), ttl: ttl(bo.ttl, `${path}.ttl`, d), functions: bo.function === false ? {} : functions });
    });

  return {
    tenant: LOCAL_TENANT,
    name: LOCAL_DISTRIBUTION,
    hostnames,
    origins: [origin(o.origin, upstream, d)],
    behaviors,
    defaultBehavior: { originId: "upstream", cacheKey: cacheKey(o.cacheKey, "distribution.cacheKey", d), ttl: ttl(o.ttl, "distribution.ttl", d), functions },
    updatedAt: new Date(0).toISOString(),
  };
}

function origin(raw: unknown, upstream: URL, d: Diagnostic[]): Origin {
  const o = object(raw, "distribution.origin", d) ?? {};
  known(o, "distribution.origin", ["connectTimeoutMs", "readTimeoutMs", "customHeaders"], d);
  const customHeaders: Record<string, string> = {};
  const ch = object(o.customHeaders, "distribution.origin.customHeaders", d) ?? {};
  for (const [name, value] of Object.entries(ch)) {
    if (!HEADER_NAME.test(name) || typeof value !== "string") d.push({ path: `distribution.origin.customHeaders.${name}`, message: `expected a header name and a string value, found ${describe(value)}` });
    else customHeaders[name] = value;
  }
  return {
    id: "upstream",
    url: upstream.href.replace(/\/$/, ""),
    connectTimeoutMs: integer(o.connectTimeoutMs, "distribution.origin.connectTimeoutMs", 1, 60_000, 10_000, d),
    readTimeoutMs: integer(o.readTimeoutMs, "distribution.origin.readTimeoutMs", 1, 180_000, 30_000, d),
    customHeaders,
  };
}

function ttl(raw: unknown, path: string, d: Diagnostic[]): Ttl {
  const o = object(raw, path, d) ?? {};
  known(o, path, ["min", "default", "max"], d);
  const t = {
    min: integer(o.min, `${path}.min`, 0, ONE_YEAR * 100, DEFAULT_TTL.min, d),
    default: integer(o.default, `${path}.default`, 0, ONE_YEAR * 100, DEFAULT_TTL.default, d),
    max: integer(o.max, `${path}.max`, 0, ONE_YEAR * 100, DEFAULT_TTL.max, d),
  };
  if (t.max < t.min) d.push({ path: `${path}.max`, message: `${t.max} is below min ${t.min}: expected min ≤ default ≤ max` });
  // A default left unset follows a min or max that was set (ttl: { max: 0 } caches nothing).
  else if (o.default === undefined) t.default = Math.min(Math.max(t.default, t.min), t.max);
  else if (t.default < t.min || t.default > t.max) d.push({ path: `${path}.default`, message: `${t.default} is outside min ${t.min} .. max ${t.max}: expected min ≤ default ≤ max` });
  return t;
}

function cacheKey(raw: unknown, path: string, d: Diagnostic[]): CacheKeyPolicy {
  const o = object(raw, path, d) ?? {};
  known(o, path, ["queryStrings", "headers", "cookies"], d);
  return {
    queryStrings: keyList(o.queryStrings, `${path}.queryStrings`, KEY_BEHAVIORS, d),
    headers: keyList(o.headers, `${path}.headers`, ["none", "allowList"], d),
    cookies: keyList(o.cookies, `${path}.cookies`, KEY_BEHAVIORS, d),
  };
}

function keyList(raw: unknown, path: string, allowed: readonly KeyList["behavior"][], d: Diagnostic[]): KeyList {
  if (raw === undefined) return { behavior: "none", items: [] };
  const o = object(raw, path, d);
  if (o === undefined) return { behavior: "none", items: [] };
  known(o, path, ["behavior", "items"], d);
  const behavior = o.behavior as KeyList["behavior"];
  if (!allowed.includes(behavior)) {
    d.push({ path: `${path}.behavior`, message: `expected one of ${allowed.map((b) => `"${b}"`).join(", ")}, found ${describe(o.behavior)}` });
    return { behavior: "none", items: [] };
  }
  const items = o.items ?? [];
  if (!Array.isArray(items) || items.some((it) => typeof it !== "string" || !HEADER_NAME.test(it))) {
    d.push({ path: `${path}.items`, message: `expected an array of names, found ${describe(items)}` });
    return { behavior: "none", items: [] };
  }
  if ((behavior === "allowList" || behavior === "allExcept") && items.length === 0) d.push({ path: `${path}.items`, message: `expected at least one name for "${behavior}"` });
  if ((behavior === "none" || behavior === "all") && items.length > 0) d.push({ path: `${path}.items`, message: `expected no names for "${behavior}"` });
  return { behavior, items: path.endsWith("headers") ? items.map((h: string) => h.toLowerCase()) : [...items] };
}

function object(raw: unknown, path: string, d: Diagnostic[]): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    d.push({ path, message: `expected an object, found ${describe(raw)}` });
    return undefined;
  }
  return raw as Record<string, unknown>;
}

function known(o: Record<string, unknown>, path: string, keys: string[], d: Diagnostic[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) d.push({ path: `${path}.${k}`, message: `unknown option; expected one of ${keys.join(", ")}` });
}

function integer(raw: unknown, path: string, min: number, max: number, fallback: number, d: Diagnostic[]): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
    d.push({ path, message: `expected an integer from ${min} to ${max}, found ${describe(raw)}` });
    return fallback;
  }
  return raw;
}
