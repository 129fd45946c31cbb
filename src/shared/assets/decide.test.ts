/**
 * The decision table of static assets: each html_handling mode on the paths
 * that name one file several ways, the not-found handlings, the router
 * (run_worker_first, navigation), methods, ETags and path encoding.
 * test/differential/assets.ts checks the same cases against Miniflare 4.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { HeaderList } from "../http.ts";
import { DEFAULT_ASSET_CONFIG, answerAssetRequest, assetResponseHead, etagOf, routeAssetRequest, validateAssetConfig, validateManifest, validateRunWorkerFirst, type AssetConfig, type AssetManifest } from "./index.ts";

function manifestOf(paths: string[]): AssetManifest {
  const m: AssetManifest = {};
  for (const p of paths) m[p] = { hash: createHash("sha256").update(p).digest("hex"), size: p.length, contentType: p.endsWith(".html") ? "text/html; charset=utf-8" : null };
  return m;
}

const SITE = manifestOf(["/index.html", "/about.html", "/blog/index.html", "/docs/guide.html", "/docs/404.html", "/404.html", "/css/site.css", "/a b.txt", "/only/index"]);

function answer(path: string, config: Partial<AssetConfig> = {}, method = "GET", headers: HeaderList = []) {
  return answerAssetRequest(SITE, { ...DEFAULT_ASSET_CONFIG, ...config }, { method, url: `http://site.test${path}`, headers });
}

/** "file /x.html" (with " 404" for a 404 status), "307 /to", "405", "404". */
function short(path: string, config: Partial<AssetConfig> = {}, method = "GET"): string {
  const a = answer(path, config, method);
  if (a.kind === "file") return `file ${a.path}${a.status === 404 ? " 404" : ""}`;
  if (a.kind === "redirect") return `307 ${a.location}`;
  return a.kind === "method-not-allowed" ? "405" : "404";
}

test("auto-trailing-slash (the default): files without .html, directories with a slash", () => {
  const table: Array<[string, string]> = [
    ["/", "file /index.html"],
    ["/index.html", "307 /"],
    ["/index", "307 /"],
    ["/about", "file /about.html"],
    ["/about.html", "307 /about"],
    ["/about/", "307 /about"],
    ["/blog", "307 /blog/"],
    ["/blog/", "file /blog/index.html"],
    ["/blog/index.html", "307 /blog/"],
    ["/blog/index", "307 /blog/"],
    ["/css/site.css", "file /css/site.css"],
    ["/missing", "404"],
    ["/only/index", "file /only/index"],
  ];
  for (const [path, expected] of table) assert.equal(short(path), expected, path);
});

test("force-trailing-slash: every HTML page ends in a slash", () => {
  const c = { htmlHandling: "force-trailing-slash" } as const;
  const table: Array<[string, string]> = [
    ["/about", "307 /about/"],
    ["/about/", "file /about.html"],
    ["/about.html", "307 /about/"],
    ["/blog", "307 /blog/"],
    ["/blog/", "file /blog/index.html"],
    ["/blog/index.html", "307 /blog/"],
    ["/css/site.css", "file /css/site.css"],
    ["/", "file /index.html"],
  ];
  for (const [path, expected] of table) assert.equal(short(path, c), expected, path);
});

test("drop-trailing-slash: no HTML page ends in a slash (but /)", () => {
  const c = { htmlHandling: "drop-trailing-slash" } as const;
  const table: Array<[string, string]> = [
    ["/about", "file /about.html"],
    ["/about/", "307 /about"],
    ["/blog", "file /blog/index.html"],
    ["/blog/", "307 /blog"],
    ["/blog/index.html", "307 /blog"],
    ["/index.html", "307 /"],
    ["/", "file /index.html"],
  ];
  for (const [path, expected] of table) assert.equal(short(path, c), expected, path);
});

