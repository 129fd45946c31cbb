/**
 * The two decisions of Cloudflare's static assets, as pure functions of a
 * manifest, a config and a request head (no bytes are read here):
 *
 * - `routeAssetRequest`: does a viewer's request go to the Worker or to the
 *   assets? (`run_worker_first`, then "would the assets answer it?", where a
 *   missing path goes to the Worker rather than to the not-found fallback,
 *   except for a browser navigation when `navigationPrefersAssets`).
 * - `answerAssetRequest`: what the assets answer (the viewer's request routed
 *   to them, or the Worker's `env.ASSETS.fetch(request)`): a file (200, or 404
 *   for a 404 page; 304 when If-None-Match names its ETag), a 307 to the
 *   canonical path, 405 for a method other than GET and HEAD, or an empty 404.
 */
import { getHeader, type HeaderList } from "../http.ts";
import type { AssetConfig } from "./config.ts";
import { etagOf, type AssetEntry, type AssetManifest } from "./manifest.ts";
import { decodePathname, encodePathname, resolveIntent } from "./resolve.ts";

/** The request facts the decisions read. `headers`: lowercase names. */
export interface AssetRequest {
  method: string;
  url: string;
  headers: HeaderList;
}

export type AssetAnswer =
  /** `notModified`: the request's If-None-Match names this file's ETag: 304, no body. */
  | { kind: "file"; path: string; entry: AssetEntry; status: 200 | 404; notModified: boolean; fallback: boolean }
  | { kind: "redirect"; location: string }
  | { kind: "method-not-allowed" }
  | { kind: "not-found" };

/** What the viewer's request goes to: the Worker, or the assets with their answer. */
export type AssetRoute = { to: "worker" } | { to: "assets"; answer: AssetAnswer };

/** Browsers' Cache-Control for an asset: keep it, but ask (If-None-Match) each time (Cloudflare's). */
export const ASSET_CACHE_CONTROL = "public, max-age=0, must-revalidate";

/** `*` matches any characters ("/" included); the rest is literal; the whole pathname must match. */
function ruleMatches(rule: string, pathname: string): boolean {
  const parts = rule.split("*");
  if (parts.length === 1) return rule === pathname;
  if (!pathname.startsWith(parts[0]!) || !pathname.endsWith(parts[parts.length - 1]!)) return false;
  let at = parts[0]!.length;
  const end = pathname.length - parts[parts.length - 1]!.length;
  if (end < at) return false;
  for (const part of parts.slice(1, -1)) {
    const found = pathname.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/**
 * `run_worker_first` as a list: "!" rules send matching paths to the assets, others to the
 * Worker; the "!" rules are tried first. Undefined: no rule matched.
 */
function staticRoute(rules: string[], pathname: string): "worker" | "assets" | undefined {
  if (rules.some((r) => r.startsWith("!") && ruleMatches(r.slice(1), pathname))) return "assets";
  if (rules.some((r) => !r.startsWith("!") && ruleMatches(r, pathname))) return "worker";
  return undefined;
}

function answerWith(manifest: AssetManifest, config: AssetConfig, request: AssetRequest, notFound: AssetConfig["notFoundHandling"]): AssetAnswer {
  const url = new URL(request.url);
  const decoded = decodePathname(url.pathname);
  const intent = resolveIntent(manifest, config.htmlHandling, notFound, decoded);
  if (intent === null) return { kind: "not-found" };
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") return { kind: "method-not-allowed" };
  // The canonical spelling of the path: a redirect, or the same path percent-encoded as the manifest spells it.
  const target = encodePathname(intent.kind === "redirect" ? intent.to : decoded);
  if (intent.kind === "redirect" || target !== url.pathname) return { kind: "redirect", location: target + url.search };
  const tag = etagOf(intent.entry);
  const ifNoneMatch = getHeader(request.headers, "if-none-match") ?? "";
  const notModified = ifNoneMatch === `"${tag}"` || ifNoneMatch === `W/"${tag}"`;
  return { kind: "file", path: intent.path, entry: intent.entry, status: intent.status, notModified, fallback: intent.fallback };
}

/**
 * What the assets answer to `request`, with the configured not-found handling.
 *
 * @example
 * answerAssetRequest(manifest, config, { method: "GET", url: "http://x/about/index.html", headers: [] });
 * // { kind: "redirect", location: "/about/" } with auto-trailing-slash
 */
export function answerAssetRequest(manifest: AssetManifest, config: AssetConfig, request: AssetRequest): AssetAnswer {
  return answerWith(manifest, config, request, config.notFoundHandling);
}

/**
 * Where a viewer's request goes when the Worker has assets (Cloudflare's router).
 *
 * @example
 * routeAssetRequest(manifest, { ...config, runWorkerFirst: ["/api/*"] }, { method: "GET", url: "http://x/api/users", headers: [] }); // { to: "worker" }
 */
export function routeAssetRequest(manifest: AssetManifest, config: AssetConfig, request: AssetRequest): AssetRoute {
  if (config.runWorkerFirst === true) return { to: "worker" };
  let routed: "worker" | "assets" | undefined;
  if (Array.isArray(config.runWorkerFirst)) {
    routed = staticRoute(config.runWorkerFirst, new URL(request.url).pathname);
    if (routed === "worker") return { to: "worker" };
    if (routed === "assets") return { to: "assets", answer: answerAssetRequest(manifest, config, request) };
  }
  // With routing rules the fallback applies to every path the rules leave to the assets; without,
  // a missing path is the Worker's (its own 404s, its API), except a browser's navigation when preferred.
  const rules = Array.isArray(config.runWorkerFirst) && config.runWorkerFirst.length > 0;
  const navigation = config.navigationPrefersAssets && getHeader(request.headers, "sec-fetch-mode") === "navigate";
  const probe = answerWith(manifest, config, request, rules || navigation ? config.notFoundHandling : "none");
  if (probe.kind === "not-found") return { to: "worker" };
  return { to: "assets", answer: rules || navigation ? probe : answerAssetRequest(manifest, config, request) };
}

/**
 * The response head for an answer. `fromCache`: the bytes were at hand (the local store),
 * as `CF-Cache-Status` says (HIT; MISS when they had to be fetched).
 */
export function assetResponseHead(answer: AssetAnswer, request: AssetRequest, fromCache = true): { status: number; statusText: string; headers: HeaderList } {
  switch (answer.kind) {
    case "redirect":
      return { status: 307, statusText: "Temporary Redirect", headers: [["location", answer.location]] };
    case "method-not-allowed":
      return { status: 405, statusText: "Method Not Allowed", headers: [] };
    case "not-found":
      return { status: 404, statusText: "Not Found", headers: [] };
    case "file": {
      const headers: HeaderList = [["etag", `"${etagOf(answer.entry)}"`]];
      if (answer.entry.contentType !== null) headers.push(["content-type", answer.entry.contentType]);
      // A response to a request with credentials or a range is not one browsers should share.
      if (getHeader(request.headers, "authorization") === undefined && getHeader(request.headers, "range") === undefined) headers.push(["cache-control", ASSET_CACHE_CONTROL]);
      headers.push(["cf-cache-status", fromCache ? "HIT" : "MISS"]);
      if (answer.notModified) return { status: 304, statusText: "Not Modified", headers };
      return { status: answer.status, statusText: answer.status === 200 ? "OK" : "Not Found", headers };
    }
  }
}
