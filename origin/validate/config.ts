/**
 * Function config and secret validation (issue 3: memory MB, CPU ms, wall ms,
 * subrequests, env vars, secrets; reserved and provisioned concurrency; issue 5:
 * cron triggers).
 */
import { R2_BUCKET_NAME } from "../../src/shared/r2-rules.ts";
import { cronNeverFires, cronProblem } from "../../src/shared/cron.ts";
import { MAX_MEMORY_MB } from "../../src/shared/limits.ts";
import { MAX_CRONS_PER_FUNCTION, NAME_PATTERN, type FunctionConfig, type FunctionConfigInput } from "../../src/shared/protocol.ts";
import { validateAssetConfig, validateManifest, type AssetConfig, type AssetManifest, type FunctionAssets } from "../../src/shared/assets/index.ts";
import { describe, Diagnostics } from "./fields.ts";

/** The Workers profile of DESIGN.md §3. */
export const DEFAULT_CONFIG: Required<Omit<FunctionConfig, "secrets" | "kvNamespaces" | "d1Databases" | "services" | "crons" | "assets" | "r2Buckets">> = { memoryMb: 128, cpuMs: 50, wallMs: 30_000, subrequests: 50, env: {}, reservedConcurrency: null, provisionedConcurrency: 0 };

/** Upper bounds: per edge worker process, so a few thousand is already far past one machine. */
export const MAX_RESERVED_CONCURRENCY = 10_000;
export const MAX_PROVISIONED_CONCURRENCY = 1_000;

/** `kvNamespaces` (and `services`) is present only when the function binds a namespace (configs before KV stay as they were). */
export type ValidConfig = Required<Omit<FunctionConfig, "secrets" | "kvNamespaces" | "d1Databases" | "services" | "crons" | "assets" | "r2Buckets">> & Pick<FunctionConfig, "kvNamespaces" | "d1Databases" | "services" | "crons" | "assets" | "r2Buckets">;

/** At most this many KV bindings per function. */
export const MAX_KV_BINDINGS = 64;
/** At most this many D1 bindings per function. */
export const MAX_D1_BINDINGS = 64;
/** At most this many service bindings per function. */
export const MAX_SERVICE_BINDINGS = 64;
/** R2 bucket bindings per function. */
export const MAX_R2_BINDINGS = 64;

