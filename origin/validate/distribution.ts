/**
 * Distribution documents, validated on write (issue 3): every problem is
 * reported at once, each naming its field (`behaviors[1].ttl.max`).
 */
import { CLOUDFRONT_EVENT_TYPES } from "../../src/shared/cloudfront/types.ts";
import {
  NAME_PATTERN,
  DIGEST_PATTERN,
  type CacheKeyPolicy,
  type DefaultCacheBehavior,
  type Distribution,
  type FunctionAssociation,
  type FunctionAssociations,
  type KeyList,
  type Origin,
  type Ttl,
} from "../../src/shared/protocol.ts";
import { validateStickyKey } from "./alias.ts";
import { Diagnostics } from "./fields.ts";
import { covers, normalize, pathPatternProblem } from "../../src/shared/path-pattern.ts";

/** What the validator may ask about the tenant's other objects. */
export interface DistributionContext {
  functionExists(fn: string): boolean;
  aliasExists(fn: string, alias: string): boolean;
  versionExists(fn: string, digest: string): boolean;
}

export type DistributionBody = Omit<Distribution, "tenant" | "name" | "updatedAt">;

const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
/** Headers CloudFront does not let a distribution add to origin requests. */
const FORBIDDEN_ORIGIN_HEADERS = new Set(["cache-control", "connection", "content-length", "cookie", "host", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "max-forwards", "pragma", "proxy-authorization", "proxy-connection", "range", "request-range", "te", "trailer", "transfer-encoding", "upgrade", "via", "x-real-ip"]);
const ONE_YEAR = 31_536_000;
const DEFAULT_TTL: Ttl = { min: 0, default: 86_400, max: ONE_YEAR };
const NONE: KeyList = { behavior: "none", items: [] };

function keyList(d: Diagnostics, path: string, raw: unknown, behaviors: readonly KeyList["behavior"][]): KeyList {
  if (raw === undefined) return { ...NONE, items: [] };
  const obj = d.object(path, raw);
  if (obj === undefined) return NONE;
  d.known(path, obj, ["behavior", "items"]);
  const behavior = obj.behavior as KeyList["behavior"];
  if (!behaviors.includes(behavior)) {
    d.add(`${path}.behavior`, `expected one of ${behaviors.map((b) => `"${b}"`).join(", ")}, found ${JSON.stringify(obj.behavior) ?? "nothing"}`);
    return NONE;
  }
  const items = (d.array(`${path}.items`, obj.items ?? [], 30) ?? []).filter((it, i): it is string => d.string(`${path}.items[${i}]`, it, HEADER_NAME, "a name") !== undefined);
  if ((behavior === "allowList" || behavior === "allExcept") && items.length === 0) d.add(`${path}.items`, `expected at least one name for "${behavior}"`);
  if ((behavior === "none" || behavior === "all") && items.length > 0) d.add(`${path}.items`, `expected no names for "${behavior}"`);
  return { behavior, items: path.endsWith("headers") ? items.map((h) => h.toLowerCase()) : items };
}

function ttl(d: Diagnostics, path: string, raw: unknown): Ttl {
  const obj = d.object(path, raw, true);
  if (obj === undefined) return { ...DEFAULT_TTL };
  d.known(path, obj, ["min", "default", "max"]);
  const t = {
    min: d.integer(`${path}.min`, obj.min, 0, ONE_YEAR * 100, DEFAULT_TTL.min),
    default: d.integer(`${path}.default`, obj.default, 0, ONE_YEAR * 100, DEFAULT_TTL.default),
    max: d.integer(`${path}.max`, obj.max, 0, ONE_YEAR * 100, DEFAULT_TTL.max),
  };
  if (t.default < t.min) d.add(`${path}.default`, `${t.default} is below ttl.min ${t.min}: expected min ≤ default ≤ max`);
  if (t.max < t.default) d.add(`${path}.max`, `${t.max} is below ttl.default ${t.default}: expected min ≤ default ≤ max`);
  return t;
}

