/** `verge dev` with `[[r2_buckets]]`: the binding works, the banner names it, objects outlive a rebuild in .verge/r2. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";

const WORKER = (tag: string) => `export default {
  async fetch(request, env) {
    const key = new URL(request.url).pathname.slice(1);
    if (request.method === "PUT") {
      await env.FILES.put(key, request.body, { httpMetadata: request.headers });
      return new Response("stored ${tag}");
    }
    const o = await env.FILES.get(key);
    if (o === null) return new Response("none ${tag}", { status: 404 });
    const headers = new Headers();
    o.writeHttpMetadata(headers);
    return new Response(o.body, { headers });
  },
};
`;

test("verge dev wrangler.toml with [[r2_buckets]]: put and get through the Worker, kept across a rebuild", { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-r2-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src/index.js"), WORKER("v1"));
  writeFileSync(join(dir, "wrangler.toml"), `name = "files"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "files-bucket"\n`);
  const dev = await startDev(t, ["wrangler.toml"], dir);
  assert.match(dev.output(), /FILES \(R2 bucket\)/);
  assert.ok(!/r2_buckets.*not supported/.test(dev.output()));
  const put = await fetch(`${dev.url}a.txt`, { method: "PUT", body: "hello r2", headers: { "content-type": "text/plain" } });
  assert.equal(await put.text(), "stored v1");
  const got = await fetch(`${dev.url}a.txt`);
  assert.equal(got.headers.get("content-type"), "text/plain");
  assert.equal(await got.text(), "hello r2");
  writeFileSync(join(dir, "src/index.js"), WORKER("v2"));
  await dev.waitFor("version 2 serving");
  assert.equal(await (await fetch(`${dev.url}a.txt`)).text(), "hello r2");
  assert.equal(await (await fetch(`${dev.url}b.txt`)).text(), "none v2");
  assert.ok(existsSync(join(dir, ".verge/r2")), "objects persist in .verge/r2 beside the config");
});
