/**
 * The boundary: reads a wrangler config file and its secrets, validates
 * everything, and throws one {@link WranglerConfigError} listing every error.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join as joinPath, resolve } from "node:path";
import { Diagnostics, WranglerConfigError, type WranglerDiagnostic } from "./diagnostics.ts";
import { formatOf, parseConfigText } from "./parse-file.ts";
import { readLocalSecrets } from "./secrets.ts";
import { validateWranglerConfig, type WranglerConfig } from "./validate.ts";

export interface ReadWranglerOptions {
  /** `[env.<name>]` to read (Wrangler's `--env`); the top level when absent. */
  env?: string | undefined;
}

export interface ReadWranglerResult {
  config: WranglerConfig;
  /** Warnings only: errors are thrown. */
  warnings: WranglerDiagnostic[];
}

/** The config files Wrangler looks for in a directory, in its order of preference. */
export const CONFIG_FILE_NAMES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"] as const;

/** The wrangler config in `dir`, or undefined. */
export function findWranglerConfig(dir: string): string | undefined {
  return CONFIG_FILE_NAMES.map((n) => joinPath(dir, n)).find((p) => existsSync(p));
}

/**
 * The wrangler config of the project `dir` is in: `dir`'s, else the nearest
 * parent's, as Wrangler finds it (so `wrangler dev` works from `src/`).
 *
 * @example
 * findWranglerConfigUp("/work/my-worker/src"); // "/work/my-worker/wrangler.toml"
 */
export function findWranglerConfigUp(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = findWranglerConfig(at);
    if (found !== undefined || dirname(at) === at) return found;
  }
}

/**
 * Reads `wrangler.toml`, `wrangler.json` or `wrangler.jsonc` for one environment.
 *
 * @example
 * const { config, warnings } = readWranglerConfig("wrangler.toml", { env: "staging" });
 * config.name; // "my-worker-staging"
 * @throws WranglerConfigError (`ERR_WRANGLER_CONFIG`) with every error at once
 */
export function readWranglerConfig(file: string, options: ReadWranglerOptions = {}): ReadWranglerResult {
  const configPath = resolve(file);
  const shown = basename(configPath);
  const d = new Diagnostics();
  const format = formatOf(configPath);
  if (format === null) {
    d.error("", `expected a wrangler.toml, wrangler.json or wrangler.jsonc file, found "${shown}"`);
    throw new WranglerConfigError(shown, d.list);
  }
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch (err) {
    d.error("", `cannot read ${configPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    throw new WranglerConfigError(shown, d.list);
  }
  const raw = parseConfigText(text, format, d);
  if (raw === undefined) throw new WranglerConfigError(shown, d.list);
  const { config, diagnostics } = validateWranglerConfig(raw, { configPath, env: options.env });
  if (diagnostics.errors.length > 0) throw new WranglerConfigError(shown, diagnostics.list);
  const local = readLocalSecrets(dirname(configPath), config.env);
  config.secrets = local.secrets;
  config.secretsFiles = local.files;
  for (const key of Object.keys(local.secrets)) {
    // As in `wrangler dev`, a secret shadows a var of the same name.
    const vars = config.env === null ? "vars" : `env.${config.env}.vars`;
    if (key in config.vars) diagnostics.warn(`${vars}.${key}`, `also set in ${local.files.map((f) => basename(f)).join(", ")}; the secret wins`);
  }
  return { config, warnings: diagnostics.warnings };
}
