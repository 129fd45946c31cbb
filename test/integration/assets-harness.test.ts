/**
 * Static assets in the harness (`new Verge({ assets })`, Miniflare 4's option):
 * files answered before the Worker runs, the rest reaching it, `env.ASSETS`
 * from inside the Worker, `.assetsignore`, run_worker_first, and the errors a
 * bad option or directory gives. test/differential/assets.test.ts compares the
 * answers with Miniflare's.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import { Verge, hasCode } from "../../src/index.ts";
import { listenDuringTests } from "../helpers/local-server.ts";

let origin = "";
listenDuringTests(createServer((req, res) => res.end(`origin ${req.url}`)), (url) => (origin = url));

const dir = mkdtempSync(join(tmpdir(), "verge-assets-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const site = join(dir, "public");
mkdirSync(join(site, "blog"), { recursive: true });
mkdirSync(join(site, "css"));
writeFileSync(join(site, "index.html"), "<h1>home</h1>");
writeFileSync(join(site, "about.html"), "<h1>about</h1>");
writeFileSync(join(site, "blog", "index.html"), "<h1>blog</h1>");
writeFileSync(join(site, "css", "site.css"), "body{}");
writeFileSync(join(site, "secret.txt"), "not served");
writeFileSync(join(site, ".assetsignore"), "secret.txt\n");
writeFileSync(join(site, "_redirects"), "/old /new 301\n");

const WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/via-binding") return env.ASSETS.fetch(new URL("/about", request.url));
    if (url.pathname === "/binding-redirect") {
      const r = await env.ASSETS.fetch(new URL("/about.html", request.url), { redirect: "manual" });
      return new Response(r.status + " " + r.headers.get("location"));
    }
    if (url.pathname === "/binding-missing") return env.ASSETS.fetch(new URL("/nothing", request.url));
    if (url.pathname.startsWith("/origin/")) return fetch(request);
    return new Response("worker " + request.method + " " + url.pathname);
  },
};`;

function verge(assets: Record<string, unknown> = {}): Verge {
  const v = new Verge({ modules: true, script: WORKER, compatibilityDate: "2025-06-01", assets: { directory: site, binding: "ASSETS", ...assets } as never });
  after(() => v.dispose());
  return v;
}

test("a file is answered before the Worker, which does not run for it", async () => {
  const v = verge();
  const res = await v.dispatchFetch("http://site.test/");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "<h1>home</h1>");
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
  assert.equal(res.headers.get("cache-control"), "public, max-age=0, must-revalidate");
  assert.equal(v.reportOf(res), undefined, "no invocation");
  const css = await v.dispatchFetch("http://site.test/css/site.css");
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal(await css.text(), "body{}");
});

test("paths no file answers go to the Worker; ignored and metafiles are not served", async () => {
  const v = verge();
  for (const path of ["/missing", "/secret.txt", "/_redirects", "/.assetsignore"]) {
    const res = await v.dispatchFetch(`http://site.test${path}`);
    assert.equal(await res.text(), `worker GET ${path}`, path);
  }
});

test("trailing slashes redirect (307) to the canonical path; If-None-Match gives 304; HEAD has no body; POST is 405", async () => {
  const v = verge();
  const blog = await v.dispatchFetch("http://site.test/blog?x=1");
  assert.equal(blog.status, 307);
  assert.equal(blog.headers.get("location"), "/blog/?x=1");
  assert.equal(await (await v.dispatchFetch("http://site.test/blog/")).text(), "<h1>blog</h1>");
  const first = await v.dispatchFetch("http://site.test/about");
  const etag = first.headers.get("etag")!;
  await first.arrayBuffer();
  const again = await v.dispatchFetch("http://site.test/about", { headers: { "If-None-Match": etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  const head = await v.dispatchFetch("http://site.test/about", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const post = await v.dispatchFetch("http://site.test/about", { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal(await (await v.dispatchFetch("http://site.test/form", { method: "POST", body: "x" })).text(), "worker POST /form");
});

test("env.ASSETS.fetch() from the Worker: files, redirects (followed unless manual), the empty 404", async () => {
  const v = verge({ routerConfig: { invoke_user_worker_ahead_of_assets: true } });
  assert.equal(await (await v.dispatchFetch("http://site.test/")).text(), "worker GET /", "run_worker_first: the Worker gets /");
  assert.equal(await (await v.dispatchFetch("http://site.test/via-binding")).text(), "<h1>about</h1>");
  assert.equal(await (await v.dispatchFetch("http://site.test/binding-redirect")).text(), "307 /about");
  const missing = await v.dispatchFetch("http://site.test/binding-missing");
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), "");
  const env = await v.getBindings<{ ASSETS: { fetch(u: string): Promise<Response> } }>();
  assert.equal(await (await env.ASSETS.fetch("http://site.test/about")).text(), "<h1>about</h1>");
});

test("single-page-application: a browser's navigation gets index.html, other misses the Worker; static routing rules", async () => {
  const v = verge({ assetConfig: { not_found_handling: "single-page-application" }, routerConfig: { static_routing: { user_worker: ["/api/*"], asset_worker: ["/api/docs/*"] } } });
  // With routing rules, the fallback applies to every path they leave to the assets.
  assert.equal(await (await v.dispatchFetch("http://site.test/app/route")).text(), "<h1>home</h1>");
  assert.equal(await (await v.dispatchFetch("http://site.test/api/users")).text(), "worker GET /api/users");
  assert.equal(await (await v.dispatchFetch("http://site.test/api/docs/x")).text(), "<h1>home</h1>");
  const plain = verge({ assetConfig: { not_found_handling: "single-page-application" } });
  assert.equal(await (await plain.dispatchFetch("http://site.test/app/route")).text(), "worker GET /app/route");
  assert.equal(await (await plain.dispatchFetch("http://site.test/app/route", { headers: { "Sec-Fetch-Mode": "navigate" } })).text(), "<h1>home</h1>");
});

test("bad options and directories are refused at construction, naming the option", () => {
  const refused = (assets: unknown, pattern: RegExp) =>
    assert.throws(() => new Verge({ modules: true, script: WORKER, assets: assets as never }), (err: unknown) => hasCode(err, "ERR_INVALID_OPTIONS") && pattern.test((err as unknown as Error).message));
  refused({ directory: join(dir, "nope") }, /assets\.directory: the directory .*nope does not exist/);
  refused({ directory: site, assetConfig: { html_handling: "auto" } }, /assets\.assetConfig\.html_handling: expected one of auto-trailing-slash, force-trailing-slash, drop-trailing-slash, none, found the string "auto"/);
  refused({ directory: site, routerConfig: { static_routing: { user_worker: ["api/*"] } } }, /assets\.routerConfig\.static_routing\.user_worker\[0\]: expected a path rule starting with "\/"/);
  refused({ directory: site, binding: "not-an-identifier" }, /assets\.binding: expected a JavaScript identifier/);
  refused({ directory: site, extra: 1 }, /assets\.extra: unknown option/);
  const big = join(dir, "big");
  mkdirSync(big);
  closeSync(openSync(join(big, "video.mp4"), "w"));
  truncateSync(join(big, "video.mp4"), 25 * 1024 * 1024 + 1);
  refused({ directory: big }, /video\.mp4 is 25\.0 MiB; an asset may be at most 25 MiB/);
});

test("with upstream, the edge pipeline serves the assets at viewer-request; other paths reach the Worker and through it the origin", async () => {
  const v = new Verge({ modules: true, script: WORKER, compatibilityDate: "2025-06-01", upstream: origin, assets: { directory: site, binding: "ASSETS" } });
  after(() => v.dispose());
  const home = await v.dispatchFetch("http://site.test/");
  assert.equal(await home.text(), "<h1>home</h1>");
  assert.equal(home.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(home.headers.get("x-verge-request-id") ?? "", /./, "answered by the pipeline");
  assert.equal(v.reportOf(home), undefined, "the Worker did not run");
  const blog = await v.dispatchFetch("http://site.test/blog");
  assert.equal(blog.status, 307);
  assert.equal(blog.headers.get("location"), "/blog/");
  const etag = home.headers.get("etag")!;
  assert.equal((await v.dispatchFetch("http://site.test/", { headers: { "If-None-Match": etag } })).status, 304);
  const worker = await v.dispatchFetch("http://site.test/api");
  assert.equal(await worker.text(), "worker GET /api");
  assert.ok(v.reportOf(worker) !== undefined);
  assert.equal(await (await v.dispatchFetch("http://site.test/origin/x")).text(), "origin /origin/x");
  assert.equal(await (await v.dispatchFetch("http://site.test/via-binding")).text(), "<h1>about</h1>");
});
