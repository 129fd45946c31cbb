/**
 * How a Worker's static assets are served: Cloudflare's `[assets]` settings
 * (https://developers.cloudflare.com/workers/static-assets/), normalized.
 * The same object travels in a version's config, in the harness's options
 * (from Miniflare 4's `assets.assetConfig` / `assets.routerConfig`) and in a
 * `wrangler.toml`'s `[assets]`; every reader validates with this file.
 */
import { describe, type Diagnostic } from "../limits.ts";

export const HTML_HANDLING = ["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"] as const;
export const NOT_FOUND_HANDLING = ["none", "single-page-application", "404-page"] as const;
export type HtmlHandling = (typeof HTML_HANDLING)[number];
export type NotFoundHandling = (typeof NOT_FOUND_HANDLING)[number];

/** Most `run_worker_first` rules (Cloudflare's limit on static routing rules). */
export const MAX_ROUTING_RULES = 100;
/** Longest `run_worker_first` rule. */
export const MAX_ROUTING_RULE_LENGTH = 100;

export interface AssetConfig {
  htmlHandling: HtmlHandling;
  notFoundHandling: NotFoundHandling;
  /**
   * `true`: every request goes to the Worker, which reaches the assets through its binding.
   * A list: paths matching a rule ("/api/*") go to the Worker first, and a rule with "!"
   * ("!/api/docs/*") sends matching paths to the assets; others are routed as with `false`.
   */
  runWorkerFirst: boolean | string[];
  /**
   * A request with `Sec-Fetch-Mode: navigate` that no asset matches gets the
   * not-found handling (an SPA's index.html) rather than the Worker: Cloudflare's
   * `assets_navigation_prefers_asset_serving`, on by default from compatibility date 2025-04-01.
   */
  navigationPrefersAssets: boolean;
}

export const DEFAULT_ASSET_CONFIG: AssetConfig = Object.freeze({ htmlHandling: "auto-trailing-slash", notFoundHandling: "none", runWorkerFirst: false, navigationPrefersAssets: true }) as AssetConfig;

/**
 * Whether navigation requests prefer assets, from a Worker's compatibility settings, as
 * Cloudflare decides it: the flag names win, else the date (2025-04-01 or later; none: today).
 */
export function navigationPrefersAssets(compatibilityDate: string | undefined, flags: readonly string[] = []): boolean {
  if (flags.includes("assets_navigation_has_no_effect")) return false;
  if (flags.includes("assets_navigation_prefers_asset_serving")) return true;
  return compatibilityDate === undefined || compatibilityDate >= "2025-04-01";
}

/** Problems with one `run_worker_first` value, each at `at` or `at[i]`. */
export function validateRunWorkerFirst(raw: unknown, at: string): Diagnostic[] {
  if (typeof raw === "boolean") return [];
  if (!Array.isArray(raw)) return [{ path: at, message: `expected true, false or an array of path rules such as ["/api/*", "!/api/docs/*"], found ${describe(raw)}` }];
  const out: Diagnostic[] = [];
  if (raw.length > MAX_ROUTING_RULES) out.push({ path: at, message: `expected at most ${MAX_ROUTING_RULES} rules, found ${raw.length}` });
  raw.forEach((rule: unknown, i) => {
    if (typeof rule !== "string" || !/^!?\//.test(rule) || rule.length > MAX_ROUTING_RULE_LENGTH) {
      out.push({ path: `${at}[${i}]`, message: `expected a path rule starting with "/" (or "!/" to send matching paths to the assets), at most ${MAX_ROUTING_RULE_LENGTH} characters, "*" matching anything; found ${describe(rule)}` });
    }
  });
  return out;
}

/**
 * A config received from outside (a version's config, the child host) checked whole.
 *
 * @example
 * validateAssetConfig({ htmlHandling: "none", notFoundHandling: "404-page", runWorkerFirst: false, navigationPrefersAssets: true }, "config.assets");
 */
export function validateAssetConfig(raw: unknown, at: string): Diagnostic[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return [{ path: at, message: `expected { htmlHandling, notFoundHandling, runWorkerFirst, navigationPrefersAssets }, found ${describe(raw)}` }];
  const c = raw as Record<string, unknown>;
  const out: Diagnostic[] = [];
  if (!(HTML_HANDLING as readonly unknown[]).includes(c.htmlHandling)) out.push({ path: `${at}.htmlHandling`, message: `expected one of ${HTML_HANDLING.join(", ")}, found ${describe(c.htmlHandling)}` });
  if (!(NOT_FOUND_HANDLING as readonly unknown[]).includes(c.notFoundHandling)) out.push({ path: `${at}.notFoundHandling`, message: `expected one of ${NOT_FOUND_HANDLING.join(", ")}, found ${describe(c.notFoundHandling)}` });
  out.push(...validateRunWorkerFirst(c.runWorkerFirst, `${at}.runWorkerFirst`));
  if (typeof c.navigationPrefersAssets !== "boolean") out.push({ path: `${at}.navigationPrefersAssets`, message: `expected a boolean, found ${describe(c.navigationPrefersAssets)}` });
  return out;
}