/** Env var and secret names: what a binding name may be. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const VAR_EXPECTED = "a letter or _ then letters, digits or _ (at most 128)";
export const MAX_VALUE_BYTES = 5 * 1024;

export function validateConfig(raw: unknown): { config: ValidConfig; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  const obj = d.object("config", raw, true) as FunctionConfigInput | undefined;
  if (obj === undefined) return { config: { ...DEFAULT_CONFIG, env: {} }, diagnostics: d };
  d.known("config", obj as Record<string, unknown>, ["memoryMb", "cpuMs", "wallMs", "subrequests", "env", "reservedConcurrency", "provisionedConcurrency", "kvNamespaces", "d1Databases", "services", "crons", "assets", "r2Buckets"]);
  const config: ValidConfig = {
    memoryMb: d.integer("config.memoryMb", obj.memoryMb, 8, MAX_MEMORY_MB, DEFAULT_CONFIG.memoryMb),
    cpuMs: d.integer("config.cpuMs", obj.cpuMs, 1, 900_000, DEFAULT_CONFIG.cpuMs),
    wallMs: d.integer("config.wallMs", obj.wallMs, 1, 900_000, DEFAULT_CONFIG.wallMs),
    subrequests: d.integer("config.subrequests", obj.subrequests, 0, 1000, DEFAULT_CONFIG.subrequests),
    env: d.stringMap("config.env", obj.env, VAR_NAME, VAR_EXPECTED, 128, MAX_VALUE_BYTES),
    reservedConcurrency: reservedOf(d, obj.reservedConcurrency),
    provisionedConcurrency: d.integer("config.provisionedConcurrency", obj.provisionedConcurrency, 0, MAX_PROVISIONED_CONCURRENCY, DEFAULT_CONFIG.provisionedConcurrency),
  };
  const kv = d.stringMap("config.kvNamespaces", obj.kvNamespaces, VAR_NAME, VAR_EXPECTED, MAX_KV_BINDINGS, 63);
  for (const [binding, ns] of Object.entries(kv)) {
    if (!NAME_PATTERN.test(ns)) d.add(`config.kvNamespaces.${binding}`, `expected a namespace name: 1–63 characters, lowercase letters, digits, "-" or "_", starting with a letter or digit; found ${describe(ns)}`);
    else if (binding in config.env) d.add(`config.kvNamespaces.${binding}`, `"${binding}" is also a var in config.env; a binding name is either a var or a KV namespace`);
  }
  if (Object.keys(kv).length > 0) config.kvNamespaces = kv;
  const services = d.stringMap("config.services", obj.services, VAR_NAME, VAR_EXPECTED, MAX_SERVICE_BINDINGS, 63);
  for (const [binding, target] of Object.entries(services)) {
    if (!NAME_PATTERN.test(target)) d.add(`config.services.${binding}`, `expected the name of a function of this tenant: 1–63 characters, lowercase letters, digits, "-" or "_", starting with a letter or digit; found ${describe(target)}`);
    else if (binding in config.env) d.add(`config.services.${binding}`, `"${binding}" is also a var in config.env; a binding name is either a var or a service binding`);
    else if (binding in kv) d.add(`config.services.${binding}`, `"${binding}" is also a KV binding in config.kvNamespaces; a binding name is either a KV namespace or a service binding`);
  }
  if (Object.keys(services).length > 0) config.services = services;
  const d1 = d1DatabasesOf(d, obj.d1Databases, [...Object.keys(config.env).map((k) => [k, "a var in config.env"] as const), ...Object.keys(kv).map((k) => [k, "a KV binding in config.kvNamespaces"] as const), ...Object.keys(services).map((k) => [k, "a service binding in config.services"] as const)]);
  if (Object.keys(d1).length > 0) config.d1Databases = d1;
  const r2 = d.stringMap("config.r2Buckets", obj.r2Buckets, VAR_NAME, VAR_EXPECTED, MAX_R2_BINDINGS, 63);
  for (const [binding, bucket] of Object.entries(r2)) {
    if (!R2_BUCKET_NAME.test(bucket)) d.add(`config.r2Buckets.${binding}`, `expected an R2 bucket name: 3–63 lowercase letters, digits or "-", starting and ending with a letter or digit; found ${describe(bucket)}`);
    else if (binding in config.env || binding in kv || binding in services || binding in d1) d.add(`config.r2Buckets.${binding}`, `"${binding}" is also bound in config.env, config.kvNamespaces, config.d1Databases or config.services; a binding name is bound once`);
  }
  if (Object.keys(r2).length > 0) config.r2Buckets = r2;
  const crons = cronsOf(d, obj.crons);
  if (crons.length > 0) config.crons = crons;
  const assets = assetsOf(d, obj.assets, [...Object.keys(config.env), ...Object.keys(kv), ...Object.keys(services), ...Object.keys(d1)]);
  if (assets !== undefined) config.assets = assets;
  const { reservedConcurrency: reserved, provisionedConcurrency: provisioned } = config;
  if (reserved !== null && provisioned > reserved) {
    d.add("config.provisionedConcurrency", `expected at most reservedConcurrency (${reserved}): warm isolates beyond the reserved concurrency could never all be used; found ${provisioned}`);
  }
  return { config, diagnostics: d };
}

/**
 * Static assets: `{ manifest, config, binding? }` checked whole (src/shared/assets); that every
 * file was uploaded is checked by the route, in its write transaction (routes/assets.ts).
 */
function assetsOf(d: Diagnostics, value: unknown, taken: string[]): FunctionAssets | undefined {
  const obj = d.object("config.assets", value, true);
  if (obj === undefined) return undefined;
  d.known("config.assets", obj, ["manifest", "config", "binding"]);
  const problems = [...validateManifest(obj.manifest, "config.assets.manifest"), ...validateAssetConfig(obj.config, "config.assets.config")];
  for (const p of problems) d.add(p.path, p.message);
  const binding = obj.binding;
  if (binding !== undefined && (typeof binding !== "string" || !VAR_NAME.test(binding))) d.add("config.assets.binding", `expected a binding name: ${VAR_EXPECTED}; found ${describe(binding)}`);
  else if (typeof binding === "string" && taken.includes(binding)) d.add("config.assets.binding", `"${binding}" is also a var, a KV, D1 or service binding; a binding name is bound once`);
  if (problems.length > 0) return undefined;
  const c = obj.config as AssetConfig;
  // Only the fields the manifest has: a client's extra keys are not stored.
  const manifest: AssetManifest = {};
  for (const [path, e] of Object.entries(obj.manifest as AssetManifest)) manifest[path] = { hash: e.hash, size: e.size, contentType: e.contentType };
  return {
    manifest,
    config: { htmlHandling: c.htmlHandling, notFoundHandling: c.notFoundHandling, runWorkerFirst: c.runWorkerFirst, navigationPrefersAssets: c.navigationPrefersAssets },
    ...(typeof binding === "string" ? { binding } : {}),
  };
}

