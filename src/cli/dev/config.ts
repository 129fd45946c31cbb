/**
 * `verge dev`'s arguments -> what to build and how to run it: an entry file,
 * or a wrangler.toml / wrangler.json(c) read by wrangler-compat (main, name,
 * vars, limits.cpu_ms, build.command, .dev.vars / .env secrets, KV bindings).
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { databaseOf, findWranglerConfig, findWranglerConfigUp, formatDiagnostic, formatOf, readWranglerConfig, type WranglerConfig, type WranglerModuleRule } from "../../../wrangler-compat/index.ts";
import { describeCompatibilityFlags, wantsNodeCompat } from "../../build/bundle.ts";
import type { CloudFrontEventType, LimitsOptions } from "../../shared/limits.ts";
import type { AssetsOptions } from "../../harness/index.ts";
import { UsageError } from "../output.ts";

export interface DevArgs {
  target: string | undefined;
  /** `--config` / `-c`: the wrangler config, as Wrangler's flag names it. */
  config?: string | undefined;
  env?: string | undefined;
  vars: string[];
  /** `--event` values: each an event, or several separated by commas. */
  events?: string[] | undefined;
  profile?: string | undefined;
  strictLambdaEdge: boolean;
  /** `--node-compat`: bundle Node built-ins as `nodejs_compat` does, config or not. */
  nodeCompat?: boolean | undefined;
  /** `--assets <dir>`: static assets (wrangler dev's flag), over the config's `[assets] directory`. */
  assets?: string | undefined;
  /** The names of the Workers this `verge dev` runs (several `--config`): service bindings to them are run. */
  localWorkers?: readonly string[] | undefined;
}

export interface DevSettings {
  /** Absolute path of the entry module. */
  entry: string;
  configPath?: string | undefined;
  /** The config and the secrets files read with it: a change reloads the settings. */
  configFiles: string[];
  name?: string | undefined;
  vars: Record<string, unknown>;
  secrets: Record<string, string>;
  /** KV namespaces from the config: binding -> namespace id. */
  kv: Record<string, string>;
  /** Where KV data persists (the project's `.verge/kv`), so it survives rebuilds and restarts. */
  kvPersist: string;
  /** R2 buckets from the config (`[[r2_buckets]]`): binding -> bucket name; persisted in the project's `.verge/r2`. */
  r2?: Record<string, string>;
  /** D1 bindings: binding name -> database id (the local file's name). */
  d1: Record<string, string>;
  d1Persist: string;
  limits: LimitsOptions;
  /** The events the function runs at (`--event`); empty: the default, viewer-request. */
  events: CloudFrontEventType[];
  build?: { command: string; cwd: string } | undefined;
  /** Extra directories to watch (wrangler `build.watch_dir`, with a build command). */
  watchDirs: string[];
  compatibilityDate?: string | undefined;
  compatibilityFlags: string[];
  /** The config's `[[rules]]`, for the bundler (Wrangler's default module rules apply without them). */
  rules: WranglerModuleRule[];
  /** `compatibility_flags` has `nodejs_compat`: the bundler adds its Node.js polyfills (src/build/node-compat.ts). */
  nodeCompat: boolean;
  /** Static assets (`[assets]` or `--assets`), as the harness takes them; the directory is absolute. */
  assets?: AssetsOptions | undefined;
  /** The config's service bindings whose Worker this `verge dev` runs (DevArgs.localWorkers): binding -> Worker name. */
  services: Record<string, string>;
  warnings: string[];
}

const EVENTS = ["viewer-request", "origin-request", "origin-response", "viewer-response"];
/**
 * `--var` as Wrangler writes it, `KEY:VALUE`, or `KEY=VALUE`: the separator is
 * whichever comes first after a name, so `URL:http://x?a=b` and `A=b:c` both read.
 */
export function parseVarFlag(flag: string): [string, string] {
  const m = /^([A-Za-z_$][A-Za-z0-9_$]*)[:=]/.exec(flag);
  if (m !== null) return [m[1]!, flag.slice(m[0].length)];
  // The value may be a secret: only the name part (before a separator) is shown.
  const sep = flag.search(/[:=]/);
  const found = sep < 0 ? "no \":\" or \"=\" in it" : sep === 0 ? "no name before the separator" : `the name ${JSON.stringify(flag.slice(0, sep))}`;
  throw new UsageError(`--var: expected KEY:VALUE (as wrangler dev takes it) or KEY=VALUE, with KEY a JavaScript identifier; found ${found}`);
}

