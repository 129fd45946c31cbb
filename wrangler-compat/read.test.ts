/** The reader on real files in a temp dir: TOML and JSONC, env rules, secrets files, every diagnostic kind. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWranglerConfig, WranglerConfigError, type WranglerDiagnostic } from "./index.ts";
import { hasCode, isUserError } from "../src/shared/errors.ts";

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-wrangler-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The diagnostics of a config that fails, as "path: message" strings. */
function errorsOf(file: string, env?: string): WranglerDiagnostic[] {
  try {
    readWranglerConfig(file, { env });
  } catch (err) {
    assert.ok(err instanceof WranglerConfigError);
    assert.ok(hasCode(err, "ERR_WRANGLER_CONFIG") && isUserError(err.code));
    return err.diagnostics.filter((d) => d.severity === "error");
  }
  assert.fail("expected a WranglerConfigError");
}

const TOML = `
name = "shop-api"
main = "src/index.ts"
compatibility_date = "2024-09-23"
compatibility_flags = ["nodejs_compat"]
routes = ["shop.example.com/api/*", { pattern = "*.example.net/*", zone_name = "example.net" }, { pattern = "api.example.org", custom_domain = true }]

[vars]
GREETING = "hello"
FEATURES = { beta = true, max = 3 }
LIST = [1, "two"]

[[kv_namespaces]]
binding = "CACHE"
id = "abc123"
preview_id = "def456"

[triggers]
crons = ["*/15 * * * *", "0 9 * * MON-FRI"]

[limits]
cpu_ms = 200

[build]
command = "npm run build"
cwd = "app"
`;

test("wrangler.toml: every supported key, normalized; main and build.cwd resolve against the config's directory", () => {
  const dir = dirWith({ "wrangler.toml": TOML });
  const { config, warnings } = readWranglerConfig(join(dir, "wrangler.toml"));
  assert.deepEqual(warnings, []);
  assert.equal(config.name, "shop-api");
  assert.equal(config.env, null);
  assert.equal(config.main, join(dir, "src/index.ts"));
  assert.equal(config.compatibilityDate, "2024-09-23");
  assert.deepEqual(config.compatibilityFlags, ["nodejs_compat"]);
  assert.deepEqual(config.vars, { GREETING: "hello", FEATURES: { beta: true, max: 3 }, LIST: [1, "two"] });
  assert.deepEqual(config.kvNamespaces, [{ binding: "CACHE", id: "abc123", previewId: "def456" }]);
  assert.deepEqual(config.routes, [
    { pattern: "shop.example.com/api/*", hostname: "shop.example.com", path: "/api/*", customDomain: false },
    { pattern: "*.example.net/*", hostname: "*.example.net", path: "/*", zoneName: "example.net", customDomain: false },
    { pattern: "api.example.org", hostname: "api.example.org", path: null, customDomain: true },
  ]);
  assert.deepEqual(config.crons, ["*/15 * * * *", "0 9 * * MON-FRI"]);
  assert.deepEqual(config.limits, { cpuMs: 200 });
  // watch_dir defaults to ./src beside the config (Wrangler's default), whatever build.cwd says.
  assert.deepEqual(config.build, { command: "npm run build", cwd: join(dir, "app"), watchDir: [join(dir, "src")] });
  assert.deepEqual(config.secrets, {});
});

test("wrangler.jsonc: comments and trailing commas; `route` (one) is read as routes", () => {
  const dir = dirWith({
    "wrangler.jsonc": `{
      // the Worker
      "$schema": "node_modules/wrangler/config-schema.json",
      "name": "edge-auth", /* block comment */
      "main": "./worker.js",
      "route": { "pattern": "auth.example.com/*", "zone_id": "z1", },
      "vars": { "MODE": "strict", "RETRIES": 2, },
      "triggers": { "crons": ["0 0 * * *",], },
    }`,
  });
  const { config, warnings } = readWranglerConfig(join(dir, "wrangler.jsonc"));
  assert.deepEqual(warnings, []);
  assert.equal(config.name, "edge-auth");
  assert.equal(config.main, join(dir, "worker.js"));
  assert.deepEqual(config.routes, [{ pattern: "auth.example.com/*", hostname: "auth.example.com", path: "/*", zoneId: "z1", customDomain: false }]);
  assert.deepEqual(config.vars, { MODE: "strict", RETRIES: 2 });
  assert.deepEqual(config.crons, ["0 0 * * *"]);
});

