/**
 * `verge dev`'s arguments -> what to build and how to run it: an entry file,
 * or a wrangler.toml / wrangler.json(c) read by wrangler-compat (main, name,
 * vars, limits.cpu_ms, build.command, .dev.vars / .env secrets, KV bindings).
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { findWranglerConfig, formatDiagnostic, formatOf, readWranglerConfig } from "../../../wrangler-compat/index.ts";
import type { CloudFrontEventType, LimitsOptions } from "../../shared/limits.ts";
import { UsageError } from "../output.ts";

export interface DevArgs {
  target: string | undefined;
  env?: string | undefined;
  vars: string[];
  /** `--event` values: each an event, or several separated by commas. */
  events?: string[] | undefined;
  profile?: string | undefined;
  strictLambdaEdge: boolean;
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
  limits: LimitsOptions;
  /** The events the function runs at (`--event`); empty: the default, viewer-request. */
  events: CloudFrontEventType[];
  build?: { command: string; cwd: string } | undefined;
  /** Extra directories to watch (wrangler `build.watch_dir`, with a build command). */
  watchDirs: string[];
  compatibilityDate?: string | undefined;
  compatibilityFlags: string[];
  warnings: string[];
}

const EVENTS = ["viewer-request", "origin-request", "origin-response", "viewer-response"];

export function resolveDevSettings(args: DevArgs, cwd = process.cwd()): DevSettings {
  let target = args.target;
  if (target === undefined) {
    target = findWranglerConfig(cwd);
    if (target === undefined) throw new UsageError("verge dev: missing <entry>, and no wrangler.toml, wrangler.json or wrangler.jsonc in this directory");
  } else if (existsSync(target) && statSync(target).isDirectory()) {
    const found = findWranglerConfig(resolve(target));
    if (found === undefined) throw new UsageError(`verge dev: ${target} is a directory without a wrangler.toml, wrangler.json or wrangler.jsonc`);
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
  for (const kv of args.vars) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--var ${kv}: expected KEY=VALUE`);
    flagVars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const profile = args.strictLambdaEdge ? "lambda-edge" : args.profile;
  const limits: LimitsOptions = profile ? { profile } : {};
  const base = { events, compatibilityFlags: [] as string[], watchDirs: [] as string[] };

  if (formatOf(target) === null) {
    if (args.env !== undefined) throw new UsageError("--env needs a wrangler.toml, wrangler.json or wrangler.jsonc, not an entry file");
    if (!existsSync(target)) throw new UsageError(`verge dev: ${target} does not exist`);
    return { ...base, entry: resolve(target), vars: { ...vars, ...flagVars }, secrets: {}, configFiles: [], kv: {}, kvPersist: join(dirname(resolve(target)), ".verge/kv"), limits, warnings: [] };
  }
  const { config, warnings } = readWranglerConfig(target, { env: args.env });
  const shown = relative(cwd, config.configPath) || config.configPath;
  const notes = warnings.map((w) => `${shown}: ${formatDiagnostic(w)}`);
  if (config.main === undefined) throw new UsageError(`${shown}: no "main" entry module; set main = "src/index.ts" or pass the entry to verge dev`);
  if (config.crons.length > 0) notes.push(`${shown}: cron triggers (${config.crons.join(", ")}) do not fire in verge dev; run one with /__scheduled?cron=...`);
  // A strict Lambda@Edge profile sets its own CPU budget; limits.cpu_ms applies to the Workers one.
  if (config.limits.cpuMs !== undefined && profile !== "lambda-edge") limits.cpuMs = config.limits.cpuMs;
  return {
    ...base,
    entry: config.main,
    configPath: config.configPath,
    configFiles: [config.configPath, ...config.secretsFiles],
    name: config.name,
    vars: { ...config.vars, ...flagVars },
    secrets: config.secrets,
    kv: Object.fromEntries(config.kvNamespaces.map((k) => [k.binding, k.id ?? k.previewId ?? k.binding])),
    kvPersist: join(dirname(config.configPath), ".verge/kv"),
    limits,
    build: config.build.command === undefined ? undefined : { command: config.build.command, cwd: config.build.cwd },
    watchDirs: config.build.command === undefined ? [] : config.build.watchDir,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    warnings: notes,
  };
}
