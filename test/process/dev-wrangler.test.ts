/**
 * `verge dev wrangler.toml`: main, name, vars, .dev.vars secrets, limits.cpu_ms
 * and build.command from the config; the limit report header on every
 * response; /__scheduled runs the scheduled handler; an exception shows the
 * original source positions on an HTML page (browsers) or as JSON.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";

const WORKER = `import { greet } from "./greet.ts";
export default {
  async fetch(request: Request, env: Record<string, any>): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/kv") {
      const n = Number((await env.CACHE.get("hits")) ?? "0") + 1;
      await env.CACHE.put("hits", String(n));
      return new Response(String(n));
    }
    if (url.pathname === "/throw") {
      const n: number = 1;
      throw new Error("thrown <on purpose> at line 12");
    }
    return Response.json({ greeting: greet(env.GREETING), secret: env.API_KEY, mode: env.MODE });
  },
  async scheduled(controller: { cron: string }, env: Record<string, string>): Promise<void> {
    console.log("scheduled ran for " + controller.cron + " with " + env.MODE);
  },
};
`;

test("verge dev wrangler.toml: vars, .dev.vars secrets, limits.cpu_ms, build.command, limit header, /__scheduled, exception page", { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-wrangler-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src/index.ts"), WORKER);
  writeFileSync(join(dir, "src/greet.ts"), `export const greet = (g: string): string => g + ", world";\n`);
  writeFileSync(
    join(dir, "wrangler.toml"),
    `name = "hello"
main = "src/index.ts"
compatibility_date = "2025-01-01"

[vars]
GREETING = "Hello"
MODE = "top"

[limits]
cpu_ms = 40

[build]
command = "node -e \\"require('fs').writeFileSync('built.txt', 'yes')\\""

[[kv_namespaces]]
binding = "CACHE"
id = "abc123"

[env.staging]
name = "hello-staging"
[env.staging.vars]
GREETING = "Howdy"
MODE = "staging"

[[env.staging.kv_namespaces]]
binding = "CACHE"
id = "staging123"
`,
  );
  writeFileSync(join(dir, ".dev.vars"), "API_KEY=s3cr3t-value\n");

  const dev = await startDev(t, ["wrangler.toml", "--env", "staging"], dir);
  const out = dev.output();
  assert.match(out, /name\s+hello-staging/);
  assert.match(out, /GREETING \(var\), MODE \(var\), API_KEY \(secret: \*\*\*\*\)/);
  assert.ok(!out.includes("s3cr3t-value"), "the secret's value is never printed");
  assert.match(out, /limits\s+workers: cpu 40 ms/);
  assert.match(out, /running build\.command: node -e/);
  assert.ok(existsSync(join(dir, "built.txt")), "build.command ran in the config's directory");

  const res = await fetch(dev.url);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { greeting: "Howdy, world", secret: "s3cr3t-value", mode: "staging" });
  assert.match(res.headers.get("x-verge-limits")!, /^cpu=\d+(\.\d)?\/40ms; wall=\d+(\.\d)?\/30000ms; heap=\d+(\.\d)?\/128MB; subrequests=0\/50$/);
  assert.match(res.headers.get("x-verge-request-id")!, /^[0-9a-f]{12}$/);
  await dev.waitFor(new RegExp(`\\[${res.headers.get("x-verge-request-id")}\\] GET / 200`));

  const cron = await fetch(`${dev.url}__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
  assert.equal(cron.status, 200);
  assert.equal(await cron.text(), "Ran scheduled event\n");
  assert.match(cron.headers.get("x-verge-limits")!, /^cpu=[\d.]+\/40ms/);
  await dev.waitFor("scheduled ran for */5 * * * * with staging");

  const json = await fetch(`${dev.url}throw`);
  assert.equal(json.status, 503);
  assert.equal(json.headers.get("x-verge-error"), "ERR_FUNCTION_EXCEPTION");
  assert.ok(json.headers.get("x-verge-limits"));
  const body = (await json.json()) as { error: { code: string; stack: string; requestId: string } };
  assert.equal(body.error.code, "ERR_FUNCTION_EXCEPTION");
  assert.match(body.error.stack, /src\/index\.ts:12:13/);
  const page = await fetch(`${dev.url}throw`, { headers: { accept: "text/html,application/xhtml+xml" } });
  assert.equal(page.status, 503);
  assert.match(page.headers.get("content-type")!, /text\/html/);
  const html = await page.text();
  assert.match(html, /thrown &lt;on purpose&gt; at line 12/);
  assert.match(html, /src\/index\.ts:12:13/);
  await dev.waitFor(/ERR_FUNCTION_EXCEPTION[^]*src\/index\.ts:12:13/);
  assert.match(dev.output(), /CACHE \(KV namespace\)/);
  assert.equal(await (await fetch(`${dev.url}kv`)).text(), "1");
  // KV data outlives a rebuild (each version is a new harness instance).
  writeFileSync(join(dir, "src/greet.ts"), `export const greet = (g: string): string => g + ", there";\n`);
  await dev.waitFor("version 2 serving");
  assert.equal(await (await fetch(`${dev.url}kv`)).text(), "2");
  assert.equal(((await (await fetch(dev.url)).json()) as { greeting: string }).greeting, "Howdy, there");
  // A change to the config's secrets file reloads the settings and rebuilds.
  writeFileSync(join(dir, ".dev.vars"), "API_KEY=rotated\n");
  await dev.waitFor("version 3 serving");
  assert.match(dev.output(), /config reloaded/);
  assert.equal(((await (await fetch(dev.url)).json()) as { secret: string }).secret, "rotated");
});
