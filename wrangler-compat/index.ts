/** wrangler-compat: wrangler.toml / wrangler.jsonc -> verge config, with diagnostics. */
export { readWranglerConfig, findWranglerConfig, findWranglerConfigUp, CONFIG_FILE_NAMES } from "./read.ts";
export type { ReadWranglerOptions, ReadWranglerResult } from "./read.ts";
export { validateWranglerConfig } from "./validate.ts";
export type { WranglerConfig, WranglerRawConfig, ValidateOptions } from "./validate.ts";
export type { WranglerKvNamespace, WranglerBuild } from "./fields.ts";
export { databaseOf, type WranglerD1Database } from "./d1.ts";
export type { WranglerService } from "./services.ts";
export type { WranglerAssets } from "./assets.ts";
export type { WranglerR2Bucket } from "./r2-buckets.ts";
export type { WranglerRoute } from "./routes.ts";
export type { WranglerModuleRule, WranglerModuleRuleType } from "./rules.ts";
export { WranglerConfigError, formatDiagnostic } from "./diagnostics.ts";
export type { WranglerDiagnostic } from "./diagnostics.ts";
export { cronProblem } from "./cron.ts";
export { readLocalSecrets } from "./secrets.ts";
export { parseConfigText, formatOf } from "./parse-file.ts";