test("[env.<name>]: inheritable keys inherited, <name>-<env> naming, bindings not inherited (with Wrangler's warning)", () => {
  const dir = dirWith({
    "wrangler.toml": `${TOML}
[env.staging]
routes = ["staging.example.com/*"]
[env.staging.limits]
cpu_ms = 50

[env.production]
name = "shop-api-prod"
main = "src/prod.ts"
vars = { GREETING = "hi" }
kv_namespaces = [{ binding = "CACHE", id = "prod-id" }]
`,
  });
  const staging = readWranglerConfig(join(dir, "wrangler.toml"), { env: "staging" });
  assert.equal(staging.config.env, "staging");
  assert.equal(staging.config.name, "shop-api-staging");
  assert.equal(staging.config.main, join(dir, "src/index.ts"), "main inherited");
  assert.equal(staging.config.compatibilityDate, "2024-09-23", "compatibility_date inherited");
  assert.deepEqual(staging.config.compatibilityFlags, ["nodejs_compat"]);
  assert.deepEqual(staging.config.crons, ["*/15 * * * *", "0 9 * * MON-FRI"], "triggers inherited");
  assert.equal(staging.config.build.command, "npm run build", "build inherited");
  assert.deepEqual(staging.config.routes.map((r) => r.pattern), ["staging.example.com/*"], "the env's own routes replace the top level's");
  assert.deepEqual(staging.config.limits, { cpuMs: 50 });
  assert.deepEqual(staging.config.vars, {}, "vars are not inherited");
  assert.deepEqual(staging.config.kvNamespaces, [], "kv_namespaces are not inherited");
  assert.deepEqual(staging.warnings.map((w) => w.path), ["env.staging.vars", "env.staging.kv_namespaces"]);
  assert.match(staging.warnings[0]!.message, /not inherited/);

  const prod = readWranglerConfig(join(dir, "wrangler.toml"), { env: "production" });
  assert.equal(prod.config.name, "shop-api-prod", "an env's own name is kept as is");
  assert.equal(prod.config.main, join(dir, "src/prod.ts"));
  assert.deepEqual(prod.config.vars, { GREETING: "hi" });
  assert.deepEqual(prod.config.kvNamespaces, [{ binding: "CACHE", id: "prod-id" }]);
  assert.equal(prod.config.routes.length, 3, "routes inherited");
  assert.deepEqual(prod.warnings, []);

  const missing = errorsOf(join(dir, "wrangler.toml"), "qa");
  assert.deepEqual(missing.map((d) => d.path), ["env.qa"]);
  assert.match(missing[0]!.message, /no environment "qa".*"staging", "production"/);
});

test("secrets: .dev.vars.<env> over .dev.vars; .env files only without .dev.vars; dotenv syntax", () => {
  const config = 'name = "w"\n[vars]\nTOKEN = "public"\n[env.staging]\nvars = { TOKEN = "public" }\n';
  const a = dirWith({ "wrangler.toml": config, ".dev.vars": "# local\nexport TOKEN=dev\nQUOTED=\"a b\\nc\"\n", ".dev.vars.staging": "TOKEN='staging value'\n", ".env": "IGNORED=1\n" });
  const top = readWranglerConfig(join(a, "wrangler.toml"));
  assert.deepEqual(top.config.secrets, { TOKEN: "dev", QUOTED: "a b\nc" });
  assert.deepEqual(top.config.secretsFiles, [join(a, ".dev.vars")]);
  assert.deepEqual(top.warnings.map((w) => w.path), ["vars.TOKEN"], "a secret shadowing a var is a warning");
  assert.equal(top.warnings[0]!.message, "also set in .dev.vars; the secret wins", "never a value in a message");
  const staging = readWranglerConfig(join(a, "wrangler.toml"), { env: "staging" });
  assert.deepEqual(staging.config.secrets, { TOKEN: "staging value" });
  assert.deepEqual(staging.warnings.map((w) => w.path), ["env.staging.vars.TOKEN"]);

  const b = dirWith({ "wrangler.toml": 'name = "w"\n[env.staging]\n', ".env": "A=1\nB=2\n", ".env.local": "B=local\n", ".env.staging": "A=staging # comment\n" });
  assert.deepEqual(readWranglerConfig(join(b, "wrangler.toml")).config.secrets, { A: "1", B: "local" });
  const s = readWranglerConfig(join(b, "wrangler.toml"), { env: "staging" }).config;
  assert.deepEqual(s.secrets, { A: "staging", B: "local" });
  assert.deepEqual(s.secretsFiles, [join(b, ".env"), join(b, ".env.local"), join(b, ".env.staging")]);

  const c = dirWith({ "wrangler.toml": 'name = "w"\n' });
  assert.deepEqual(readWranglerConfig(join(c, "wrangler.toml")).config, { ...readWranglerConfig(join(c, "wrangler.toml")).config, secrets: {}, secretsFiles: [] });
});

