/** Static assets: the manifest, the config, and Cloudflare's routing and answers as pure decisions. */
export { MAX_ASSET_BYTES, MAX_ASSET_COUNT, MAX_ASSET_PATH, assetsDigest, assetsMarker, etagOf, isAssetHash, markedAssetsDigest, validateManifest } from "./manifest.ts";
export type { AssetEntry, AssetManifest, AssetsMissingRequest, AssetsMissingResult, FunctionAssets } from "./manifest.ts";
export { DEFAULT_ASSET_CONFIG, HTML_HANDLING, NOT_FOUND_HANDLING, MAX_ROUTING_RULES, navigationPrefersAssets, validateAssetConfig, validateRunWorkerFirst } from "./config.ts";
export type { AssetConfig, HtmlHandling, NotFoundHandling } from "./config.ts";
export { ASSET_CACHE_CONTROL, answerAssetRequest, assetResponseHead, routeAssetRequest } from "./decide.ts";
export type { AssetAnswer, AssetRequest, AssetRoute } from "./decide.ts";
export { decodePathname, encodePathname, resolveIntent } from "./resolve.ts";
export type { Intent } from "./resolve.ts";
