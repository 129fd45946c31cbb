/**
 * A wrangler config's plain data -> verge's normalized config, for the top
 * level or one environment, with Wrangler's inheritance rules:
 * - `main`, `compatibility_date`, `compatibility_flags`, `routes`/`route`,
 *   `triggers`, `limits`, `build`, `rules`, `assets` are inherited from the top level unless the
 *   environment sets them;
 * - `name` becomes `<name>-<env>` unless the environment sets its own;
 * - bindings (`vars`, `kv_namespaces`) are never inherited: an environment
 *   without them has none, and verge warns as Wrangler does.
 * Pure: no file is read here (read.ts does that).
 */
import { dirname } from "node:path";
import { NAME_PATTERN } from "../src/shared/protocol.ts";
import { Diagnostics, describe, isTable, join } from "./diagnostics.ts";
import { NAME_EXPECTED, readFields, type TableFields, type WranglerBuild, type WranglerKvNamespace } from "./fields.ts";
import { checkKeys, NON_INHERITABLE_KEYS } from "./keys.ts";
import type { WranglerD1Database } from "./d1.ts";
import type { WranglerRoute } from "./routes.ts";
import type { WranglerModuleRule } from "./rules.ts";
import type { WranglerService } from "./services.ts";
import type { WranglerAssets } from "./assets.ts";
import type { WranglerR2Bucket } from "./r2-buckets.ts";

/** What a wrangler.toml / wrangler.jsonc file says, as parsed. */
export type WranglerRawConfig = Record<string, unknown>;

/** verge's reading of a wrangler config for one environment, defaults filled. */
export interface WranglerConfig {
  /** Absolute path of the config file. */
  configPath: string;
  /** The environment read, or null for the top level. */
  env: string | null;
  /** The Worker's name (`<name>-<env>` in an environment without its own name); undefined when not set. */
  name: string | undefined;
  /** Absolute path of the entry module; undefined when not set. */
  main: string | undefined;
  compatibilityDate: string | undefined;
  compatibilityFlags: string[];
  /** Plain vars: strings, or JSON values as Wrangler allows. */
  vars: Record<string, unknown>;
  kvNamespaces: WranglerKvNamespace[];
  /** `[[d1_databases]]`: D1 bindings; absent when the config has none. */
  d1Databases?: WranglerD1Database[];
  /** `[[services]]`: service bindings to other Workers (functions of the same tenant on verge). */
  services: WranglerService[];
  /** `[[r2_buckets]]`: R2 bucket bindings; absent when the table binds none. */
  r2Buckets?: WranglerR2Bucket[];
  routes: WranglerRoute[];
  crons: string[];
  limits: { cpuMs?: number };
  build: WranglerBuild;
  /** `[[rules]]`: module rules for the bundler, before Wrangler's defaults; empty when none. */
  rules: WranglerModuleRule[];
  /** `[assets]`: the Worker's static assets; undefined when the config has none. */
  assets: WranglerAssets | undefined;
  /** Secrets from `.dev.vars` or `.env` beside the config (read.ts); empty from validate. */
  secrets: Record<string, string>;
  /** The secrets file(s) read, absolute; empty when none exists. */
  secretsFiles: string[];
}

export interface ValidateOptions {
  /** Absolute path of the config file: `main` and `build.cwd` resolve against its directory. */
  configPath: string;
  /** `[env.<name>]` to read; undefined or null for the top level. */
  env?: string | null | undefined;
}

/**
 * Validates every key at once; errors and warnings are in `diagnostics`.
 *
 * @example
 * const { config, diagnostics } = validateWranglerConfig({ name: "api", main: "src/index.ts", env: { staging: {} } }, { configPath: "/w/wrangler.toml", env: "staging" });
 * config.name; // "api-staging"
 */
export function validateWranglerConfig(raw: WranglerRawConfig, options: ValidateOptions): { config: WranglerConfig; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  const dir = dirname(options.configPath);
  const env = options.env ?? null;
  checkKeys(d, "", raw, true);
  const top = readFields(d, "", raw, dir);
  let fields: TableFields = top;
  let name = top.name;
  if (env !== null) {
    const envs = raw.env === undefined ? {} : d.table("env", raw.env) ?? {};
    const table = envs[env];
    const base = join("env", env);
    if (table === undefined) {
      const known = Object.keys(envs);
      d.error(base, `no environment "${env}" in this file; ${known.length === 0 ? "it defines none" : `it defines ${known.map((k) => `"${k}"`).join(", ")}`}`);
    } else if (!isTable(table)) d.error(base, `expected a table, found ${describe(table)}`);
    else {
      checkKeys(d, base, table, false);
      const own = readFields(d, base, table, dir);
      fields = inherit(d, base, top, own, raw, table);
      name = own.name ?? (top.name === undefined ? undefined : `${top.name}-${env}`);
      if (own.name === undefined && name !== undefined && !NAME_PATTERN.test(name)) {
        d.error("name", `the environment's Worker name "${name}" (<name>-<env>) is not valid: expected ${NAME_EXPECTED}; set env.${env}.name`);
      }
    }
  }
  const config: WranglerConfig = {
    configPath: options.configPath,
    env,
    name,
    main: fields.main,
    compatibilityDate: fields.compatibilityDate,
    compatibilityFlags: fields.compatibilityFlags ?? [],
    vars: fields.vars ?? {},
    kvNamespaces: fields.kvNamespaces ?? [],
    ...(fields.d1Databases !== undefined ? { d1Databases: fields.d1Databases } : {}),
    services: fields.services ?? [],
    ...(fields.r2Buckets !== undefined && fields.r2Buckets.length > 0 ? { r2Buckets: fields.r2Buckets } : {}),
    routes: fields.routes ?? [],
    crons: fields.crons ?? [],
    limits: fields.limits ?? {},
    build: fields.build ?? { cwd: dir, watchDir: [] },
    rules: fields.rules ?? [],
    assets: fields.assets,
    secrets: {},
    secretsFiles: [],
  };
  return { config, diagnostics: d };
}

/**
 * The environment's own keys over the inheritable top-level ones; bindings from
 * the environment only. `envTable` is the environment as written: a binding key
 * it sets, even to an invalid value (an error already), is not "missing".
 */
function inherit(d: Diagnostics, base: string, top: TableFields, own: TableFields, raw: WranglerRawConfig, envTable: Record<string, unknown>): TableFields {
  const merged: TableFields = { ...top, ...own };
  delete merged.vars;
  delete merged.kvNamespaces;
  delete merged.d1Databases;
  delete merged.services;
  delete merged.r2Buckets;
  if (own.vars !== undefined) merged.vars = own.vars;
  if (own.kvNamespaces !== undefined) merged.kvNamespaces = own.kvNamespaces;
  if (own.d1Databases !== undefined) merged.d1Databases = own.d1Databases;
  if (own.services !== undefined) merged.services = own.services;
  if (own.r2Buckets !== undefined) merged.r2Buckets = own.r2Buckets;
  for (const key of NON_INHERITABLE_KEYS) {
    if (raw[key] !== undefined && envTable[key] === undefined) {
      // Wrangler's own warning: bindings are per environment.
      d.warn(join(base, key), `"${key}" is set at the top level but not in this environment, and bindings are not inherited: the Worker gets none; restate "${key}" under [${base}]`);
    }
  }
  return merged;
}