test("unsupported and unknown keys are warnings naming the key path; the config still reads", () => {
  const dir = dirWith({
    "wrangler.toml": `name = "w"
account_id = "123"
colour = "blue"
[limits]
cpu_ms = 10
subrequests = 5
[[kv_namespaces]]
binding = "K"
idd = "x"
[triggers]
crons = []
schedule = "x"
[env.staging]
queues = {}
keep_vars = true
routes = [{ pattern = "a.example.com/*", zone = "x" }]
`,
  });
  const { config, warnings } = readWranglerConfig(join(dir, "wrangler.toml"), { env: "staging" });
  assert.equal(config.name, "w-staging");
  const byPath = Object.fromEntries(warnings.map((w) => [w.path, w.message]));
  assert.match(byPath["account_id"]!, /not supported by verge yet/);
  assert.match(byPath["colour"]!, /unknown key/);
  assert.match(byPath["limits.subrequests"]!, /not supported/);
  assert.match(byPath["kv_namespaces[0].idd"]!, /unknown KV namespace key/);
  assert.match(byPath["triggers.schedule"]!, /unknown trigger key/);
  assert.match(byPath["env.staging.queues"]!, /not supported by verge yet/);
  assert.match(byPath["env.staging.keep_vars"]!, /top-level setting/);
  assert.match(byPath["env.staging.routes[0].zone"]!, /unknown route key/);
  assert.match(byPath["env.staging.kv_namespaces"]!, /not inherited/);
});

