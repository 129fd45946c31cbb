/**
 * A Workers version's static assets at viewer-request, before its handler:
 * Cloudflare's router (src/shared/assets) decides, and a request for a file is
 * answered here with the bytes of the spec's reader (an edge node's blob store:
 * LMDB, else the registry, verified; the harness's directory). A read that
 * fails because the bytes are on neither the node nor a reachable registry is
 * `ERR_ASSET_UNAVAILABLE`, answered 503 as a missing bundle is.
 */
import { routeAssetRequest, type AssetRequest } from "../shared/assets/index.ts";
import { respondWithAsset, type AssetSite } from "../runtime/assets/serve.ts";
import type { AnswerData } from "./workers.ts";

/** The assets' answer to `request`, or undefined when it goes to the Worker. */
export async function assetFirst(site: AssetSite, request: AssetRequest): Promise<AnswerData | undefined> {
  const route = routeAssetRequest(site.manifest, site.config, request);
  if (route.to === "worker") return undefined;
  const r = await respondWithAsset(site, route.answer, request);
  return { ...r, body: r.body instanceof Uint8Array ? r.body : null };
}
