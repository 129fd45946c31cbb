/**
 * A version's static assets as data: which URL paths exist, and for each the
 * sha256 of its bytes (the blob's name in the registry and on edge nodes), its
 * size and its Content-Type. Built from a directory by src/runtime/assets
 * (directory.ts), carried in a version's config, checked again by the
 * registry (the registry never trusts a client's manifest).
 */
import { createHash } from "node:crypto";
import type { Diagnostic } from "../limits.ts";
import type { AssetConfig } from "./config.ts";

/** One file: what serving it needs without reading it. */
export interface AssetEntry {
  /** Hex sha256 of the file's bytes. */
  hash: string;
  size: number;
  /** From the file's extension (text types with `; charset=utf-8`), or null when unknown: sent without Content-Type. */
  contentType: string | null;
}

/** URL path (decoded, starting with "/", e.g. "/blog/index.html") -> file. */
export type AssetManifest = Record<string, AssetEntry>;

/** Cloudflare's limit for one asset file (25 MiB). */
export const MAX_ASSET_BYTES = 25 * 1024 * 1024;
/** Files in one version: Cloudflare allows 20,000 (Workers Free) or 100,000 (Paid); verge takes the first, as the manifest travels in the version's config. */
export const MAX_ASSET_COUNT = 20_000;
/** Longest path in a manifest (Cloudflare refuses longer file names too). */
export const MAX_ASSET_PATH = 1024;

const HASH = /^[0-9a-f]{64}$/;

export function isAssetHash(value: unknown): value is string {
  return typeof value === "string" && HASH.test(value);
}

/**
 * The ETag an asset is served with (without quotes): the first 32 hex digits of its
 * content hash, as long as Cloudflare's. Unique per content, so a changed file
 * gets a new one and an unchanged one keeps it across versions.
 */
export function etagOf(entry: AssetEntry): string {
  return entry.hash.slice(0, 32);
}

/**
 * Every problem of a manifest received from outside (the registry, the child host): each
 * path must start with "/", have no empty, "." or ".." segment, and name a hash, a size
 * within MAX_ASSET_BYTES and a content type (or null).
 *
 * @example
 * validateManifest({ "/index.html": { hash: "ab…", size: 12, contentType: "text/html; charset=utf-8" } }, "config.assets.manifest"); // []
 */
export function validateManifest(raw: unknown, at: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return [{ path: at, message: "expected an object of { path: { hash, size, contentType } }" }];
  const paths = Object.keys(raw);
  if (paths.length > MAX_ASSET_COUNT) out.push({ path: at, message: `expected at most ${MAX_ASSET_COUNT} files, found ${paths.length}` });
  for (const path of paths) {
    const p = `${at}[${JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path)}]`;
    if (out.length >= 20) {
      out.push({ path: at, message: "more problems not listed" });
      break;
    }
    if (!path.startsWith("/") || path.length > MAX_ASSET_PATH || path.split("/").slice(1).some((s) => s === "" || s === "." || s === "..") || path.includes("\0")) {
      out.push({ path: p, message: `expected a path such as "/css/site.css" (at most ${MAX_ASSET_PATH} characters, no empty, "." or ".." segment)` });
      continue;
    }
    const e = (raw as Record<string, unknown>)[path] as Partial<AssetEntry> | null;
    if (e === null || typeof e !== "object") {
      out.push({ path: p, message: "expected { hash, size, contentType }" });
      continue;
    }
    if (!isAssetHash(e.hash)) out.push({ path: `${p}.hash`, message: "expected a sha256 in 64 lowercase hex digits" });
    if (typeof e.size !== "number" || !Number.isInteger(e.size) || e.size < 0 || e.size > MAX_ASSET_BYTES) out.push({ path: `${p}.size`, message: `expected a size in bytes from 0 to ${MAX_ASSET_BYTES} (25 MiB, the limit per file)` });
    if (e.contentType !== null && (typeof e.contentType !== "string" || e.contentType.length > 256 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(e.contentType))) out.push({ path: `${p}.contentType`, message: "expected a media type string (at most 256 printable ASCII characters) or null" });
  }
  return out;
}

/** A function's static assets in its config: the files, how they are served, and the binding that reaches them. */
export interface FunctionAssets {
  manifest: AssetManifest;
  config: AssetConfig;
  /** `env.<binding>` is a Fetcher onto the assets; absent: no binding. */
  binding?: string;
}

/** `POST /v1/tenants/:t/assets/missing`: which of these content hashes the tenant has not uploaded. */
export interface AssetsMissingRequest {
  hashes: string[];
}

export interface AssetsMissingResult {
  missing: string[];
}

/** JSON with object keys sorted, so equal values give equal text (and digests). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The sha256 (hex) of a version's assets (manifest, config, binding) as canonical JSON. The
 * published bundle names it in a last-line comment ({@link assetsMarker}): a version is its
 * bundle, so new assets make a new version, and a signature over the bundle covers them.
 */
export function assetsDigest(assets: unknown): string {
  return createHash("sha256").update(canonical(assets)).digest("hex");
}

/** The comment `verge publish` appends to a bundle whose version has assets. */
export function assetsMarker(digest: string): string {
  return `\n//# verge-assets=${digest}\n`;
}

/** The assets digest a bundle names, or undefined. */
export function markedAssetsDigest(code: string): string | undefined {
  return /\n\/\/# verge-assets=([0-9a-f]{64})\n?$/.exec(code.slice(-120))?.[1];
}