test("every error at once, each naming the field path, the value found and what was expected", () => {
  const dir = dirWith({
    "wrangler.toml": `name = "My Worker"
main = 42
compatibility_date = "2024-02-30"
compatibility_flags = ["ok", 7]
routes = ["example.com/a*b", "bad host/*", { zone_name = "x" }, "q.example.com/p?x=1", { pattern = "*.example.com", custom_domain = true }, { pattern = "c.example.com/x", custom_domain = "yes" }]
[vars]
WHEN = 2024-01-01
NAN = nan
[[kv_namespaces]]
id = "x"
[[kv_namespaces]]
binding = "not-an-identifier"
[triggers]
crons = ["* * * *", "0 25 * * *", 5]
[limits]
cpu_ms = 0
[build]
command = ["npm", "run"]
`,
  });
  const errors = errorsOf(join(dir, "wrangler.toml"));
  const byPath = errors.map((e) => `${e.path}: ${e.message}`);
  const expect: Array<[string, RegExp]> = [
    ["name", /expected lowercase letters.*found "My Worker"/],
    ["main", /expected the path of the Worker's entry module, found number 42/],
    ["compatibility_date", /expected a date "YYYY-MM-DD", found "2024-02-30"/],
    ["compatibility_flags[1]", /expected a string, found number 7/],
    ["vars.WHEN", /expected a string or a JSON value, found a date/],
    ["vars.NAN", /expected a string or a JSON value, found a number JSON cannot hold/],
    ["kv_namespaces[0].binding", /missing/],
    ["kv_namespaces[1].binding", /expected a JavaScript identifier, found "not-an-identifier"/],
    ["routes[0]", /wildcard is allowed only at the end of the path, found "example.com\/a\*b"/],
    ["routes[1]", /expected a hostname .* found "bad host\/\*"/],
    ["routes[2].pattern", /missing/],
    ["routes[3]", /cannot contain a query string/],
    ["routes[4].pattern", /custom domain cannot contain a wildcard/],
    ["routes[5].custom_domain", /expected true or false, found "yes"/],
    ["triggers.crons[0]", /invalid cron expression "\* \* \* \*": expected 5 fields/],
    ["triggers.crons[1]", /"0 25 \* \* \*": hour: 25 is out of range, expected 0–23/],
    ["triggers.crons[2]", /expected a string, found number 5/],
    ["limits.cpu_ms", /expected a whole number of milliseconds from 1 to 300000, found number 0/],
    ["build.command", /expected a shell command, found an array of 2/],
  ];
  for (const [path, re] of expect) assert.ok(byPath.some((line) => line.startsWith(`${path}: `) && re.test(line)), `${path} ${re} in\n${byPath.join("\n")}`);
  assert.equal(errors.length, expect.length, byPath.join("\n"));
  try {
    readWranglerConfig(join(dir, "wrangler.toml"));
  } catch (err) {
    assert.match((err as Error).message, new RegExp(`^wrangler.toml has ${expect.length} errors:\\n  - name: `));
  }
});

test("more errors: both route and routes; an env name that makes an invalid Worker name; a var name also bound to KV", () => {
  const dir = dirWith({
    "wrangler.toml": `name = "${"a".repeat(60)}"\nroute = "a.example.com/*"\nroutes = []\n[vars]\nK = "x"\n[[kv_namespaces]]\nbinding = "K"\n[env.long]\n`,
  });
  const paths = errorsOf(join(dir, "wrangler.toml"), "long").map((e) => `${e.path}: ${e.message}`);
  assert.equal(paths.length, 3, paths.join("\n"));
  assert.match(paths[0]!, /^kv_namespaces\[0\]\.binding: "K" is also a name in vars/);
  assert.match(paths[1]!, /^route: expected either route or routes, not both/);
  assert.match(paths[2]!, /^name: the environment's Worker name "a{60}-long" \(<name>-<env>\) is not valid/);
});

test("syntax errors: TOML and JSONC with line and column; a wrong file type; a missing file", () => {
  const dir = dirWith({ "wrangler.toml": 'name = "w"\nmain = \n', "wrangler.jsonc": '{\n  "name": "w"\n  "main": "x.js",\n}', "wrangler.yaml": "name: w", "top.json": "[1]" });
  const toml = errorsOf(join(dir, "wrangler.toml"));
  assert.equal(toml.length, 1);
  assert.match(toml[0]!.message, /invalid TOML at line 2, column \d+/);
  const jsonc = errorsOf(join(dir, "wrangler.jsonc"));
  assert.match(jsonc[0]!.message, /invalid JSON at line 3, column 3: expected ","/);
  assert.match(errorsOf(join(dir, "wrangler.yaml"))[0]!.message, /expected a wrangler.toml, wrangler.json or wrangler.jsonc file, found "wrangler.yaml"/);
  assert.match(errorsOf(join(dir, "missing.toml"))[0]!.message, /cannot read .*missing.toml: ENOENT/);
  assert.match(errorsOf(join(dir, "top.json"))[0]!.message, /expected a table .* found an array of 1/);
});

test("an unquoted TOML date for compatibility_date is accepted with a warning", () => {
  const dir = dirWith({ "wrangler.toml": "name = \"w\"\ncompatibility_date = 2024-05-01\n" });
  const { config, warnings } = readWranglerConfig(join(dir, "wrangler.toml"));
  assert.equal(config.compatibilityDate, "2024-05-01");
  assert.deepEqual(warnings.map((w) => w.path), ["compatibility_date"]);
});

test("Wrangler's rules the corpus found missing: route = \"\" is absent, migrations may sit in an environment, watch_dir defaults to ./src with a command only", () => {
  const dir = dirWith({
    "wrangler.toml": `name = "w"
routes = ["w.example.com/*"]
[build]
cwd = "app"
[env.staging]
route = ""
migrations = [{ tag = "v1" }]
[env.staging.build]
command = "make"
`,
  });
  const top = readWranglerConfig(join(dir, "wrangler.toml"));
  assert.deepEqual(top.config.build, { cwd: join(dir, "app"), watchDir: [] }, "no command: nothing to watch");
  const staging = readWranglerConfig(join(dir, "wrangler.toml"), { env: "staging" });
  assert.deepEqual(staging.config.routes.map((r) => r.pattern), ["w.example.com/*"], "an empty route is absent, so the top level's routes are inherited");
  assert.deepEqual(staging.config.build, { command: "make", cwd: dir, watchDir: [join(dir, "src")] });
  assert.deepEqual(staging.warnings, [
    { severity: "warning", path: "env.staging.migrations", message: "not supported by verge yet; ignored" },
    { severity: "warning", path: "env.staging.route", message: "an empty string (Wrangler 1's placeholder for no route); ignored" },
  ]);
});

test("rules: read from JSONC, inherited by an environment unless it sets its own; Wrangler's shadowing warnings; errors name the field, the value and what was expected", () => {
  const dir = dirWith({
    "wrangler.jsonc": `{
  "name": "w",
  // Markdown as text, beside the default rules
  "rules": [{ "type": "Text", "globs": ["**/*.md"], "fallthrough": true }, { "type": "ESModule", "globs": ["**/*.mjs"] }],
  "env": {
    "staging": {},
    "legacy": {
      "rules": [
        { "type": "Data", "globs": ["**/*.dat"] },
        { "type": "Data", "globs": ["**/*.raw"] },
        { "type": "CompiledWasm", "globs": ["**/*.wasm"], "fallthrough": false },
        { "type": "CompiledWasm", "globs": ["**/*.wasm2"] },
      ],
    },
    "broken": { "rules": { "type": "Text", "globs": ["**/*.md"] } },
  },
}
`,
  });
  const file = join(dir, "wrangler.jsonc");
  const top = readWranglerConfig(file);
  assert.deepEqual(top.config.rules, [{ type: "Text", globs: ["**/*.md"], fallthrough: true }, { type: "ESModule", globs: ["**/*.mjs"] }]);
  assert.deepEqual(top.warnings, [], "fallthrough = true keeps the default Text rule; a JavaScript rule has no default to replace");
  assert.deepEqual(readWranglerConfig(file, { env: "staging" }).config.rules, top.config.rules, "inherited");
  const legacy = readWranglerConfig(file, { env: "legacy" });
  assert.deepEqual(legacy.config.rules.map((r) => r.globs[0]), ["**/*.dat", "**/*.raw", "**/*.wasm", "**/*.wasm2"], "every valid rule is kept; the bundler drops the shadowed ones");
  assert.deepEqual(legacy.warnings, [
    { severity: "warning", path: "env.legacy.rules[0]", message: "replaces Wrangler's default Data rule (**/*.bin): importing such a file is then a build error, as in Wrangler; add fallthrough = true to keep the default (or fallthrough = false to silence this)" },
    { severity: "warning", path: "env.legacy.rules[1]", message: "never used: env.legacy.rules[0] is a Data rule before it without fallthrough = true; add fallthrough = true there to use both (or fallthrough = false to silence this)" },
  ], "fallthrough = false silences both warnings for CompiledWasm");
  assert.deepEqual(errorsOf(file, "broken"), [
    { severity: "error", path: "env.broken.rules", message: "expected an array of { type, globs, fallthrough } tables ([[rules]] in TOML), found a table" },
  ]);
});

test("[[d1_databases]] are read (binding, database_name, database_id, migrations_dir), never inherited, and checked", () => {
  const d1 = '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "prod-db"\ndatabase_id = "0f2ac74b-498b-4d93-9e84-61b3c0a4f1d7"\nmigrations_dir = "db/migrations"\n';
  const dir = dirWith({
    "wrangler.toml": `name = "app"\nmain = "index.js"\n${d1}\n[env.staging]\nname = "app-staging"\n`,
    "twice.toml": `name = "app"\nmain = "index.js"\n${d1}[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\n[vars]\nDB2 = "v"\n[[d1_databases]]\nbinding = "DB2"\n`,
  });
  const top = readWranglerConfig(join(dir, "wrangler.toml"));
  assert.deepEqual(top.config.d1Databases, [{ binding: "DB", databaseName: "prod-db", databaseId: "0f2ac74b-498b-4d93-9e84-61b3c0a4f1d7", migrationsDir: "db/migrations" }]);
  assert.ok(!top.warnings.some((d) => d.path.startsWith("d1_databases")), "no longer an ignored key");
  assert.equal(readWranglerConfig(join(dir, "wrangler.toml"), { env: "staging" }).config.d1Databases, undefined, "d1_databases are not inherited");
  assert.deepEqual(errorsOf(join(dir, "twice.toml")).map((d) => `${d.path}: ${d.message}`), [
    'd1_databases[1].binding: "DB" is bound twice',
    'd1_databases[2].binding: "DB2" is also bound in vars, kv_namespaces or services; a name is bound once',
  ]);
});
