/**
 * Harness options: Miniflare 4 names where the concept is the same (script,
 * scriptPath, modules, bindings, kvNamespaces, compatibilityDate), plus verge's
 * own (limits, event, upstream, distribution, secrets, outbound). Validation is
 * pure and reports every problem at once.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { VergeError } from "../shared/errors.ts";
import { describe, validateLimits, type CloudFrontEventType, type Diagnostic, type LimitsOptions } from "../shared/limits.ts";
import type { FunctionDecl } from "../runtime/child-host/messages.ts";
import type { FetchPolicy } from "../runtime/fetch-guard.ts";
import { buildDistribution, validateUpstream, type DistributionOptions } from "./distribution.ts";
import type { RouteData } from "./route.ts";
import { validateBindingOptions, type ServiceFunction } from "./binding-options.ts";
import { assetsBinding, resolveAssetsOption, type AssetsOptions, type ResolvedAssets } from "./assets.ts";
import type { D1Options } from "./d1.ts";
import type { R2Options } from "./r2.ts";

export interface ModuleDefinition {
  type: "ESModule";
  path: string;
  contents?: string;
}

export interface VergeOptions extends D1Options, R2Options {
  /** The function's code. With `modules: true` an ES module, otherwise a classic script. */
  script?: string;
  scriptPath?: string;
  /** `true`: the script is an ES module. An array: modules by path, the first is the entry. */
  modules?: boolean | ModuleDefinition[];
  /** Source map (JSON text) of the bundle, for stack positions in errors. */
  sourceMap?: string;
  /** Plain `env` values (strings or JSON), as Miniflare's `bindings`. */
  bindings?: Record<string, unknown>;
  /** Secret `env` strings. */
  secrets?: Record<string, string>;
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  /** Budgets per invocation; `profile: "lambda-edge"` for the strict Lambda@Edge quotas. */
  limits?: LimitsOptions;
  /**
   * The CloudFront event the function runs at (default viewer-request). Without
   * `upstream`: the event a Lambda@Edge function runs as for dispatchFetch. With
   * it: the event it is attached to in its distribution; a list attaches it to
   * several (one request then runs it at each, as one version).
   */
  event?: CloudFrontEventType | CloudFrontEventType[];
  /**
   * The origin, e.g. `"http://127.0.0.1:8080"` (a path is the origin path). With
   * it, dispatchFetch runs the edge pipeline as an edge node runs a viewer's
   * request: a distribution with the function on `event`, a response cache in
   * memory, this origin, Lambda@Edge semantics and error mapping.
   */
  upstream?: string;
  /** The distribution the function runs in, with `upstream`: hostnames, TTLs, cache key, behaviors, include-body, origin timeouts. */
  distribution?: DistributionOptions;
  /** Subrequest address policy; by default private and loopback addresses are refused. */
  outbound?: FetchPolicy;
  /** A name for logs and errors (default: derived from the script). */
  name?: string;
  /**
   * Workers KV namespaces, as Miniflare 4: binding names (the namespace id is the name),
   * or `{ BINDING: "namespace-id" }`.
   */
  kvNamespaces?: string[] | Record<string, string>;
  /**
   * Where KV data lives, as Miniflare 4's `kvPersist`: absent or false in a temporary directory of
   * the instance's (gone with `dispose()`, kept across its child process's crashes), true in `.verge/kv` under the working directory, a string in that directory (LMDB).
   */
  kvPersist?: boolean | string;
  /**
   * Service bindings, as Miniflare 4's function form: `env.NAME.fetch()` calls the function with a
   * `Request` in this (the test's) process and the function's `Response` is what it gets.
   */
  serviceBindings?: Record<string, ServiceFunction>;
  /**
   * Static assets, as Miniflare 4's `assets`: `{ directory, binding?, assetConfig?, routerConfig? }`.
   * Requests for files are answered from the directory before the Worker runs (Cloudflare's
   * routing); `binding` gives the Worker `env.<binding>.fetch()` onto them.
   */
  assets?: AssetsOptions;
}


