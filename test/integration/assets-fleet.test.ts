/**
 * Static assets across a fleet, over real HTTP: `verge publish --config` (the
 * CLI as a child process) uploads a Worker's `[assets]` to a registry,
 * content-addressed (only files the registry lacks are sent), and an edge node
 * serves them at viewer-request before the Worker: fetched by hash on first
 * need, verified, kept in its LMDB, and served from there while the registry
 * is down. The registry checks what it receives: hashes, uploads named by a
 * config, the bundle naming its assets.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startFleet, type Fleet } from "../helpers/fleet.ts";

const MAIN = resolve(fileURLToPath(import.meta.url), "../../../src/cli/main.ts");
const HOST = "assets.example.com";
const WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/via-binding") return env.ASSETS.fetch(new URL("/about", request.url));
    return new Response("worker " + url.pathname, { headers: { "x-from": "worker" } });
  },
};`;

let fleet: Fleet;
let dir: string;

function verge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, VERGE_ORIGIN: fleet.registry.url, VERGE_TOKEN: fleet.tenantToken };
  return new Promise((done) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, ...args], { env, cwd: dir }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

async function publish(): Promise<string> {
  const r = await verge("publish", "--config", "wrangler.toml", "--json");
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

before(async () => {
  fleet = await startFleet({ nodes: 1 });
  dir = mkdtempSync(join(tmpdir(), "verge-assets-fleet-"));
  mkdirSync(join(dir, "public", "blog"), { recursive: true });
  writeFileSync(join(dir, "worker.js"), WORKER);
  writeFileSync(join(dir, "public", "index.html"), "<h1>home</h1>");
  writeFileSync(join(dir, "public", "about.html"), "<h1>about</h1>");
  writeFileSync(join(dir, "public", "blog", "index.html"), "<h1>blog</h1>");
  writeFileSync(join(dir, "public", "404.html"), "<h1>not here</h1>");
  writeFileSync(join(dir, "public", "unread.txt"), "nobody asked before the registry went down");
  writeFileSync(join(dir, "wrangler.toml"), `name = "site"\nmain = "worker.js"\ncompatibility_date = "2025-06-01"\n[assets]\ndirectory = "public"\nbinding = "ASSETS"\nnot_found_handling = "404-page"\n`);
});
after(async () => {
  await fleet?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("verge publish uploads the assets once, and an edge node serves them before the Worker", async () => {
  const first = await publish();
  assert.match(first, /assets: 5 files, 5 uploaded/);
  const again = await publish();
  assert.match(again, /assets: 5 files, 0 uploaded/, "content-addressed: nothing sent again");
  await fleet.distribution("site", { hostnames: [HOST], origins: [{ id: "web", url: "http://127.0.0.1:9" }], defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "site", alias: "live" } } }, behaviors: [] });
  await fleet.waitApplied();

  const home = await fleet.get(0, HOST, "/");
  assert.equal(home.status, 200, home.body);
  assert.equal(home.body, "<h1>home</h1>");
  assert.equal(home.headers["content-type"], "text/html; charset=utf-8");
  assert.equal(home.headers["etag"], `"${createHash("sha256").update("<h1>home</h1>").digest("hex").slice(0, 32)}"`);
  assert.equal(home.headers["cf-cache-status"], "MISS", "first read: fetched from the registry");
  assert.equal(home.headers["x-from"], undefined);
  assert.equal((await fleet.get(0, HOST, "/")).headers["cf-cache-status"], "HIT", "then from the node's LMDB");
  assert.equal((await fleet.get(0, HOST, "/", { headers: { "if-none-match": home.headers["etag"] as string } })).status, 304);
  const blog = await fleet.get(0, HOST, "/blog");
  assert.equal(blog.status, 307);
  assert.equal(blog.headers["location"], "/blog/");
  const api = await fleet.get(0, HOST, "/api/x");
  assert.equal(api.body, "worker /api/x");
  const nav = await fleet.get(0, HOST, "/nope", { headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(nav.status, 404);
  assert.equal(nav.body, "<h1>not here</h1>");
  assert.equal((await fleet.get(0, HOST, "/via-binding")).body, "<h1>about</h1>", "env.ASSETS on the node");
});

test("a changed file uploads alone and makes a new version, which the node serves", async () => {
  writeFileSync(join(dir, "public", "blog", "index.html"), "<h1>blog v2</h1>");
  const out = await publish();
  assert.match(out, /assets: 5 files, 1 uploaded/);
  await fleet.waitApplied();
  assert.equal((await fleet.get(0, HOST, "/blog/")).body, "<h1>blog v2</h1>");
});

test("the registry verifies uploads and what a config or a bundle names", async () => {
  const as = { token: fleet.tenantToken };
  const hash = createHash("sha256").update("real").digest("hex");
  const wrong = await fleet.registry.call("PUT", `/v1/tenants/${fleet.tenant}/assets/${hash}`, { ...as, body: new TextEncoder().encode("forged") });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error.code, "ERR_DIGEST_MISMATCH");
  const missing = await fleet.registry.call("POST", `/v1/tenants/${fleet.tenant}/assets/missing`, { ...as, json: { hashes: [hash] } });
  assert.deepEqual(missing.body, { missing: [hash] });
  const config = { assets: { manifest: { "/x.txt": { hash, size: 4, contentType: null } }, config: { htmlHandling: "none", notFoundHandling: "none", runWorkerFirst: false, navigationPrefersAssets: true } } };
  const refused = await fleet.registry.call("PUT", `/v1/tenants/${fleet.tenant}/functions/other`, { ...as, json: { config } });
  assert.equal(refused.status, 400);
  assert.match(JSON.stringify(refused.body), /not uploaded: PUT \/v1\/tenants\/acme\/assets\//);
  assert.equal((await fleet.registry.call("PUT", `/v1/tenants/${fleet.tenant}/assets/${hash}`, { ...as, body: new TextEncoder().encode("real") })).status, 201);
  assert.equal((await fleet.registry.call("PUT", `/v1/tenants/${fleet.tenant}/functions/other`, { ...as, json: { config } })).status, 201);
  const plain = await fleet.registry.call("POST", `/v1/tenants/${fleet.tenant}/functions/other/versions`, { ...as, body: new TextEncoder().encode(WORKER) });
  assert.equal(plain.status, 400);
  assert.match(plain.body.error.message, /end the bundle with the line "\/\/# verge-assets=[0-9a-f]{64}"/);
});

test("with the registry down, stored assets are still served; one never fetched is a 503", async () => {
  await fleet.stopRegistry();
  try {
    const home = await fleet.get(0, HOST, "/");
    assert.equal(home.status, 200);
    assert.equal(home.body, "<h1>home</h1>");
    const unread = await fleet.get(0, HOST, "/unread.txt");
    assert.equal(unread.status, 503);
    assert.equal(unread.headers["x-verge-error"], "ERR_ASSET_UNAVAILABLE");
  } finally {
    await fleet.restartRegistry();
  }
});