test("html_handling none: only exact paths", () => {
  const c = { htmlHandling: "none" } as const;
  assert.equal(short("/about", c), "404");
  assert.equal(short("/about.html", c), "file /about.html");
  assert.equal(short("/", c), "404");
  assert.equal(short("/index.html", c), "file /index.html");
});

test("not_found_handling: single-page-application serves /index.html (200), 404-page the nearest 404.html (404)", () => {
  assert.equal(short("/app/deep/route", { notFoundHandling: "single-page-application" }), "file /index.html");
  assert.equal(short("/docs/nothing", { notFoundHandling: "404-page" }), "file /docs/404.html 404");
  assert.equal(short("/docs/a/b/c", { notFoundHandling: "404-page" }), "file /docs/404.html 404");
  assert.equal(short("/other/thing", { notFoundHandling: "404-page" }), "file /404.html 404");
  const bare = answerAssetRequest(manifestOf(["/a.txt"]), { ...DEFAULT_ASSET_CONFIG, notFoundHandling: "404-page" }, { method: "GET", url: "http://x/b", headers: [] });
  assert.equal(bare.kind, "not-found", "no 404.html anywhere: the empty 404");
});

test("methods: GET and HEAD only, where an asset answers; other methods of missing paths find nothing", () => {
  assert.equal(short("/about", {}, "HEAD"), "file /about.html");
  assert.equal(short("/about", {}, "POST"), "405");
  assert.equal(short("/nothing", {}, "POST"), "404");
});

test("ETag and If-None-Match: the strong or the weak form of the ETag gives 304", () => {
  const tag = etagOf(SITE["/about.html"]!);
  for (const inm of [`"${tag}"`, `W/"${tag}"`]) {
    const a = answer("/about", {}, "GET", [["if-none-match", inm]]);
    assert.ok(a.kind === "file" && a.notModified, inm);
    assert.equal(assetResponseHead(a, { method: "GET", url: "http://x/about", headers: [] }).status, 304);
  }
  for (const inm of [`"other"`, `"${tag}", "x"`, tag]) {
    const a = answer("/about", {}, "GET", [["if-none-match", inm]]);
    assert.ok(a.kind === "file" && !a.notModified, inm);
  }
});

test("response heads: ETag, Content-Type when known, Cache-Control unless credentials or a range", () => {
  const req = { method: "GET", url: "http://x/about", headers: [] as HeaderList };
  const a = answer("/about");
  const head = assetResponseHead(a, req);
  assert.equal(head.status, 200);
  assert.deepEqual(Object.fromEntries(head.headers), { etag: `"${etagOf(SITE["/about.html"]!)}"`, "content-type": "text/html; charset=utf-8", "cache-control": "public, max-age=0, must-revalidate", "cf-cache-status": "HIT" });
  const css = assetResponseHead(answer("/css/site.css"), req);
  assert.equal(css.headers.find(([n]) => n === "content-type"), undefined, "unknown type: no Content-Type");
  const auth = assetResponseHead(a, { ...req, headers: [["authorization", "Bearer x"]] });
  assert.equal(auth.headers.find(([n]) => n === "cache-control"), undefined);
  assert.deepEqual(assetResponseHead(answer("/blog"), req), { status: 307, statusText: "Temporary Redirect", headers: [["location", "/blog/"]] });
});

test("paths: percent-decoded to find the file, redirected to the canonical encoding, query kept", () => {
  assert.equal(short("/a%20b.txt"), "file /a b.txt");
  assert.equal(short("//css//site.css"), "307 /css/site.css");
  assert.equal(short("/blog?page=2"), "307 /blog/?page=2");
  assert.equal(short("/about.html?x=1#f"), "307 /about?x=1");
});

