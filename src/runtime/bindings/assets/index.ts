/**
 * The `assets` binding kind: a Worker's static assets as `env.ASSETS`, a
 * Fetcher whose `fetch(request)` answers as Cloudflare's assets do (the
 * file, its canonical-path redirect, 304, 404 or 405; never the Worker).
 * Declared as `{ type: "assets", value: { manifest, config, directory? } }`:
 * with `directory` (the harness, `verge dev`) files are read from it; without,
 * from the host's blob store (`HostServices.assetBlobs`, an edge node's).
 * The guest's Fetcher sends "fetch" ops naming the binding, as a service
 * binding's does, and the handler's `serve` answers them in this process.
 */
import type { BindingKind } from "../index.ts";
import { describe } from "../../../shared/limits.ts";
import { validateAssetConfig, validateManifest, type AssetConfig, type AssetManifest } from "../../../shared/assets/index.ts";
import { directoryReader, fetchAsset, type AssetReader, type AssetSite } from "../../assets/serve.ts";
import type { BindingHandler } from "../../host-services.ts";

export interface AssetsBindingValue {
  manifest: AssetManifest;
  config: AssetConfig;
  /** Absolute directory the files are read from; absent: the host's blob store. */
  directory?: string;
}

export const assetsKind: BindingKind = {
  validate(name, value) {
    const v = value as Partial<AssetsBindingValue> | null;
    const at = `bindings.${name}`;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [{ path: at, message: `an assets binding needs { manifest, config, directory? }, found ${describe(value)}` }];
    const out = [...validateManifest(v.manifest, `${at}.manifest`), ...validateAssetConfig(v.config, `${at}.config`)];
    if (v.directory !== undefined && (typeof v.directory !== "string" || v.directory === "")) out.push({ path: `${at}.directory`, message: `expected a directory path, found ${describe(v.directory)}` });
    return out;
  },
  create(name, value) {
    const v = value as AssetsBindingValue;
    const local = v.directory === undefined ? undefined : directoryReader(v.directory);
    return { handler: assetsHandler(name, { manifest: v.manifest, config: v.config, read: local }) };
  },
};

/**
 * The handler of `env.<name>` over `site`; without `site.read`, the bytes come from the host's
 * blob store (`HostServices.assetBlobs`). An edge node's loader makes one with its own reader.
 */
export function assetsHandler(name: string, site: Omit<AssetSite, "read"> & { read: AssetReader | undefined }): BindingHandler {
  return {
    kind: "assets",
    methods: [],
    call: () => Promise.reject(new TypeError(`env.${name} is the Worker's static assets: call env.${name}.fetch(request)`)),
    serve: (request, services, signal) => {
      const read = site.read ?? services.assetBlobs;
      if (read === undefined) return Promise.reject(new Error(`env.${name}.fetch(): this host keeps no static assets`));
      return fetchAsset({ manifest: site.manifest, config: site.config, read }, request, signal);
    },
  };
}
