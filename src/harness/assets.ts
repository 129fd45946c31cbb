/**
 * The harness's `assets` option, in Miniflare 4's shape:
 *
 *   assets: {
 *     directory: "./public",
 *     binding: "ASSETS",                                   // optional: env.ASSETS, a Fetcher
 *     assetConfig: { html_handling, not_found_handling },  // optional
 *     routerConfig: { invoke_user_worker_ahead_of_assets, static_routing: { user_worker, asset_worker } },
 *   }
 *
 * checked here, the directory read into a manifest (src/runtime/assets), and
 * turned into the router's site (served in this process, before the Worker)
 * and an `assets` binding declaration (the Worker's `env.ASSETS`, in the child).
 */
import { resolve } from "node:path";
import { hasCode } from "../shared/errors.ts";
import { describe, type Diagnostic } from "../shared/limits.ts";
import { HTML_HANDLING, NOT_FOUND_HANDLING, navigationPrefersAssets, validateRunWorkerFirst, type AssetConfig, type HtmlHandling, type NotFoundHandling } from "../shared/assets/index.ts";
import type { BindingDecl } from "../runtime/bindings/index.ts";
import { readAssetDirectory } from "../runtime/assets/directory.ts";
import { directoryReader, type AssetSite } from "../runtime/assets/serve.ts";

export interface AssetsOptions {
  /** The directory of static files (relative to the working directory). */
  directory: string;
  /** The name the Worker reads them by (`env.ASSETS`); none: the Worker has no binding. */
  binding?: string;
  assetConfig?: { html_handling?: HtmlHandling; not_found_handling?: NotFoundHandling };
  routerConfig?: {
    /** Every request goes to the Worker first (wrangler's `run_worker_first = true`). */
    invoke_user_worker_ahead_of_assets?: boolean;
    /** wrangler's `run_worker_first` as a list: `user_worker` rules go to the Worker, `asset_worker` ones (written without "!") to the assets. */
    static_routing?: { user_worker: string[]; asset_worker?: string[] };
    /** Miniflare's own: verge always has a Worker. */
    has_user_worker?: boolean;
  };
}

/** The assets of a harness instance: what the router serves, and where they were read from. */
export interface ResolvedAssets extends AssetSite {
  directory: string;
  binding: string | undefined;
  warnings: string[];
}

const KEYS = ["directory", "binding", "assetConfig", "routerConfig"];
const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unknownKeys(raw: Record<string, unknown>, known: string[], at: string, d: Diagnostic[]): void {
  for (const key of Object.keys(raw)) if (!known.includes(key)) d.push({ path: `${at}.${key}`, message: `unknown option; expected one of ${known.join(", ")}` });
}

/** `run_worker_first` from Miniflare's routerConfig. */
function runWorkerFirst(raw: unknown, d: Diagnostic[]): AssetConfig["runWorkerFirst"] {
  if (raw === undefined) return false;
  if (!isRecord(raw)) {
    d.push({ path: "assets.routerConfig", message: `expected { invoke_user_worker_ahead_of_assets?, static_routing? }, found ${describe(raw)}` });
    return false;
  }
  unknownKeys(raw, ["invoke_user_worker_ahead_of_assets", "static_routing", "has_user_worker"], "assets.routerConfig", d);
  const ahead = raw.invoke_user_worker_ahead_of_assets;
  if (ahead !== undefined && typeof ahead !== "boolean") d.push({ path: "assets.routerConfig.invoke_user_worker_ahead_of_assets", message: `expected a boolean, found ${describe(ahead)}` });
  if (raw.has_user_worker === false) d.push({ path: "assets.routerConfig.has_user_worker", message: "verge runs the Worker the options give; an assets-only instance is not supported" });
  if (ahead === true) return true;
  const routing = raw.static_routing;
  if (routing === undefined) return false;
  if (!isRecord(routing)) {
    d.push({ path: "assets.routerConfig.static_routing", message: `expected { user_worker: string[], asset_worker?: string[] }, found ${describe(routing)}` });
    return false;
  }
  unknownKeys(routing, ["user_worker", "asset_worker"], "assets.routerConfig.static_routing", d);
  const user = Array.isArray(routing.user_worker) ? routing.user_worker : [];
  if (!Array.isArray(routing.user_worker)) d.push({ path: "assets.routerConfig.static_routing.user_worker", message: `expected an array of path rules such as "/api/*", found ${describe(routing.user_worker)}` });
  const assets = routing.asset_worker === undefined ? [] : Array.isArray(routing.asset_worker) ? routing.asset_worker : null;
  if (assets === null) d.push({ path: "assets.routerConfig.static_routing.asset_worker", message: `expected an array of path rules, found ${describe(routing.asset_worker)}` });
  const rules = [...user, ...(assets ?? []).map((r: unknown) => (typeof r === "string" ? `!${r}` : r))];
  const problems = validateRunWorkerFirst(rules, "rules");
  for (const p of problems) {
    const i = Number(/\[(\d+)\]/.exec(p.path)?.[1] ?? -1);
    const path = i < 0 ? "assets.routerConfig.static_routing" : i < user.length ? `assets.routerConfig.static_routing.user_worker[${i}]` : `assets.routerConfig.static_routing.asset_worker[${i - user.length}]`;
    d.push({ path, message: p.message.replace(' (or "!/" to send matching paths to the assets)', "") });
  }
  return problems.length > 0 ? false : (rules as string[]);
}

