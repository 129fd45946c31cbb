/** `[assets]`: read with its defaults, inherited by environments, bad values reported at their paths. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWranglerConfig, WranglerConfigError } from "./index.ts";

function file(name: string, text: string): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "verge-wrangler-assets-"));
  writeFileSync(join(dir, name), text);
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return { path: join(dir, name), dir };
}

function errorsOf(path: string): Array<{ path: string; message: string }> {
  try {
    readWranglerConfig(path);
  } catch (err) {
    assert.ok(err instanceof WranglerConfigError);
    return err.diagnostics.filter((d) => d.severity === "error").map(({ path, message }) => ({ path, message }));
  }
  assert.fail("expected ERR_WRANGLER_CONFIG");
}

test("wrangler.toml [assets] with defaults filled; environments inherit it; no warning", () => {
  const { path, dir } = file("wrangler.toml", `name = "site"\nmain = "src/index.ts"\n[assets]\ndirectory = "./public"\nbinding = "ASSETS"\n[env.staging]\n`);
  const { config, warnings } = readWranglerConfig(path);
  assert.deepEqual(config.assets, { directory: join(dir, "public"), binding: "ASSETS", htmlHandling: "auto-trailing-slash", notFoundHandling: "none", runWorkerFirst: false });
  assert.deepEqual(warnings, []);
  assert.deepEqual(readWranglerConfig(path, { env: "staging" }).config.assets, config.assets);
  assert.equal(readWranglerConfig(file("wrangler.toml", `name = "x"\nmain = "i.js"\n`).path).config.assets, undefined);
});

test("wrangler.jsonc assets with every setting, and experimental_serve_directly read as its inverse with a warning", () => {
  const { path, dir } = file("wrangler.jsonc", `{ "name": "spa", "main": "w.js", "assets": { "directory": "dist", "html_handling": "drop-trailing-slash", "not_found_handling": "single-page-application", "run_worker_first": ["/api/*", "!/api/docs/*"] } }`);
  assert.deepEqual(readWranglerConfig(path).config.assets, { directory: join(dir, "dist"), htmlHandling: "drop-trailing-slash", notFoundHandling: "single-page-application", runWorkerFirst: ["/api/*", "!/api/docs/*"] });
  const old = readWranglerConfig(file("wrangler.toml", `name = "x"\nmain = "i.js"\n[assets]\ndirectory = "p"\nexperimental_serve_directly = false\n`).path);
  assert.equal(old.config.assets?.runWorkerFirst, true);
  assert.match(old.warnings.find((w) => w.path === "assets.experimental_serve_directly")!.message, /run_worker_first = true/);
});

test("bad [assets] values: each an error naming the key, what was expected and what was found", () => {
  const { path } = file(
    "wrangler.toml",
    `name = "x"\nmain = "i.js"\n[vars]\nASSETS = "taken"\n[assets]\nbinding = "ASSETS"\nhtml_handling = "auto"\nnot_found_handling = "spa"\nrun_worker_first = ["api/*", 3]\n`,
  );
  const errors = errorsOf(path);
  assert.deepEqual(errors.map((e) => e.path), ["assets.directory", "assets.binding", "assets.html_handling", "assets.not_found_handling", "assets.run_worker_first[0]", "assets.run_worker_first[1]"]);
  assert.match(errors[0]!.message, /missing: expected the directory of the static files/);
  assert.match(errors[1]!.message, /"ASSETS" is also bound in vars/);
  assert.match(errors[2]!.message, /expected one of "auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none", found "auto"/);
  assert.match(errors[4]!.message, /expected a path rule starting with "\/"/);
  assert.match(errorsOf(file("wrangler.toml", `name = "x"\nmain = "i.js"\n[assets]\ndirectory = "p"\nrun_worker_first = "yes"\n`).path)[0]!.message, /expected true, false or an array of path rules/);
});
