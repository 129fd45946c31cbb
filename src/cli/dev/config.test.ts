import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../output.ts";
import { parseVarFlag, resolveDevSettings } from "./config.ts";

/** A throwaway Worker project: `files` relative to its root. */
function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const WORKER = "export default { fetch() { return new Response('ok'); } };\n";
const CONFIG = `name = "shop"
main = "src/index.ts"
[vars]
MODE = "prod"
[[kv_namespaces]]
binding = "CART"
id = "cart-id"
[[r2_buckets]]
binding = "IMAGES"
bucket_name = "shop-images"
[env.staging.vars]
MODE = "staging"
`;
const args = { vars: [] as string[], strictLambdaEdge: false };

test("--var takes wrangler's KEY:VALUE and KEY=VALUE, splitting at the first separator after the name", () => {
  assert.deepEqual(parseVarFlag("GIT_HASH:abc123"), ["GIT_HASH", "abc123"]);
  assert.deepEqual(parseVarFlag("URL:http://x.test/?a=b"), ["URL", "http://x.test/?a=b"]);
  assert.deepEqual(parseVarFlag("MODE=a:b"), ["MODE", "a:b"]);
  assert.deepEqual(parseVarFlag("EMPTY:"), ["EMPTY", ""]);
  for (const [flag, found] of [["sk_live_123", /found no ":" or "=" in it/], ["=v", /no name before/], ["1A:topsecret", /found the name "1A"/]] as const) {
    assert.throws(() => parseVarFlag(flag), (err: Error) => err instanceof UsageError && found.test(err.message) && !err.message.includes("topsecret") && !err.message.includes("sk_live_123"));
  }
});

test("an entry on the command line replaces main; the config in the directory still gives name, vars, KV and --env, as wrangler dev <script> does", (t) => {
  const dir = project(t, { "wrangler.toml": CONFIG, "src/index.ts": WORKER, "src/other.ts": WORKER, ".dev.vars": "TOKEN=t\n" });
  const s = resolveDevSettings({ ...args, target: "src/other.ts", vars: ["EXTRA:1"] }, dir);
  assert.equal(s.entry, join(dir, "src/other.ts"));
  assert.equal(s.configPath, join(dir, "wrangler.toml"));
  assert.equal(s.name, "shop");
  assert.deepEqual(s.vars, { MODE: "prod", EXTRA: "1" });
  assert.deepEqual(s.secrets, { TOKEN: "t" });
  assert.deepEqual(s.kv, { CART: "cart-id" });
  assert.deepEqual(s.r2, { IMAGES: "shop-images" });
  assert.ok(s.configFiles.includes(join(dir, "wrangler.toml")), "the config is watched");
  const staging = resolveDevSettings({ ...args, target: "src/other.ts", env: "staging" }, dir);
  assert.equal(staging.entry, join(dir, "src/other.ts"));
  assert.deepEqual(staging.vars, { MODE: "staging" });
  // Without a config, an entry alone still runs, and --env is refused.
  const bare = project(t, { "w.js": WORKER });
  assert.deepEqual(resolveDevSettings({ ...args, target: "w.js" }, bare).vars, {});
  assert.throws(() => resolveDevSettings({ ...args, target: "w.js", env: "staging" }, bare), /--env needs a wrangler\.toml/);
});

test("--config names the wrangler config, as wrangler's -c does", (t) => {
  const dir = project(t, { "conf/wrangler.staging.toml": CONFIG.replace("src/index.ts", "../src/index.ts"), "src/index.ts": WORKER });
  const s = resolveDevSettings({ ...args, target: undefined, config: "conf/wrangler.staging.toml" }, dir);
  assert.equal(s.entry, join(dir, "src/index.ts"));
  assert.equal(s.name, "shop");
  assert.throws(() => resolveDevSettings({ ...args, target: undefined, config: "conf/nope.toml" }, dir), /--config conf\/nope\.toml: no such file/);
  assert.throws(() => resolveDevSettings({ ...args, target: undefined, config: "src/index.ts" }, dir), /--config src\/index\.ts: expected a wrangler\.toml/);
});