export function resolveDevSettings(args: DevArgs, cwd = process.cwd()): DevSettings {
  let target = args.target === undefined ? undefined : resolve(cwd, args.target);
  const configFlag = args.config === undefined ? undefined : resolve(cwd, args.config);
  if (args.config !== undefined) {
    if (formatOf(args.config) === null) throw new UsageError(`--config ${args.config}: expected a wrangler.toml, wrangler.json or wrangler.jsonc file`);
    if (!existsSync(configFlag!)) throw new UsageError(`--config ${args.config}: no such file`);
    if (target !== undefined && formatOf(target) !== null) throw new UsageError(`verge dev: both --config ${args.config} and ${args.target} name a wrangler config; pass one`);
  }
  if (target === undefined) {
    target = configFlag ?? findWranglerConfigUp(cwd);
    if (target === undefined) throw new UsageError("verge dev: missing <entry>, and no wrangler.toml, wrangler.json or wrangler.jsonc in this directory or its parents");
  } else if (existsSync(target) && statSync(target).isDirectory()) {
    const found = findWranglerConfig(resolve(target));
    if (found === undefined) throw new UsageError(`verge dev: ${args.target} is a directory without a wrangler.toml, wrangler.json or wrangler.jsonc`);
    target = found;
  }
  const events: CloudFrontEventType[] = [];
  for (const e of (args.events ?? []).flatMap((v) => v.split(",")).map((v) => v.trim())) {
    if (!EVENTS.includes(e)) throw new UsageError(`--event ${e}: expected one of ${EVENTS.join(", ")}`);
    if (!events.includes(e as CloudFrontEventType)) events.push(e as CloudFrontEventType);
  }
  if (args.profile !== undefined && args.profile !== "workers" && args.profile !== "lambda-edge") {
    throw new UsageError(`--profile ${args.profile}: expected workers or lambda-edge`);
  }
  const vars: Record<string, unknown> = {};
  const flagVars: Record<string, string> = {};
  for (const flag of args.vars) {
    const [key, value] = parseVarFlag(flag);
    flagVars[key] = value;
  }
  const profile = args.strictLambdaEdge ? "lambda-edge" : args.profile;
  const limits: LimitsOptions = profile ? { profile } : {};
  const flagAssets: AssetsOptions | undefined = args.assets === undefined ? undefined : { directory: resolve(cwd, args.assets) };
  const base = { events, compatibilityFlags: [] as string[], watchDirs: [] as string[], rules: [] as WranglerModuleRule[], nodeCompat: args.nodeCompat === true, services: {} as Record<string, string>, assets: flagAssets };

  /** An entry given on the command line: it replaces the config's `main`, as with `wrangler dev <script>`. */
  let entry: string | undefined;
  if (formatOf(target) === null) {
    if (!existsSync(target)) throw new UsageError(`verge dev: ${args.target} does not exist`);
    entry = resolve(target);
    // As wrangler dev does, the project's config still gives the bindings, name and limits.
    const config = configFlag ?? findWranglerConfigUp(cwd);
    if (config === undefined) {
      if (args.env !== undefined) throw new UsageError("--env needs a wrangler.toml, wrangler.json or wrangler.jsonc, not an entry file");
      return { ...base, entry, vars: { ...vars, ...flagVars }, secrets: {}, configFiles: [], kv: {}, kvPersist: join(dirname(entry), ".verge/kv"), d1: {}, d1Persist: join(dirname(entry), ".verge/d1"), limits, warnings: assetNotes(flagAssets) };
    }
    target = config;
  }
  const { config, warnings } = readWranglerConfig(target, { env: args.env });
  const shown = relative(cwd, config.configPath) || config.configPath;
  const notes = warnings.map((w) => `${shown}: ${formatDiagnostic(w)}`);
  if (entry !== undefined) config.main = entry;
  else if (config.main === undefined) throw new UsageError(`${shown}: no "main" entry module; set main = "src/index.ts" or pass the entry to verge dev`);
  else if (config.build.command === undefined) {
    // With a build command, main may be what the command writes: the session checks it after the command.
    const problem = entryProblem(config.main);
    if (problem !== undefined) throw new UsageError(`${shown}: main = ${JSON.stringify(relative(dirname(config.configPath), config.main))}${config.env === null ? "" : ` (environment ${config.env})`}: ${problem}; expected the path of the Worker's entry module, relative to ${shown}`);
  }
  const flags = describeCompatibilityFlags(config.compatibilityFlags);
  if (flags !== undefined) notes.push(`${shown}: ${flags}`);
  const local = new Set(args.localWorkers ?? []);
  const services = Object.fromEntries(config.services.filter((b) => local.has(b.service)).map((b) => [b.binding, b.service]));
  const elsewhere = config.services.filter((b) => !local.has(b.service));
  if (elsewhere.length > 0) {
    notes.push(
      `${shown}: service binding${elsewhere.length > 1 ? "s" : ""} ${elsewhere.map((b) => `${b.binding} -> ${b.service}`).join(", ")} not run: verge dev runs the Workers of the configs it is given (verge dev -c ${shown} -c <the other Worker's config>), and ${elsewhere.length > 1 ? "these are" : "this is"} not among them; env.${elsewhere[0]!.binding} is undefined there`,
    );
  }
  if (config.crons.length > 0) notes.push(`${shown}: cron triggers (${config.crons.join(", ")}) do not fire in verge dev; run one with /__scheduled?cron=...`);
  // A strict Lambda@Edge profile sets its own CPU budget; limits.cpu_ms applies to the Workers one.
  if (config.limits.cpuMs !== undefined && profile !== "lambda-edge") limits.cpuMs = config.limits.cpuMs;
  return {
    ...base,
    entry: config.main!,
    configPath: config.configPath,
    // Every file the secrets could come from, present or not: creating a .dev.vars reloads too.
    configFiles: [config.configPath, ...new Set([...config.secretsFiles, ...secretsCandidates(dirname(config.configPath), config.env)])],
    name: config.name,
    vars: { ...config.vars, ...flagVars },
    secrets: config.secrets,
    kv: Object.fromEntries(config.kvNamespaces.map((k) => [k.binding, k.id ?? k.previewId ?? k.binding])),
    kvPersist: join(dirname(config.configPath), ".verge/kv"),
    r2: Object.fromEntries((config.r2Buckets ?? []).map((b) => [b.binding, b.bucketName])),
    d1: Object.fromEntries((config.d1Databases ?? []).map((x) => [x.binding, databaseOf(x)])),
    d1Persist: join(dirname(config.configPath), ".verge/d1"),
    limits,
    build: config.build.command === undefined ? undefined : { command: config.build.command, cwd: config.build.cwd },
    watchDirs: config.build.command === undefined ? [] : config.build.watchDir,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    rules: config.rules,
    nodeCompat: args.nodeCompat === true || wantsNodeCompat(config.compatibilityFlags),
    services,
    assets: assetsOptions(config.assets, flagAssets),
    warnings: [...notes, ...assetNotes(assetsOptions(config.assets, flagAssets))],
  };
}