test("the router: a missing path goes to the Worker, not to the fallback, unless a browser navigates", () => {
  const spa: AssetConfig = { ...DEFAULT_ASSET_CONFIG, notFoundHandling: "single-page-application" };
  const req = (path: string, headers: HeaderList = [], method = "GET") => ({ method, url: `http://x${path}`, headers });
  assert.deepEqual(routeAssetRequest(SITE, spa, req("/api/users")), { to: "worker" });
  const nav = routeAssetRequest(SITE, spa, req("/app/route", [["sec-fetch-mode", "navigate"]]));
  assert.ok(nav.to === "assets" && nav.answer.kind === "file" && nav.answer.path === "/index.html");
  assert.deepEqual(routeAssetRequest(SITE, { ...spa, navigationPrefersAssets: false }, req("/app/route", [["sec-fetch-mode", "navigate"]])), { to: "worker" });
  const found = routeAssetRequest(SITE, spa, req("/about"));
  assert.ok(found.to === "assets" && found.answer.kind === "file");
  const post = routeAssetRequest(SITE, spa, req("/about", [], "POST"));
  assert.ok(post.to === "assets" && post.answer.kind === "method-not-allowed", "a POST to an asset's path is the assets' 405");
  assert.deepEqual(routeAssetRequest(SITE, spa, req("/form", [], "POST")), { to: "worker" });
});

test("the router: run_worker_first true, and as rules with ! exceptions", () => {
  const req = (path: string) => ({ method: "GET", url: `http://x${path}`, headers: [] as HeaderList });
  assert.deepEqual(routeAssetRequest(SITE, { ...DEFAULT_ASSET_CONFIG, runWorkerFirst: true }, req("/about")), { to: "worker" });
  const rules: AssetConfig = { ...DEFAULT_ASSET_CONFIG, notFoundHandling: "single-page-application", runWorkerFirst: ["/docs/*", "!/docs/guide*", "/*.css"] };
  assert.deepEqual(routeAssetRequest(SITE, rules, req("/docs/404.html")), { to: "worker" });
  assert.deepEqual(routeAssetRequest(SITE, rules, req("/css/site.css")), { to: "worker" });
  const guide = routeAssetRequest(SITE, rules, req("/docs/guide"));
  assert.ok(guide.to === "assets" && guide.answer.kind === "file" && guide.answer.path === "/docs/guide.html");
  // With rules, what they leave to the assets gets the fallback even without navigation (Cloudflare's static routing).
  const other = routeAssetRequest(SITE, rules, req("/app/route"));
  assert.ok(other.to === "assets" && other.answer.kind === "file" && other.answer.path === "/index.html");
});

test("validation names the field, what was expected and what was found", () => {
  assert.deepEqual(validateAssetConfig(DEFAULT_ASSET_CONFIG, "assets"), []);
  const bad = validateAssetConfig({ htmlHandling: "auto", notFoundHandling: "spa", runWorkerFirst: ["api/*"], navigationPrefersAssets: 1 }, "config.assets");
  assert.deepEqual(bad.map((d) => d.path), ["config.assets.htmlHandling", "config.assets.notFoundHandling", "config.assets.runWorkerFirst[0]", "config.assets.navigationPrefersAssets"]);
  assert.match(bad[0]!.message, /expected one of auto-trailing-slash, force-trailing-slash, drop-trailing-slash, none, found the string "auto"/);
  assert.match(validateRunWorkerFirst("yes", "run_worker_first")[0]!.message, /expected true, false or an array/);
  const hash = "a".repeat(64);
  assert.deepEqual(validateManifest({ "/x.html": { hash, size: 3, contentType: "text/html" } }, "m"), []);
  const problems = validateManifest({ "x.html": { hash, size: 1, contentType: null }, "/../etc": { hash, size: 1, contentType: null }, "/big": { hash: "nothex", size: 26 * 1024 * 1024, contentType: 5 } }, "m");
  assert.deepEqual(problems.map((d) => d.path), ['m["x.html"]', 'm["/../etc"]', 'm["/big"].hash', 'm["/big"].size', 'm["/big"].contentType']);
  assert.match(problems[3]!.message, /25 MiB/);
});
