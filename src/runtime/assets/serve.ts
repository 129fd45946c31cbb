/**
 * Static assets as responses: the decisions of src/shared/assets made into
 * `ResponseData`, with the bytes from an {@link AssetReader}: a directory on
 * disk (the harness, `verge dev`), or an edge node's blob store (by hash,
 * verified, fetched from the registry on first need).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RequestData, ResponseData } from "../../shared/http.ts";
import { answerAssetRequest, assetResponseHead, type AssetAnswer, type AssetConfig, type AssetEntry, type AssetManifest, type AssetRequest } from "../../shared/assets/index.ts";

/** The bytes of one asset; `fromCache`: they were at hand (no registry fetch), as `CF-Cache-Status` reports. */
export type AssetReader = (path: string, entry: AssetEntry, signal?: AbortSignal) => Promise<{ body: Uint8Array; fromCache: boolean }>;

/** A version's assets as the runtime serves them. */
export interface AssetSite {
  manifest: AssetManifest;
  config: AssetConfig;
  read: AssetReader;
}

/**
 * Reads assets from `directory` by path (the manifest was made from it). A file gone since
 * is a 404 of that request, not an exception: a developer may be editing the directory.
 */
export function directoryReader(directory: string): AssetReader {
  return async (path) => ({ body: await readFile(join(directory, ...path.split("/"))), fromCache: true });
}

/** The response for an answer of the assets to `request` (a 304 or a HEAD without a body). */
export async function respondWithAsset(site: AssetSite, answer: AssetAnswer, request: AssetRequest, signal?: AbortSignal): Promise<ResponseData> {
  if (answer.kind !== "file") return { ...assetResponseHead(answer, request), body: null };
  const bodyless = answer.notModified || request.method.toUpperCase() === "HEAD";
  let read: { body: Uint8Array; fromCache: boolean } | undefined;
  if (!bodyless) {
    try {
      read = await site.read(answer.path, answer.entry, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return { ...assetResponseHead({ kind: "not-found" }, request), body: null };
    }
  }
  const head = assetResponseHead(answer, request, read?.fromCache ?? true);
  if (read !== undefined) head.headers.push(["content-length", String(read.body.byteLength)]);
  return { ...head, body: read?.body ?? null };
}

/**
 * `env.ASSETS.fetch(request)`: what the assets answer, whatever the router would do.
 *
 * @example
 * const res = await fetchAsset(site, { method: "GET", url: "http://x/", headers: [], body: null });
 */
export async function fetchAsset(site: AssetSite, request: RequestData, signal?: AbortSignal): Promise<ResponseData> {
  const head: AssetRequest = { method: request.method, url: request.url, headers: request.headers };
  return respondWithAsset(site, answerAssetRequest(site.manifest, site.config, head), head, signal);
}