/** Cloudflare's asset metafiles verge does not apply (they are not served either). */
function assetNotes(assets: AssetsOptions | undefined): string[] {
  if (assets === undefined) return [];
  const shown = relative(process.cwd(), assets.directory) || assets.directory;
  return ["_headers", "_redirects"].filter((f) => existsSync(join(assets.directory, f))).map((f) => `${shown}/${f}: ${f === "_headers" ? "custom headers" : "redirect rules"} for static assets are not applied by verge (the file is not served either)`);
}

/** `[assets]` as the harness takes it (Miniflare's shape); `--assets` replaces the directory, as in wrangler dev. */
function assetsOptions(assets: WranglerConfig["assets"], flag: AssetsOptions | undefined): AssetsOptions | undefined {
  if (assets === undefined) return flag;
  const rules = Array.isArray(assets.runWorkerFirst) ? assets.runWorkerFirst : [];
  return {
    directory: flag?.directory ?? assets.directory,
    ...(assets.binding !== undefined ? { binding: assets.binding } : {}),
    assetConfig: { html_handling: assets.htmlHandling, not_found_handling: assets.notFoundHandling },
    routerConfig: assets.runWorkerFirst === true
      ? { invoke_user_worker_ahead_of_assets: true }
      : rules.length > 0
        ? { static_routing: { user_worker: rules.filter((r) => !r.startsWith("!")), asset_worker: rules.filter((r) => r.startsWith("!")).map((r) => r.slice(1)) } }
        : {},
  };
}

/** The local secrets files wrangler dev may read for `env` (wrangler-compat/secrets.ts picks among them). */
function secretsCandidates(dir: string, env: string | null): string[] {
  const names = env === null ? [".dev.vars", ".env", ".env.local"] : [`.dev.vars.${env}`, ".dev.vars", ".env", ".env.local", `.env.${env}`, `.env.${env}.local`];
  return names.map((n) => join(dir, n));
}

/** Why `file` (absolute) cannot be an entry module, or undefined when it is a file. */
export function entryProblem(file: string): string | undefined {
  if (!existsSync(file)) return `${file} does not exist`;
  if (!statSync(file).isFile()) return `${file} is a directory, not a file`;
  return undefined;
}