export interface ResolvedOptions {
  decl: FunctionDecl;
  /** The (first) event. */
  event: CloudFrontEventType;
  upstream: URL | undefined;
  /** Set with `upstream`: dispatchFetch goes through the edge pipeline (decl.route carries it to the child). */
  pipeline: { events: CloudFrontEventType[] } | undefined;
  outbound: FetchPolicy;
  env: Record<string, unknown>;
  /** The functions of `serviceBindings`, by binding name (they never cross to the child). */
  services: Record<string, ServiceFunction>;
  /** `assets`, read: served by dispatchFetch before the Worker. */
  assets: ResolvedAssets | undefined;
}

/** How long a pipeline request may take to answer before the harness deems its process wedged (see pipelineRoute). */
const COLLAPSE_WAIT_MS = 10_000;
const WATCHDOG_GRACE_MS = 2_000;

const EVENTS: CloudFrontEventType[] = ["viewer-request", "origin-request", "origin-response", "viewer-response"];
const KNOWN = new Set(["script", "scriptPath", "modules", "sourceMap", "bindings", "secrets", "compatibilityDate", "compatibilityFlags", "limits", "event", "upstream", "distribution", "outbound", "name", "kvNamespaces", "kvPersist", "serviceBindings", "d1Databases", "d1Persist", "assets", "r2Buckets", "r2Persist", "r2MaxObjectBytes"]);