/** `config.d1Databases`: binding -> a database name of the tenant; a binding name is bound once. */
function d1DatabasesOf(d: Diagnostics, value: unknown, taken: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const map = d.stringMap("config.d1Databases", value, VAR_NAME, VAR_EXPECTED, MAX_D1_BINDINGS, 63);
  for (const [binding, database] of Object.entries(map)) {
    const clash = taken.find(([k]) => k === binding);
    if (!NAME_PATTERN.test(database)) d.add(`config.d1Databases.${binding}`, `expected a database name: 1–63 characters, lowercase letters, digits, "-" or "_", starting with a letter or digit; found ${describe(database)}`);
    else if (clash !== undefined) d.add(`config.d1Databases.${binding}`, `"${binding}" is also ${clash[1]}; a binding name is bound once`);
  }
  return map;
}

/** Longest cron expression accepted (it is part of claim keys). */
export const MAX_CRON_LENGTH = 100;

/**
 * Cron triggers: valid 5-field expressions (src/shared/cron.ts) that fire at
 * least once, no duplicates, at most MAX_CRONS_PER_FUNCTION; whitespace runs
 * are stored as one space (the stored text is what `controller.cron` shows).
 */
function cronsOf(d: Diagnostics, value: unknown): string[] {
  const list = d.array("config.crons", value, MAX_CRONS_PER_FUNCTION, true) ?? [];
  const out: string[] = [];
  list.forEach((raw, i) => {
    const path = `config.crons[${i}]`;
    if (typeof raw !== "string" || raw.length > MAX_CRON_LENGTH) return d.add(path, `expected a cron expression (a string of at most ${MAX_CRON_LENGTH} characters) such as "*/5 * * * *", found ${describe(raw)}`);
    const cron = raw.trim().replace(/\s+/g, " ");
    const problem = cronProblem(cron) ?? cronNeverFires(cron);
    if (problem !== null) return d.add(path, `invalid cron expression ${describe(raw)}: ${problem}`);
    if (out.includes(cron)) return d.add(path, `duplicate of an earlier entry ${describe(cron)}`);
    out.push(cron);
  });
  return out;
}

/** An integer from 0, or null (unreserved); missing means null. */
function reservedOf(d: Diagnostics, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_RESERVED_CONCURRENCY) {
    d.add("config.reservedConcurrency", `expected null (unreserved) or an integer from 0 to ${MAX_RESERVED_CONCURRENCY}, found ${describe(value)}`);
    return null;
  }
  return value;
}

/** A secret's name and body `{ value }`; never puts the value in a message. */
export function validateSecret(name: string, raw: unknown, env: Record<string, string>): { value: string; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  if (!VAR_NAME.test(name)) d.add("name", `invalid secret name: expected ${VAR_EXPECTED}, found ${describe(name)}`);
  else if (name in env) d.add("name", `"${name}" is already a plain env var of this function; remove it from config.env first`);
  const obj = d.object("body", raw);
  let value = "";
  if (obj !== undefined) {
    d.known("", obj, ["value"]);
    // Only the type: a value sent as a number is still a secret.
    if (typeof obj.value !== "string") d.add("value", `expected a string, found ${obj.value === undefined ? "nothing" : obj.value === null ? "null" : Array.isArray(obj.value) ? "an array" : typeof obj.value === "object" ? "an object" : `a ${typeof obj.value}`}`);
    else if (Buffer.byteLength(obj.value) > MAX_VALUE_BYTES) d.add("value", `expected at most ${MAX_VALUE_BYTES} bytes, found ${Buffer.byteLength(obj.value)}`);
    else value = obj.value;
  }
  return { value, diagnostics: d };
}