/**
 * The `assets` option checked (every problem into `d`) and its directory read; undefined when
 * absent or invalid. `compatibilityDate` / `flags` decide `navigationPrefersAssets`.
 */
export function resolveAssetsOption(raw: unknown, compatibilityDate: string | undefined, flags: readonly string[] | undefined, d: Diagnostic[]): ResolvedAssets | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) {
    d.push({ path: "assets", message: `expected { directory, binding?, assetConfig?, routerConfig? }, found ${describe(raw)}` });
    return undefined;
  }
  const before = d.length;
  unknownKeys(raw, KEYS, "assets", d);
  if (typeof raw.directory !== "string" || raw.directory === "") d.push({ path: "assets.directory", message: `expected the path of the directory of static files, found ${describe(raw.directory)}` });
  if (raw.binding !== undefined && (typeof raw.binding !== "string" || !BINDING.test(raw.binding))) d.push({ path: "assets.binding", message: `expected a JavaScript identifier such as "ASSETS", found ${describe(raw.binding)}` });
  const ac = raw.assetConfig ?? {};
  let htmlHandling: HtmlHandling = "auto-trailing-slash";
  let notFoundHandling: NotFoundHandling = "none";
  if (!isRecord(ac)) d.push({ path: "assets.assetConfig", message: `expected { html_handling?, not_found_handling? }, found ${describe(ac)}` });
  else {
    unknownKeys(ac, ["html_handling", "not_found_handling"], "assets.assetConfig", d);
    if (ac.html_handling !== undefined) {
      if ((HTML_HANDLING as readonly unknown[]).includes(ac.html_handling)) htmlHandling = ac.html_handling as HtmlHandling;
      else d.push({ path: "assets.assetConfig.html_handling", message: `expected one of ${HTML_HANDLING.join(", ")}, found ${describe(ac.html_handling)}` });
    }
    if (ac.not_found_handling !== undefined) {
      if ((NOT_FOUND_HANDLING as readonly unknown[]).includes(ac.not_found_handling)) notFoundHandling = ac.not_found_handling as NotFoundHandling;
      else d.push({ path: "assets.assetConfig.not_found_handling", message: `expected one of ${NOT_FOUND_HANDLING.join(", ")}, found ${describe(ac.not_found_handling)}` });
    }
  }
  const first = runWorkerFirst(raw.routerConfig, d);
  if (d.length > before) return undefined;
  const directory = resolve(raw.directory as string);
  let read;
  try {
    read = readAssetDirectory(directory, "assets.directory");
  } catch (err) {
    if (!hasCode(err)) throw err;
    d.push({ path: "assets.directory", message: (err as unknown as Error).message.replace(/^assets\.directory: /, "") });
    return undefined;
  }
  const config: AssetConfig = { htmlHandling, notFoundHandling, runWorkerFirst: first, navigationPrefersAssets: navigationPrefersAssets(compatibilityDate, flags) };
  return { directory, binding: raw.binding as string | undefined, manifest: read.manifest, config, read: directoryReader(directory), warnings: read.warnings };
}

/** The Worker's `env.<binding>` declaration: read from the same directory in the child process. */
export function assetsBinding(assets: ResolvedAssets): BindingDecl {
  return { type: "assets", value: { manifest: assets.manifest, config: assets.config, directory: assets.directory } };
}
