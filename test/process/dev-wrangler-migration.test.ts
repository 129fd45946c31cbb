/**
 * A wrangler user's habits under `verge dev`: a build.command that writes
 * main (dist/) must not rebuild forever; `verge dev src/index.ts -c
 * wrangler.toml --test-scheduled --var K:V` keeps the config's bindings, and
 * a .dev.vars created while running is read; a
 * taken port is a user error with a fix; a node:* import says why it fails.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDev } from "../helpers/dev.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-migrate-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

test("build.command writing main under dist/: one command run per save, no rebuild loop", { timeout: 40_000 }, async (t) => {
  const dir = project({
    "wrangler.toml": 'name = "built"\nmain = "dist/worker.js"\n[build]\ncommand = "node build.mjs"\n',
    "build.mjs": 'import { mkdirSync, readFileSync, writeFileSync } from "node:fs";\nmkdirSync("dist", { recursive: true });\nwriteFileSync("dist/worker.js", readFileSync("src/app.js", "utf8"));\n',
    "src/app.js": 'export default { fetch() { return new Response("one"); } };\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dev = await startDev(t, [], dir);
  assert.equal(await (await fetch(dev.url)).text(), "one");
  writeFileSync(join(dir, "src/app.js"), 'export default { fetch() { return new Response("two"); } };\n');
  await dev.waitFor("version 2 serving");
  assert.equal(await (await fetch(dev.url)).text(), "two");
  // The command's own write to dist/worker.js is seen, bundled again, found identical: no command run, no new version.
  await dev.waitFor("bundle unchanged: version 2 keeps serving");
  assert.equal(count(dev.output(), "running build.command"), 2, dev.output());
  assert.ok(!dev.output().includes("version 3 serving"), dev.output());
});

test("verge dev <entry> -c <config> --test-scheduled --var K:V: the config's vars, secrets and KV bind, /__scheduled and /cdn-cgi/handler/scheduled run", { timeout: 30_000 }, async (t) => {
  const dir = project({
    "config/wrangler.toml": 'name = "shop"\nmain = "../src/index.ts"\n[vars]\nMODE = "prod"\n[[kv_namespaces]]\nbinding = "CART"\nid = "cart"\n',
    "src/index.ts": "export default { fetch() { return new Response('main'); } };\n",
    "src/alt.ts": `export default {
  async fetch(_req: Request, env: any) {
    return Response.json({ mode: env.MODE, token: env.TOKEN, sha: env.GIT_SHA, last: await env.CART.get("last") });
  },
  async scheduled(c: { cron: string }, env: any) { await env.CART.put("last", c.cron); },
};
`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dev = await startDev(t, ["src/alt.ts", "-c", "config/wrangler.toml", "--test-scheduled", "--var", "GIT_SHA:abc:1"], dir);
  assert.match(dev.output(), /name\s+shop/);
  assert.equal((await fetch(`${dev.url}__scheduled?cron=*/5+*+*+*+*`)).status, 200);
  assert.deepEqual(await (await fetch(dev.url)).json(), { mode: "prod", sha: "abc:1", last: "*/5 * * * *" });
  // Miniflare 4's path for the same.
  assert.equal((await fetch(`${dev.url}cdn-cgi/handler/scheduled?cron=0+3+*+*+MON`)).status, 200);
  assert.deepEqual(await (await fetch(dev.url)).json(), { mode: "prod", sha: "abc:1", last: "0 3 * * MON" });
  // A .dev.vars created while running is read, as an edited one is.
  writeFileSync(join(dir, "config/.dev.vars"), "TOKEN=tok\n");
  await dev.waitFor("version 2 serving");
  assert.deepEqual(await (await fetch(dev.url)).json(), { mode: "prod", token: "tok", sha: "abc:1", last: "0 3 * * MON" });
});

test("a taken port: ERR_PORT_IN_USE with what to do, exit 1, not a 'bug or outage'", { timeout: 30_000 }, async (t) => {
  const dir = project({ "w.js": "export default { fetch() { return new Response('x'); } };\n" });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
  t.after(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const child = spawn(process.execPath, ["--no-node-snapshot", MAIN, "dev", "w.js", "--port", String(port)], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  assert.equal(code, 1, out);
  assert.match(out, new RegExp(`ERR_PORT_IN_USE: verge dev: port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`));
  assert.ok(!out.includes("bug or an outage"), out);
});

test("nodejs_compat: node:buffer, node:events and node:crypto bundle as polyfills and run; node:fs is a build error saying what is supported", { timeout: 30_000 }, async (t) => {
  const dir = project({
    "wrangler.toml": 'name = "n"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\ncompatibility_flags = ["nodejs_compat"]\n',
    "src/index.js": 'import { Buffer } from "node:buffer";\nimport { EventEmitter } from "node:events";\nimport { createHash } from "node:crypto";\nexport default { fetch() { const e = new EventEmitter(); let v = ""; e.on("x", (s) => { v = s; }); e.emit("x", Buffer.from("x").toString("hex")); return new Response(v + " " + Buffer.from("hi").toString("base64") + " " + createHash("sha256").update("hi").digest("hex").slice(0, 8)); } };\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dev = await startDev(t, [], dir);
  assert.match(dev.output(), /warning: wrangler\.toml: compatibility_flags: nodejs_compat is applied in part: imports of node:buffer, /);
  const ok = await fetch(dev.url);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "78 aGk= 8f434346");
  writeFileSync(join(dir, "src/index.js"), 'import { readFileSync } from "node:fs";\nexport default { fetch() { return new Response(typeof readFileSync); } };\n');
  // A failed rebuild keeps the last good version serving (to non-HTML requests) and prints the problem.
  await dev.waitFor("node:fs is not available");
  assert.match(dev.output(), /build failed; version 1 keeps serving:[\s\S]*src\/index\.js:1:\d+: node:fs is not available in verge: with nodejs_compat, verge bundles polyfills for node:buffer, .*node:crypto, .*node:async_hooks, node:zlib only/);
  const page = await fetch(dev.url, { headers: { accept: "text/html" } });
  assert.equal(page.status, 500);
  assert.match(await page.text(), /node:fs is not available in verge/);
});