test("main that is missing or a directory is refused naming the key, the file and what was expected", (t) => {
  const dir = project(t, { "wrangler.toml": 'name = "x"\nmain = "src/nope.ts"\n[env.a]\n', "src/index.ts": WORKER });
  assert.throws(
    () => resolveDevSettings({ ...args, target: undefined }, dir),
    (err: Error) => err instanceof UsageError && err.message === `wrangler.toml: main = "src/nope.ts": ${join(dir, "src/nope.ts")} does not exist; expected the path of the Worker's entry module, relative to wrangler.toml`,
  );
  writeFileSync(join(dir, "wrangler.toml"), 'name = "x"\nmain = "src"\n[env.a]\n');
  assert.throws(() => resolveDevSettings({ ...args, target: undefined, env: "a" }, dir), /main = "src" \(environment a\): .*src is a directory, not a file/);
  // With build.command, main may be the command's output: checked after the command runs.
  writeFileSync(join(dir, "wrangler.toml"), 'name = "x"\nmain = "dist/worker.js"\n[build]\ncommand = "true"\n');
  assert.equal(resolveDevSettings({ ...args, target: undefined }, dir).entry, join(dir, "dist/worker.js"));
});

test("compatibility_flags: nodejs_compat turns on the bundler's polyfills and says what it covers; other flags are not applied", (t) => {
  const dir = project(t, { "wrangler.toml": 'name = "x"\nmain = "src/index.ts"\ncompatibility_flags = ["nodejs_compat", "url_standard"]\n', "src/index.ts": WORKER });
  const s = resolveDevSettings({ ...args, target: undefined }, dir);
  assert.equal(s.nodeCompat, true);
  assert.ok(
    s.warnings.some((w) => /^wrangler\.toml: compatibility_flags: nodejs_compat is applied in part: imports of node:buffer, .*node:assert, node:crypto, .*node:process, node:async_hooks, node:zlib .*bundled into the function as pure-JS polyfills; other node:\* modules \(node:fs, .*fail to bundle.*; url_standard is read but not applied by verge$/.test(w)),
    s.warnings.join("\n"),
  );
  writeFileSync(join(dir, "wrangler.toml"), 'name = "x"\nmain = "src/index.ts"\ncompatibility_flags = ["nodejs_als"]\n');
  const als = resolveDevSettings({ ...args, target: undefined }, dir);
  assert.equal(als.nodeCompat, false);
  assert.ok(als.warnings.includes("wrangler.toml: compatibility_flags: nodejs_als is read but not applied by verge"), als.warnings.join("\n"));
  writeFileSync(join(dir, "wrangler.toml"), 'name = "x"\nmain = "src/index.ts"\n');
  assert.equal(resolveDevSettings({ ...args, target: undefined }, dir).nodeCompat, false);
  // --node-compat: with the config, or for an entry with no config at all (a Lambda@Edge handler).
  assert.equal(resolveDevSettings({ ...args, target: undefined, nodeCompat: true }, dir).nodeCompat, true);
  rmSync(join(dir, "wrangler.toml"));
  assert.equal(resolveDevSettings({ ...args, target: "src/index.ts", nodeCompat: true }, dir).nodeCompat, true);
  assert.equal(resolveDevSettings({ ...args, target: "src/index.ts" }, dir).nodeCompat, false);
});

test("from a subdirectory of the project, the nearest parent's config is used, as wrangler finds it", (t) => {
  const dir = project(t, { "wrangler.toml": CONFIG, "src/index.ts": WORKER });
  const s = resolveDevSettings({ ...args, target: undefined }, join(dir, "src"));
  assert.equal(s.configPath, join(dir, "wrangler.toml"));
  assert.equal(s.entry, join(dir, "src/index.ts"));
  assert.equal(resolveDevSettings({ ...args, target: "index.ts" }, join(dir, "src")).name, "shop");
});

test("[[services]] in the config: bindings to Workers verge dev runs are kept; a note names the others", (t) => {
  const dir = project(t, { "wrangler.toml": `name = "front"\nmain = "src/index.ts"\n[[services]]\nbinding = "AUTH"\nservice = "auth-worker"\n[[services]]\nbinding = "PAY"\nservice = "payments"\n`, "src/index.ts": WORKER });
  const alone = resolveDevSettings({ ...args, target: undefined }, dir);
  assert.deepEqual(alone.services, {});
  assert.ok(alone.warnings.includes("wrangler.toml: service bindings AUTH -> auth-worker, PAY -> payments not run: verge dev runs the Workers of the configs it is given (verge dev -c wrangler.toml -c <the other Worker's config>), and these are not among them; env.AUTH is undefined there"), alone.warnings.join("\n"));
  const withAuth = resolveDevSettings({ ...args, target: undefined, localWorkers: ["front", "auth-worker"] }, dir);
  assert.deepEqual(withAuth.services, { AUTH: "auth-worker" });
  assert.ok(withAuth.warnings.includes("wrangler.toml: service binding PAY -> payments not run: verge dev runs the Workers of the configs it is given (verge dev -c wrangler.toml -c <the other Worker's config>), and this is not among them; env.PAY is undefined there"), withAuth.warnings.join("\n"));
});
