/**
 * Static assets, differential: one asset directory and one Worker, served by
 * Miniflare 4 (workerd and Cloudflare's own asset and router workers) and by
 * verge's harness with the same `assets` option; the same requests go to both
 * under each html_handling and not_found_handling, run_worker_first and static
 * routing. Status, Location, Content-Type, whether an ETag and Cache-Control
 * came, and the body bytes must match. ETag values are not compared: Miniflare
 * derives them from a file's path and mtime, Cloudflare and verge from its
 * content; each runtime's own ETag is sent back to it for If-None-Match.
 * Miniflare is reached over HTTP rather than through its dispatchFetch, whose
 * fetch client replaces `Sec-Fetch-Mode` (a browser navigation) with "cors".
 *
 * Run: node --no-node-snapshot --test test/differential/assets.test.ts
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { Miniflare } from "miniflare";
import { Verge } from "../../src/index.ts";

const WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/through-binding")) return env.ASSETS.fetch(new URL(url.pathname.slice(16) || "/", request.url), { headers: request.headers });
    return new Response("worker " + request.method + " " + url.pathname + url.search, { headers: { "x-from": "worker" } });
  },
};`;

interface Case {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  /** Send back the ETag this runtime gave for the same path first. */
  conditional?: boolean;
}

const PATHS = ["/", "/index.html", "/index", "/about", "/about.html", "/about/", "/blog", "/blog/", "/blog/index.html", "/blog/index", "/css/site.css", "/a%20b.txt", "//css//site.css", "/missing", "/docs/missing", "/docs/guide", "/blog?page=2", "/api/users", "/api/docs/page", "/app/route", "/through-binding/about.html", "/through-binding/blog/", "/through-binding/nothing"];

const CASES: Case[] = [
  ...PATHS.map((path) => ({ path })),
  { path: "/app/route", headers: { "Sec-Fetch-Mode": "navigate" } },
  { path: "/docs/deep/missing", headers: { "Sec-Fetch-Mode": "navigate" } },
  { path: "/about", method: "HEAD" },
  { path: "/about", method: "POST" },
  { path: "/form", method: "POST" },
  { path: "/about", conditional: true },
  { path: "/css/site.css", conditional: true },
  { path: "/about", headers: { Authorization: "Bearer x" } },
];

const CONFIGS: Record<string, Record<string, unknown>> = {
  default: {},
  "force-trailing-slash": { assetConfig: { html_handling: "force-trailing-slash" } },
  "drop-trailing-slash": { assetConfig: { html_handling: "drop-trailing-slash" } },
  "html none": { assetConfig: { html_handling: "none" } },
  spa: { assetConfig: { not_found_handling: "single-page-application" } },
  "404-page": { assetConfig: { not_found_handling: "404-page" } },
  "run_worker_first": { routerConfig: { invoke_user_worker_ahead_of_assets: true } },
  "static routing + spa": { assetConfig: { not_found_handling: "single-page-application" }, routerConfig: { static_routing: { user_worker: ["/api/*", "/through-binding/*"], asset_worker: ["/api/docs/*"] } } },
};

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "verge-assets-diff-"));
  const files: Record<string, string> = {
    "index.html": "<h1>home</h1>",
    "about.html": "<h1>about</h1>",
    "blog/index.html": "<h1>blog</h1>",
    "css/site.css": "body { color: red }",
    "a b.txt": "spaced",
    "docs/guide.html": "<h1>guide</h1>",
    "docs/404.html": "<h1>docs 404</h1>",
    "404.html": "<h1>404</h1>",
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Seen {
  status: number;
  location: string | null;
  contentType: string | null;
  etag: boolean;
  cacheControl: string | null;
  from: string | null;
  body: string;
}

type Dispatch = (path: string, init: RequestInit) => Promise<Response>;

/** A request over HTTP as a browser sends it (headers as given), the answer as a Response. */
function overHttp(base: URL): Dispatch {
  return (path, init) =>
    new Promise((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers));
      const req = httpRequest({ host: base.hostname, port: base.port, path, method: init.method ?? "GET", headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const list: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) list.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          const empty = res.statusCode === 304 || init.method === "HEAD";
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status: res.statusCode!, headers: list }));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(typeof init.body === "string" ? init.body : undefined);
    });
}

async function transcript(dispatch: Dispatch): Promise<Record<string, Seen>> {
  const out: Record<string, Seen> = {};
  const etags = new Map<string, string>();
  for (const c of CASES) {
    const headers = new Headers(c.headers);
    if (c.conditional) {
      const first = await dispatch(c.path, {});
      etags.set(c.path, first.headers.get("etag") ?? "none");
      await first.arrayBuffer();
      headers.set("If-None-Match", etags.get(c.path)!);
    }
    const method = c.method ?? "GET";
    const res = await dispatch(c.path, { method, headers, redirect: "manual", ...(method === "POST" ? { body: "x" } : {}) }).catch((err: Error) => {
      throw new Error(`${method} ${c.path}: ${err.message}`);
    });
    const name = `${method} ${c.path}${c.headers ? ` ${JSON.stringify(c.headers)}` : ""}${c.conditional ? " (If-None-Match)" : ""}`;
    out[name] = { status: res.status, location: res.headers.get("location"), contentType: res.headers.get("content-type"), etag: res.headers.has("etag"), cacheControl: res.headers.get("cache-control"), from: res.headers.get("x-from"), body: await res.text() };
  }
  return out;
}

for (const [label, extra] of Object.entries(CONFIGS)) {
  test(`assets, ${label}: verge answers as Miniflare 4`, async () => {
    const assets = { directory: dir, binding: "ASSETS", ...extra };
    const mf = new Miniflare({ modules: true, script: WORKER, compatibilityDate: "2025-06-01", assets: { ...assets, routerConfig: { ...(extra.routerConfig as object), has_user_worker: true } } as never });
    const verge = new Verge({ modules: true, script: WORKER, compatibilityDate: "2025-06-01", assets: assets as never });
    try {
      const theirs = await transcript(overHttp(await mf.ready));
      const ours = await transcript((path, init) => verge.dispatchFetch(`http://assets.test${path}`, init));
      for (const name of Object.keys(theirs)) assert.deepEqual(ours[name], theirs[name], `${label} › ${name}`);
    } finally {
      await Promise.all([mf.dispose(), verge.dispose()]);
    }
  });
}