function association(d: Diagnostics, path: string, raw: unknown, event: string, ctx: DistributionContext): FunctionAssociation | undefined {
  const obj = d.object(path, raw);
  if (obj === undefined) return undefined;
  d.known(path, obj, ["function", "alias", "version", "includeBody", "stickyKey"]);
  const fn = d.string(`${path}.function`, obj.function, NAME_PATTERN, "a function name");
  const includeBody = obj.includeBody ?? false;
  if (typeof includeBody !== "boolean") d.add(`${path}.includeBody`, `expected true or false, found ${JSON.stringify(includeBody)}`);
  else if (includeBody && event.endsWith("response")) d.add(`${path}.includeBody`, "the body can be included only at viewer-request and origin-request");
  const stickyKey = validateStickyKey(d, `${path}.stickyKey`, obj.stickyKey);
  if ((obj.alias === undefined) === (obj.version === undefined)) {
    d.add(path, "expected exactly one of `alias` or `version`");
    return undefined;
  }
  if (fn === undefined) return undefined;
  if (!ctx.functionExists(fn)) {
    d.add(`${path}.function`, `function "${fn}" not found in this tenant`);
    return undefined;
  }
  const out: FunctionAssociation = { function: fn, includeBody: includeBody === true };
  if (stickyKey !== null) out.stickyKey = stickyKey;
  if (obj.alias !== undefined) {
    const alias = d.string(`${path}.alias`, obj.alias, NAME_PATTERN, "an alias name");
    if (alias !== undefined && !ctx.aliasExists(fn, alias)) d.add(`${path}.alias`, `alias "${alias}" not found on function "${fn}"`);
    if (alias !== undefined) out.alias = alias;
  } else {
    const version = d.string(`${path}.version`, obj.version, DIGEST_PATTERN, "a version digest (64 lowercase hex characters)");
    if (version !== undefined && !ctx.versionExists(fn, version)) d.add(`${path}.version`, `version ${version.slice(0, 12)}… not found on function "${fn}"`);
    if (version !== undefined) out.version = version;
  }
  return out;
}

function behavior(d: Diagnostics, path: string, raw: unknown, originIds: Set<string>, ctx: DistributionContext): DefaultCacheBehavior | undefined {
  const obj = d.object(path, raw);
  if (obj === undefined) return undefined;
  d.known(path, obj, path === "defaultBehavior" ? ["originId", "cacheKey", "ttl", "functions"] : ["pathPattern", "originId", "cacheKey", "ttl", "functions"]);
  const originId = d.string(`${path}.originId`, obj.originId, null, "the id of one of `origins`") ?? "";
  if (originId !== "" && !originIds.has(originId)) d.add(`${path}.originId`, `no origin has id "${originId.slice(0, 64)}"; expected one of ${[...originIds].join(", ") || "(no origins)"}`);
  const ck = d.object(`${path}.cacheKey`, obj.cacheKey, true) ?? {};
  d.known(`${path}.cacheKey`, ck, ["queryStrings", "headers", "cookies"]);
  const cacheKey: CacheKeyPolicy = {
    queryStrings: keyList(d, `${path}.cacheKey.queryStrings`, ck.queryStrings, ["none", "all", "allowList", "allExcept"]),
    headers: keyList(d, `${path}.cacheKey.headers`, ck.headers, ["none", "allowList"]),
    cookies: keyList(d, `${path}.cacheKey.cookies`, ck.cookies, ["none", "all", "allowList", "allExcept"]),
  };
  const functions: FunctionAssociations = {};
  const fobj = d.object(`${path}.functions`, obj.functions, true) ?? {};
  d.known(`${path}.functions`, fobj, CLOUDFRONT_EVENT_TYPES);
  for (const event of CLOUDFRONT_EVENT_TYPES) {
    if (fobj[event] === undefined) continue;
    const a = association(d, `${path}.functions.${event}`, fobj[event], event, ctx);
    if (a !== undefined) functions[event] = a;
  }
  return { originId, cacheKey, ttl: ttl(d, `${path}.ttl`, obj.ttl), functions };
}

function origin(d: Diagnostics, path: string, raw: unknown): Origin | undefined {
  const obj = d.object(path, raw);
  if (obj === undefined) return undefined;
  d.known(path, obj, ["id", "url", "connectTimeoutMs", "readTimeoutMs", "customHeaders"]);
  const id = d.string(`${path}.id`, obj.id, NAME_PATTERN, "an origin id (lowercase letters, digits, - or _)");
  const url = d.string(`${path}.url`, obj.url, null, "an http(s) URL");
  if (url !== undefined) {
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) d.add(`${path}.url`, `expected an http(s) URL, found ${JSON.stringify(url.slice(0, 80))}`);
    else if (parsed.username || parsed.password) d.add(`${path}.url`, "credentials in the URL are not allowed; use customHeaders");
    else if (parsed.search || parsed.hash) d.add(`${path}.url`, "expected no query or fragment");
  }
  const customHeaders = d.stringMap(`${path}.customHeaders`, obj.customHeaders, HEADER_NAME, "an HTTP header name", 10, 1783);
  for (const name of Object.keys(customHeaders)) {
    const lower = name.toLowerCase();
    if (FORBIDDEN_ORIGIN_HEADERS.has(lower) || lower.startsWith("x-amz-") || lower.startsWith("x-edge-") || lower.startsWith("x-verge-")) {
      d.add(`${path}.customHeaders.${name}`, "this header cannot be set as an origin custom header");
    }
  }
  return {
    id: id ?? "",
    url: url ?? "",
    connectTimeoutMs: d.integer(`${path}.connectTimeoutMs`, obj.connectTimeoutMs, 1, 60_000, 10_000),
    readTimeoutMs: d.integer(`${path}.readTimeoutMs`, obj.readTimeoutMs, 1, 180_000, 30_000),
    customHeaders,
  };
}

