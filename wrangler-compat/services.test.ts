/** `[[services]]` / `services: [...]`: read as service bindings; entrypoint refused; not inherited by environments. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWranglerConfig, WranglerConfigError } from "./index.ts";

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-wrangler-services-"));
  writeFileSync(join(dir, name), text);
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

test("wrangler.toml [[services]] and wrangler.jsonc services become { binding, service }", () => {
  const toml = file("wrangler.toml", `name = "front"\nmain = "index.js"\n[[services]]\nbinding = "AUTH"\nservice = "auth-worker"\nenvironment = "production"\n[env.staging]\nname = "front-staging"\n`);
  const { config, warnings } = readWranglerConfig(toml);
  assert.deepEqual(config.services, [{ binding: "AUTH", service: "auth-worker" }]);
  assert.match(warnings.find((w) => w.path === "services[0].environment")!.message, /legacy service environments are not supported/);
  const staging = readWranglerConfig(toml, { env: "staging" });
  assert.deepEqual(staging.config.services, [], "bindings are not inherited");
  assert.match(staging.warnings.find((w) => w.path === "env.staging.services")!.message, /not inherited/);

  const jsonc = file("wrangler.jsonc", `{ "name": "front", "main": "index.js", // a comment\n "services": [{ "binding": "AUTH", "service": "auth-worker" },] }`);
  assert.deepEqual(readWranglerConfig(jsonc).config.services, [{ binding: "AUTH", service: "auth-worker" }]);
});

test("bad service bindings are errors naming the path", () => {
  const toml = file(
    "wrangler.toml",
    `name = "front"\nmain = "index.js"\n[vars]\nTAKEN = "x"\n[[services]]\nbinding = "AUTH"\nservice = "auth-worker"\nentrypoint = "Admin"\n[[services]]\nbinding = "TAKEN"\nservice = "Bad Name"\n[[services]]\nservice = "x"\n`,
  );
  let errors: Array<{ path: string; message: string }> = [];
  try {
    readWranglerConfig(toml);
  } catch (err) {
    assert.ok(err instanceof WranglerConfigError);
    errors = err.diagnostics.filter((d) => d.severity === "error");
  }
  const byPath = Object.fromEntries(errors.map((e) => [e.path, e.message]));
  assert.match(byPath["services[0].entrypoint"]!, /no named WorkerEntrypoint, no RPC/);
  assert.match(byPath["services[1].binding"]!, /also bound in vars or kv_namespaces/);
  assert.match(byPath["services[1].service"]!, /expected a Worker name verge can publish/);
  assert.match(byPath["services[2].binding"]!, /missing/);
});