export function validateOptions(raw: VergeOptions): { config: ResolvedOptions | null; diagnostics: Diagnostic[] } {
  const d: Diagnostic[] = [];
  if (typeof raw !== "object" || raw === null) return { config: null, diagnostics: [{ path: "options", message: `expected an object, found ${describe(raw)}` }] };
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) d.push({ path: key, message: `unknown option; expected one of ${[...KNOWN].join(", ")}` });

  let code: string | undefined;
  let filename = "worker.js";
  let format: "esm" | "script" = "script";
  const extra: Array<{ name: string; code: string }> = [];
  if (Array.isArray(raw.modules)) {
    const given: Array<{ path: string; contents: string }> = [];
    raw.modules.forEach((m, i) => {
      if (m === null || typeof m !== "object" || m.type !== "ESModule" || typeof m.path !== "string") {
        d.push({ path: `modules[${i}]`, message: `expected { type: "ESModule", path, contents? }, found ${describe(m)}` });
        return;
      }
      if (m.contents !== undefined && typeof m.contents !== "string") {
        d.push({ path: `modules[${i}].contents`, message: `expected the module's source text (a string), found ${describe(m.contents)}` });
        return;
      }
      let contents = m.contents;
      if (contents === undefined) {
        try {
          contents = readFileSync(m.path, "utf8");
        } catch {
          d.push({ path: `modules[${i}].path`, message: `cannot read ${m.path}` });
          return;
        }
      }
      given.push({ path: m.path, contents });
    });
    // Modules are named by their path from the directory they all share, so `./lib/x.js` imported
    // from the entry finds `lib/x.js` wherever the paths start (Miniflare names them from its
    // modulesRoot, the working directory, and resolves imports the same way).
    const names = moduleNames(given.map((m) => m.path));
    given.forEach((m, i) => {
      if (i === 0) {
        code = m.contents;
        filename = names[i]!;
      } else extra.push({ name: names[i]!, code: m.contents });
    });
    format = "esm";
    if (raw.modules.length === 0) d.push({ path: "modules", message: "expected at least one module" });
  } else {
    if (raw.script !== undefined && raw.scriptPath !== undefined) d.push({ path: "script", message: "give either script or scriptPath, not both" });
    if (typeof raw.script === "string") code = raw.script;
    else if (raw.script !== undefined) d.push({ path: "script", message: `expected a string, found ${describe(raw.script)}` });
    if (typeof raw.scriptPath === "string") {
      try {
        code = readFileSync(raw.scriptPath, "utf8");
        filename = basename(raw.scriptPath);
      } catch {
        d.push({ path: "scriptPath", message: `cannot read ${raw.scriptPath}` });
      }
    } else if (raw.scriptPath !== undefined) d.push({ path: "scriptPath", message: `expected a string, found ${describe(raw.scriptPath)}` });
    if (raw.script === undefined && raw.scriptPath === undefined) d.push({ path: "script", message: "expected script, scriptPath or modules" });
    if (raw.modules === true) format = "esm";
    else if (raw.modules === undefined && code !== undefined && /^\s*(export|import)[\s{*]/m.test(code)) format = "esm";
    else if (raw.modules !== undefined && raw.modules !== false) d.push({ path: "modules", message: `expected a boolean or an array of modules, found ${describe(raw.modules)}` });
  }

  const events = validateEvents(raw, d);
  const event = events[0] ?? "viewer-request";
  const { config: limits, diagnostics: ld } = validateLimits(raw.limits, event);
  d.push(...ld);

  const services: Record<string, ServiceFunction> = {};
  const bindings = validateBindingOptions(raw, d, services);
  const assets = resolveAssetsOption(raw.assets, typeof raw.compatibilityDate === "string" ? raw.compatibilityDate : undefined, Array.isArray(raw.compatibilityFlags) ? raw.compatibilityFlags : undefined, d);
  if (assets?.binding !== undefined) {
    if (bindings[assets.binding] !== undefined) d.push({ path: "assets.binding", message: `the binding ${assets.binding} is also declared in ${bindings[assets.binding]!.type === "kv" ? "kvNamespaces" : bindings[assets.binding]!.type === "service" ? "serviceBindings" : bindings[assets.binding]!.type === "secret" ? "secrets" : "bindings"}` });
    else bindings[assets.binding] = assetsBinding(assets);
  }
  if (raw.compatibilityFlags !== undefined && (!Array.isArray(raw.compatibilityFlags) || raw.compatibilityFlags.some((f) => typeof f !== "string"))) {
    d.push({ path: "compatibilityFlags", message: `expected an array of strings, found ${describe(raw.compatibilityFlags)}` });
  }
  if (raw.name !== undefined && (typeof raw.name !== "string" || raw.name === "")) d.push({ path: "name", message: `expected a non-empty string, found ${describe(raw.name)}` });
  validateOutbound(raw.outbound, d);
  if (raw.sourceMap !== undefined && typeof raw.sourceMap !== "string") d.push({ path: "sourceMap", message: `expected the source map's JSON text (a string), found ${describe(raw.sourceMap)}` });

  const upstream = raw.upstream === undefined ? undefined : validateUpstream(raw.upstream, d);
  if (raw.upstream === undefined && raw.distribution !== undefined) d.push({ path: "distribution", message: "a distribution needs an origin: set `upstream` too" });
  if (raw.compatibilityDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(raw.compatibilityDate))) {
    d.push({ path: "compatibilityDate", message: `expected YYYY-MM-DD, found ${describe(raw.compatibilityDate)}` });
  }
  if (d.length > 0 || code === undefined) return { config: null, diagnostics: d };

  const digest = createHash("sha256").update(code).update(JSON.stringify(extra)).digest("hex");
  const id = raw.name ?? `${filename}@${digest.slice(0, 12)}`;
  const env: Record<string, unknown> = {};
  for (const [k, b] of Object.entries(bindings)) if (b.type !== "kv" && b.type !== "service" && b.type !== "d1" && b.type !== "assets" && b.type !== "r2") env[k] = b.value;
  const identity = { function: raw.name ?? filename.replace(/\.[cm]?[jt]s$/, ""), version: digest };
  const source = { id, code, format, filename, identity, ...(extra.length ? { modules: extra } : {}), ...(raw.sourceMap ? { sourceMap: raw.sourceMap } : {}) };
  const outbound = raw.outbound ?? {};
  const decl: FunctionDecl = { source, limits, bindings };
  if (upstream !== undefined) {
    const distribution = buildDistribution(raw.distribution, upstream, { name: id, digest, events }, d);
    if (d.length > 0) return { config: null, diagnostics: d };
    const data: RouteData = { distribution, function: id, digest, anyHost: distribution.hostnames.length === 0, allowPrivateOrigins: outbound.allowPrivateAddresses === true, allowOriginHosts: outbound.allowHosts ?? [] };
    // The pipeline serves them at viewer-request, before the Worker, as an edge node does.
    if (assets !== undefined) data.assets = { manifest: assets.manifest, config: assets.config, directory: assets.directory };
    const origin = distribution.origins[0]!;
    // Everything a request may wait on before its answer: each event's wall budget, a collapsed fill, the origin.
    const answerWithinMs = events.length * limits.wallMs + COLLAPSE_WAIT_MS + origin.connectTimeoutMs + origin.readTimeoutMs + WATCHDOG_GRACE_MS;
    decl.route = { data, answerWithinMs };
  }
  return {
    config: { decl, event, upstream, pipeline: upstream === undefined ? undefined : { events }, outbound, env, services, assets },
    diagnostics: [],
  };
}