/**
 * @example
 * const { distribution, diagnostics } = validateDistribution(body, ctx);
 * if (diagnostics.length) throw invalid("ERR_INVALID_DISTRIBUTION", "distribution \"site\"", diagnostics);
 */
export function validateDistribution(raw: unknown, ctx: DistributionContext): { distribution: DistributionBody; diagnostics: Diagnostics["list"] } {
  const d = new Diagnostics();
  const empty: DistributionBody = { hostnames: [], origins: [], behaviors: [], defaultBehavior: { originId: "", cacheKey: { queryStrings: NONE, headers: NONE, cookies: NONE }, ttl: DEFAULT_TTL, functions: {} } };
  const obj = d.object("body", raw);
  if (obj === undefined) return { distribution: empty, diagnostics: d.list };
  d.known("", obj, ["hostnames", "origins", "behaviors", "defaultBehavior"]);

  const hostnames: string[] = [];
  const hosts = d.array("hostnames", obj.hostnames, 100) ?? [];
  if (Array.isArray(obj.hostnames) && hosts.length === 0) d.add("hostnames", "expected at least one hostname");
  hosts.forEach((h, i) => {
    const host = d.string(`hostnames[${i}]`, h, null, "a hostname");
    if (host === undefined) return;
    const lower = host.toLowerCase();
    if (lower.length > 253 || !HOSTNAME.test(lower)) d.add(`hostnames[${i}]`, `expected a DNS name such as "www.example.com" or "*.example.com", found ${JSON.stringify(host.slice(0, 80))}`);
    else if (hostnames.includes(lower)) d.add(`hostnames[${i}]`, `"${lower}" is listed twice`);
    else hostnames.push(lower);
  });

  const origins: Origin[] = [];
  const rawOrigins = d.array("origins", obj.origins, 25) ?? [];
  if (Array.isArray(obj.origins) && rawOrigins.length === 0) d.add("origins", "expected at least one origin");
  rawOrigins.forEach((r, i) => {
    const o = origin(d, `origins[${i}]`, r);
    if (o === undefined) return;
    if (o.id !== "" && origins.some((x) => x.id === o.id)) d.add(`origins[${i}].id`, `origin id "${o.id}" is used twice`);
    origins.push(o);
  });
  const originIds = new Set(origins.map((o) => o.id).filter((id) => id !== ""));

  const defaultBehavior = behavior(d, "defaultBehavior", obj.defaultBehavior, originIds, ctx) ?? empty.defaultBehavior;
  const behaviors: Distribution["behaviors"] = [];
  const rawBehaviors = d.array("behaviors", obj.behaviors ?? [], 25) ?? [];
  rawBehaviors.forEach((r, i) => {
    const path = `behaviors[${i}]`;
    const b = behavior(d, path, r, originIds, ctx);
    const pattern = d.string(`${path}.pathPattern`, (r as { pathPattern?: unknown } | null)?.pathPattern, null, "a path pattern such as \"/images/*.jpg\"");
    if (b === undefined || pattern === undefined) return;
    const problem = pathPatternProblem(pattern);
    if (problem !== null) d.add(`${path}.pathPattern`, problem);
    else {
      // Precedence: the first match wins, so a pattern covered by an earlier one never matches.
      const earlier = behaviors.findIndex((e) => covers(e.pathPattern, pattern));
      if (earlier !== -1) {
        const same = normalize(behaviors[earlier]!.pathPattern) === normalize(pattern);
        d.add(`${path}.pathPattern`, same
          ? `"${pattern}" repeats behaviors[${earlier}].pathPattern`
          : `"${pattern}" can never match: behaviors[${earlier}].pathPattern "${behaviors[earlier]!.pathPattern}" comes first and matches every path it does; move it before behaviors[${earlier}]`);
      }
    }
    behaviors.push({ pathPattern: pattern, ...b });
  });
  return { distribution: { hostnames, origins, behaviors, defaultBehavior }, diagnostics: d.list };
}
