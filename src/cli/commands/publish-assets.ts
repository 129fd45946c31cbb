/**
 * `verge publish --config`'s static assets: the `[assets]` directory read into
 * a manifest (src/runtime/assets), the files the tenant's registry does not
 * have uploaded (content-addressed: a file already uploaded, by any earlier
 * publish, is not sent again), and the function's `config.assets`.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { navigationPrefersAssets, type AssetManifest, type AssetsMissingResult, type FunctionAssets } from "../../shared/assets/index.ts";
import { readAssetDirectory } from "../../runtime/assets/directory.ts";
import type { WranglerConfig } from "../../../wrangler-compat/index.ts";
import { apiPath, type RegistryClient } from "./registry-client.ts";

export interface PreparedAssets {
  assets: FunctionAssets;
  directory: string;
  warnings: string[];
}

/** Reads `[assets]`'s directory (ERR_ASSETS when it cannot be served); undefined without `[assets]`. */
export function prepareAssets(config: WranglerConfig): PreparedAssets | undefined {
  const a = config.assets;
  if (a === undefined) return undefined;
  const where = config.env === null ? "assets.directory" : `env.${config.env}.assets.directory`;
  const read = readAssetDirectory(a.directory, where);
  const assets: FunctionAssets = {
    manifest: read.manifest,
    config: { htmlHandling: a.htmlHandling, notFoundHandling: a.notFoundHandling, runWorkerFirst: a.runWorkerFirst, navigationPrefersAssets: navigationPrefersAssets(config.compatibilityDate, config.compatibilityFlags) },
    ...(a.binding === undefined ? {} : { binding: a.binding }),
  };
  return { assets, directory: a.directory, warnings: read.warnings };
}

/** Uploads the files the registry lacks, a few at a time; returns how many and their bytes. */
export async function uploadAssets(client: RegistryClient, tenant: string, prepared: PreparedAssets): Promise<{ files: number; uploaded: number; bytes: number }> {
  const manifest: AssetManifest = prepared.assets.manifest;
  const byHash = new Map<string, string>();
  for (const [path, entry] of Object.entries(manifest)) if (!byHash.has(entry.hash)) byHash.set(entry.hash, path);
  const { missing } = (await client.call<AssetsMissingResult>("POST", apiPath`/v1/tenants/${tenant}/assets/missing`, { hashes: [...byHash.keys()] })).body;
  let bytes = 0;
  const queue = [...missing];
  const worker = async (): Promise<void> => {
    for (let hash = queue.shift(); hash !== undefined; hash = queue.shift()) {
      const path = byHash.get(hash)!;
      const body = readFileSync(join(prepared.directory, ...path.split("/")));
      await client.call("PUT", apiPath`/v1/tenants/${tenant}/assets/${hash}`, new Uint8Array(body), { "content-type": "application/octet-stream" });
      bytes += body.byteLength;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { files: Object.keys(manifest).length, uploaded: missing.length, bytes };
}