export function resolveOptions(raw: VergeOptions): ResolvedOptions {
  const { config, diagnostics } = validateOptions(raw);
  if (config === null) {
    throw new VergeError("ERR_INVALID_OPTIONS", `invalid Verge options:\n${diagnostics.map((x) => `  - ${x.path}: ${x.message}`).join("\n")}`, { details: { diagnostics } });
  }
  return config;
}

/** `event`: one event, or (with `upstream`) a list of distinct events. */
function validateEvents(raw: VergeOptions, d: Diagnostic[]): CloudFrontEventType[] {
  if (raw.event === undefined) return ["viewer-request"];
  const list = Array.isArray(raw.event) ? raw.event : [raw.event];
  const path = Array.isArray(raw.event) ? (i: number) => `event[${i}]` : () => "event";
  if (Array.isArray(raw.event)) {
    if (raw.upstream === undefined) d.push({ path: "event", message: "several events need `upstream` (the function then runs at each in its distribution); without it, give one event" });
    if (list.length === 0) d.push({ path: "event", message: "expected at least one event" });
  }
  const events: CloudFrontEventType[] = [];
  list.forEach((e, i) => {
    if (!EVENTS.includes(e)) d.push({ path: path(i), message: `expected one of ${EVENTS.join(", ")}, found ${describe(e)}` });
    else if (events.includes(e)) d.push({ path: path(i), message: `${e} is listed twice` });
    else events.push(e);
  });
  return events;
}

/** Each path relative to the deepest directory that holds them all, with `/` separators. */
function moduleNames(paths: string[]): string[] {
  const full = paths.map((p) => resolve(p));
  let root = full.length > 0 ? dirname(full[0]!) : "";
  while (!full.every((p) => p.startsWith(root.endsWith(sep) ? root : root + sep))) root = dirname(root);
  return full.map((p) => relative(root, p).split(sep).join("/"));
}

/** `outbound`: the subrequest (and function-chosen origin) address policy. */
function validateOutbound(raw: unknown, d: Diagnostic[]): void {
  if (raw === undefined) return;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    d.push({ path: "outbound", message: `expected { allowPrivateAddresses?, allowHosts?, timeoutMs? }, found ${describe(raw)}` });
    return;
  }
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== "allowPrivateAddresses" && key !== "allowHosts" && key !== "timeoutMs") d.push({ path: `outbound.${key}`, message: "unknown option; expected allowPrivateAddresses, allowHosts or timeoutMs" });
  }
  if (o["allowPrivateAddresses"] !== undefined && typeof o["allowPrivateAddresses"] !== "boolean") {
    d.push({ path: "outbound.allowPrivateAddresses", message: `expected a boolean, found ${describe(o["allowPrivateAddresses"])}` });
  }
  const hosts = o["allowHosts"];
  if (hosts !== undefined && (!Array.isArray(hosts) || hosts.some((h) => typeof h !== "string" || h === ""))) {
    d.push({ path: "outbound.allowHosts", message: `expected an array of host names or IP addresses, found ${describe(hosts)}` });
  }
  const timeout = o["timeoutMs"];
  if (timeout !== undefined && (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0)) {
    d.push({ path: "outbound.timeoutMs", message: `expected a positive number of milliseconds, found ${describe(timeout)}` });
  }
}
