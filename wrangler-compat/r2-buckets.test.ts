/** `[[r2_buckets]]` / `r2_buckets: [...]`: read as R2 bucket bindings; bad entries are errors; not inherited by environments. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWranglerConfig, WranglerConfigError } from "./index.ts";

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-wrangler-r2-"));
  writeFileSync(join(dir, name), text);
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

test("wrangler.toml [[r2_buckets]] and wrangler.jsonc r2_buckets become { binding, bucketName }; jurisdiction is warned about", () => {
  const toml = file("wrangler.toml", `name = "site"\nmain = "index.js"\n[[r2_buckets]]\nbinding = "ASSETS"\nbucket_name = "site-assets"\npreview_bucket_name = "site-assets-dev"\njurisdiction = "eu"\n[env.staging]\nname = "site-staging"\n`);
  const { config, warnings } = readWranglerConfig(toml);
  assert.deepEqual(config.r2Buckets, [{ binding: "ASSETS", bucketName: "site-assets", previewBucketName: "site-assets-dev" }]);
  assert.match(warnings.find((w) => w.path === "r2_buckets[0].jurisdiction")!.message, /a bucket lives where the registry runs/);
  assert.ok(!warnings.some((w) => w.path === "r2_buckets"), "r2_buckets is no longer an unsupported key");
  const staging = readWranglerConfig(toml, { env: "staging" });
  assert.equal(staging.config.r2Buckets, undefined, "bindings are not inherited");
  assert.match(staging.warnings.find((w) => w.path === "env.staging.r2_buckets")!.message, /not inherited/);

  const jsonc = file("wrangler.jsonc", `{ "name": "site", "main": "index.js", // a comment\n "r2_buckets": [{ "binding": "ASSETS", "bucket_name": "site-assets" },] }`);
  assert.deepEqual(readWranglerConfig(jsonc).config.r2Buckets, [{ binding: "ASSETS", bucketName: "site-assets" }]);
});

test("bad R2 bucket bindings are errors naming the path", () => {
  const toml = file(
    "wrangler.toml",
    `name = "site"\nmain = "index.js"\n[vars]\nTAKEN = "x"\n[[r2_buckets]]\nbinding = "TAKEN"\nbucket_name = "ok-name"\n[[r2_buckets]]\nbinding = "A"\nbucket_name = "Bad_Name"\n[[r2_buckets]]\nbucket_name = "x"\n[[r2_buckets]]\nbinding = "B"\n`,
  );
  let errors: Array<{ path: string; message: string }> = [];
  try {
    readWranglerConfig(toml);
  } catch (err) {
    assert.ok(err instanceof WranglerConfigError);
    errors = err.diagnostics.filter((d) => d.severity === "error");
  }
  const byPath = Object.fromEntries(errors.map((e) => [e.path, e.message]));
  assert.match(byPath["r2_buckets[0].binding"]!, /"TAKEN" is also bound in vars/);
  assert.match(byPath["r2_buckets[1].bucket_name"]!, /expected 3 to 63 lowercase letters, digits or -.*found "Bad_Name"/);
  assert.match(byPath["r2_buckets[2].binding"]!, /missing/);
  assert.match(byPath["r2_buckets[2].bucket_name"]!, /expected 3 to 63/);
  assert.match(byPath["r2_buckets[3].bucket_name"]!, /missing/);
});
