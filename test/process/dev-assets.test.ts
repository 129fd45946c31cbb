/**
 * `verge dev` on a wrangler.toml with `[assets]`: files are served from the
 * directory before the Worker, the rest reaches the Worker, `env.ASSETS`
 * works from inside it, and editing a file serves the new bytes (the session
 * watches the directory and swaps in a version with a new manifest).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";

test("verge dev serves [assets] before the Worker, gives it env.ASSETS, and follows edits", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-assets-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "public", "docs"), { recursive: true });
  writeFileSync(join(dir, "public", "index.html"), "<h1>v1</h1>");
  writeFileSync(join(dir, "public", "docs", "index.html"), "<h1>docs</h1>");
  writeFileSync(join(dir, "worker.js"), `export default { fetch: (req, env) => new URL(req.url).pathname === "/asset" ? env.ASSETS.fetch(new URL("/", req.url)) : new Response("worker " + new URL(req.url).pathname) };`);
  writeFileSync(join(dir, "wrangler.toml"), `name = "site"\nmain = "worker.js"\ncompatibility_date = "2025-06-01"\n[assets]\ndirectory = "./public"\nbinding = "ASSETS"\nhtml_handling = "drop-trailing-slash"\n`);
  const dev = await startDev(t, [], dir);
  const get = async (path: string) => {
    const res = await fetch(new URL(path, dev.url), { redirect: "manual" });
    return { status: res.status, location: res.headers.get("location"), body: await res.text(), limits: res.headers.get("x-verge-limits") };
  };
  const home = await get("/");
  assert.equal(home.body, "<h1>v1</h1>");
  assert.match(home.limits ?? "", /none/, "the Worker did not run");
  assert.deepEqual(await get("/docs/"), { status: 307, location: "/docs", body: "", limits: (await get("/docs/")).limits });
  assert.equal((await get("/docs")).body, "<h1>docs</h1>");
  assert.equal((await get("/api")).body, "worker /api");
  assert.equal((await get("/asset")).body, "<h1>v1</h1>");
  writeFileSync(join(dir, "public", "index.html"), "<h1>v2</h1>");
  const deadline = Date.now() + 15_000;
  while ((await get("/")).body !== "<h1>v2</h1>") {
    if (Date.now() > deadline) assert.fail(`the edit was not served:\n${dev.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await get("/asset")).body, "<h1>v2</h1>", "env.ASSETS sees the new file too");
});
