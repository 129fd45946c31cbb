/**
 * Which keys of a wrangler config verge reads, which Wrangler keys it knows
 * but ignores, and Wrangler's environment rules: which top-level keys an
 * `[env.<name>]` section inherits and which it must restate (bindings).
 * See Wrangler's "Environments" docs and workers-sdk `config/validation.ts`.
 */
import type { Diagnostics } from "./diagnostics.ts";
import { join } from "./diagnostics.ts";

/** Keys verge reads, at the top level and in an environment. */
export const SUPPORTED_KEYS = ["name", "main", "compatibility_date", "compatibility_flags", "vars", "kv_namespaces", "d1_databases", "services", "r2_buckets", "routes", "route", "triggers", "limits", "build", "rules", "assets"] as const;

/** Inherited by an environment that does not set them (`name` becomes `<name>-<env>`). */
export const INHERITABLE_KEYS = ["main", "compatibility_date", "compatibility_flags", "routes", "triggers", "limits", "build", "rules", "assets"] as const;

/** Bindings: never inherited, an environment restates them or has none. */
export const NON_INHERITABLE_KEYS = ["vars", "kv_namespaces", "d1_databases", "services", "r2_buckets"] as const;

/** Wrangler settings verge does not implement (yet): read, warned about, ignored. */
const KNOWN_UNSUPPORTED = new Set([
  "account_id", "workers_dev", "preview_urls", "durable_objects", "queues",
  "analytics_engine_datasets", "ai", "browser", "hyperdrive", "vectorize", "mtls_certificates", "dispatch_namespaces",
  "send_email", "tail_consumers", "streaming_tail_consumers", "unsafe", "site", "preserve_file_names", "no_bundle", "minify", "node_compat", "tsconfig", "jsx_factory", "jsx_fragment",
  "define", "usage_model", "placement", "observability", "logpush", "upload_source_maps", "dev", "migrations", "keep_vars",
  "send_metrics", "legacy_env", "compliance_region", "workflows", "version_metadata", "wasm_modules", "text_blobs",
  "data_blobs", "alias", "containers", "cloudchamber", "secrets_store_secrets", "pipelines", "logfwdr", "keep_names",
  "worker_loaders", "images", "media", "secrets", "ratelimits", "unsafe_hello_world", "vpc_services", "python_modules",
  "first_party_worker", "legacy_assets", "pages_build_output_dir",
]);

/**
 * Keys Wrangler itself no longer reads (Wrangler 1 settings, renamed keys),
 * with what to do instead; warned about and ignored, as Wrangler does.
 */
const DEPRECATED: Record<string, string> = {
  type: "a Wrangler 1 setting, no longer read (the Worker's format is detected from its code); ignored",
  webpack_config: "a Wrangler 1 setting, no longer read (use build.command for a custom build); ignored",
  miniflare: "Wrangler does not read it (Miniflare's own settings); ignored",
  "kv-namespaces": "the Wrangler 1 spelling, no longer read: rename it kv_namespaces; ignored",
  zone_id: "a Wrangler 1 setting, no longer needed (each route names its zone); ignored",
  experimental_services: "renamed services in Wrangler 2: rename it services; ignored",
};

/**
 * Wrangler settings verge cannot honour for a reason of its own: warned about
 * with the reason, ignored.
 */
const UNSUPPORTED_BECAUSE: Record<string, string> = {
  // Both are about uploading files as modules beside the bundle; verge publishes one module.
  find_additional_modules: "not supported by verge: a function is one bundled module, so the files the rules match are bundled into it when imported (a dynamic import(`./lang/${x}.js`) bundles every file it may name) rather than uploaded beside it; ignored",
  base_dir: "not supported by verge: it roots find_additional_modules, and a function is one bundled module; ignored",
};

/**
 * Keys only the top level may hold: Wrangler's `ConfigFields` (workers-sdk
 * `config/config.ts`). `migrations` is not one: an environment may set its own.
 */
const TOP_LEVEL_ONLY = new Set([
  "env", "$schema", "keep_vars", "send_metrics", "legacy_env", "dev", "site", "wasm_modules", "text_blobs", "data_blobs",
  "alias", "pages_build_output_dir",
]);

/**
 * Warns for every key of `table` that verge does not read, naming its path.
 *
 * @example
 * checkKeys(d, "env.staging", { name: "x", queues: {} }, false); // warning at env.staging.queues
 */
export function checkKeys(d: Diagnostics, base: string, table: Record<string, unknown>, topLevel: boolean): void {
  for (const key of Object.keys(table)) {
    const path = join(base, key);
    if (topLevel && (key === "env" || key === "$schema")) continue;
    if (!topLevel && TOP_LEVEL_ONLY.has(key)) d.warn(path, `"${key}" is a top-level setting and is not read inside an environment; ignored`);
    else if ((SUPPORTED_KEYS as readonly string[]).includes(key)) continue;
    else if (Object.hasOwn(DEPRECATED, key)) d.warn(path, DEPRECATED[key]!);
    else if (Object.hasOwn(UNSUPPORTED_BECAUSE, key)) d.warn(path, UNSUPPORTED_BECAUSE[key]!);
    else if (KNOWN_UNSUPPORTED.has(key)) d.warn(path, `not supported by verge yet; ignored`);
    else d.warn(path, `unknown key (not a Wrangler setting verge knows); ignored`);
  }
}
