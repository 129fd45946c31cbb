/**
 * `verge publish --config` end to end: a real registry on port 0, the `verge`
 * command as a child process, a Worker project with a wrangler.toml in a temp dir.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";
import { Verge } from "../../src/index.ts";

const MAIN = resolve(fileURLToPath(import.meta.url), "../../../src/cli/main.ts");
const root = mkdtempSync(join(tmpdir(), "verge-publish-config-"));
let origin: TestOrigin;
let env: NodeJS.ProcessEnv;
let token: string;

test.before(async () => {
  origin = await startTestOrigin();
  token = await origin.tenant("acme", ["read", "publish", "deploy", "admin"]);
  env = { ...process.env, VERGE_ORIGIN: origin.url, VERGE_TOKEN: token };
  const NONE = { behavior: "none", items: [] };
  const site = await origin.call("PUT", "/v1/tenants/acme/distributions/site", {
    token,
    json: {
      hostnames: ["www.example.com"],
      origins: [{ id: "web", url: "http://127.0.0.1:9", connectTimeoutMs: 1000, readTimeoutMs: 1000, customHeaders: {} }],
      defaultBehavior: { originId: "web", cacheKey: { queryStrings: NONE, headers: NONE, cookies: NONE }, ttl: { min: 0, default: 60, max: 300 }, functions: {} },
    },
  });
  assert.equal(site.status, 201, JSON.stringify(site.body));
});
test.after(async () => {
  await origin.close();
  rmSync(root, { recursive: true, force: true });
});

function verge(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, ...args], { env, cwd }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

/** A Worker project: src/index.ts imports src/gen.ts, which build.command writes. */
function project(name: string, toml: string, files: Record<string, string> = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "src/index.ts"), `import { built } from "./gen.ts";\nexport default { fetch(req: Request, env: Record<string, string>): Response { return new Response(\`\${built} \${env.GREETING}\`); } };\n`);
  writeFileSync(join(dir, "wrangler.toml"), toml);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const SHOP = `name = "shop"
main = "src/index.ts"
compatibility_date = "2024-09-23"
routes = ["shop.example.com/api/*", { pattern = "shop.example.com/*", zone_name = "example.com" }]

[vars]
GREETING = "hi"
FEATURES = { beta = true }

[triggers]
crons = ["0 * * * *"]

[limits]
cpu_ms = 120

[build]
command = "echo 'export const built = \\"generated\\";' > src/gen.ts"

[env.staging]
vars = { GREETING = "staging" }
`;

const get = async (path: string) => (await origin.call("GET", `/v1/tenants/acme${path}`, { token })).body;

test("publish --config --distribution: builds, sets vars and cpu_ms, moves the alias, maps routes onto the distribution; again is idempotent", async () => {
  const dir = project("shop", SHOP, { ".dev.vars": "API_KEY=local-only\n" });
  const r = await verge(dir, "publish", "--config", "wrangler.toml", "--distribution", "site", "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.version.function, "shop");
  assert.equal(out.version.dialect, "workers-module");
  assert.deepEqual({ env: out.version.config.env, cpuMs: out.version.config.cpuMs }, { env: { GREETING: "hi", FEATURES: '{"beta":true}' }, cpuMs: 120 }, "the version snapshots the config");
  assert.match(r.stderr, /running build.command/);
  assert.doesNotMatch(r.stderr, /triggers\.crons/, "crons are published, not warned about");
  assert.match(r.stderr, /warning: vars FEATURES: JSON values are published as their JSON text/);
  assert.match(r.stderr, /warning: \.dev\.vars: local development secrets, not uploaded/);
  assert.doesNotMatch(r.stderr + r.stdout, /local-only/);

  const fn = await get("/functions/shop");
  assert.deepEqual(fn.config.secrets, []);
  assert.equal(fn.config.cpuMs, 120);
  assert.deepEqual(fn.config.crons, ["0 * * * *"], "triggers.crons become the function's crons");
  const bundle = await origin.call("GET", `/v1/tenants/acme/functions/shop/versions/${out.version.digest}/bundle`, { token });
  assert.match(String(bundle.body), /generated/, "build.command ran before the bundle");

  const alias = await get("/functions/shop/aliases/live");
  assert.deepEqual(alias.routes, [{ version: out.version.digest, weight: 1 }]);
  const site = await get("/distributions/site");
  assert.deepEqual(site.hostnames, ["www.example.com", "shop.example.com"]);
  const live = { function: "shop", alias: "live", includeBody: false };
  assert.deepEqual(site.behaviors.map((b: { pathPattern: string; functions: unknown }) => [b.pathPattern, b.functions]), [["/api/*", { "viewer-request": live }]]);
  assert.deepEqual(site.defaultBehavior.functions, { "viewer-request": live });
  assert.equal(out.distribution.name, "site");

  const again = await verge(dir, "publish", "--config", "wrangler.toml", "--distribution", "site");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^already published acme\/shop version [0-9a-f]{64}/);
  assert.match(again.stdout, /alias shop\/live -> [0-9a-f]{12}… \(revision 1\)/);
  assert.match(again.stdout, /distribution acme\/site: unchanged/);
  assert.doesNotMatch(again.stderr, /was published before with/, "the same settings: nothing to say");

  // Only cpu_ms changed: the existing version keeps 120, and the CLI says so (the function's config has 200).
  writeFileSync(join(dir, "wrangler.toml"), readFileSync(join(dir, "wrangler.toml"), "utf8").replace("cpu_ms = 120", "cpu_ms = 200"));
  const limits = await verge(dir, "publish", "--config", "wrangler.toml");
  assert.equal(limits.code, 0, limits.stderr);
  assert.match(limits.stderr, /warning: version [0-9a-f]{12}… was published before with cpuMs 120 \(now 200\); a version keeps the settings it was published with/);
  assert.equal((await get("/functions/shop")).config.cpuMs, 200);
});

test("publish <dir>/wrangler.toml --env staging (a config as the entry): <name>-<env>, the env's vars, inherited limits; routes without --distribution are a warning", async () => {
  const dir = project("shop-staging", SHOP);
  const r = await verge(dir, "publish", join(dir, "wrangler.toml"), "--env", "staging", "--alias", "stable");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /published acme\/shop-staging version/);
  assert.match(r.stderr, /routes \(shop\.example\.com\/api\/\*, shop\.example\.com\/\*\) not attached: pass --distribution <name>/);
  const fn = await get("/functions/shop-staging");
  assert.deepEqual(fn.config.env, { GREETING: "staging" });
  assert.equal(fn.config.cpuMs, 120);
  assert.equal((await get("/functions/shop-staging/aliases/stable")).revision, 1);
});

test("kv_namespaces become the function's kvNamespaces: the id names the namespace, else the binding in lowercase", async () => {
  const dir = project("kv", `name = "kv-worker"\nmain = "src/index.ts"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "0f2ac74b498b48028cb68387c421e279"\n[[kv_namespaces]]\nbinding = "SESSIONS"\n`, { "src/gen.ts": 'export const built = "kv";\n' });
  const r = await verge(dir, "publish", "--config", "wrangler.toml");
  assert.equal(r.code, 0, r.stderr);
  const fn = (await origin.call("GET", "/v1/tenants/acme/functions/kv-worker", { token })).body;
  assert.deepEqual(fn.config.kvNamespaces, { CACHE: "0f2ac74b498b48028cb68387c421e279", SESSIONS: "sessions" });
});

test("r2_buckets become the function's r2Buckets (binding -> bucket_name), kept by the version", async () => {
  const dir = project("r2", `name = "r2-worker"\nmain = "src/index.ts"\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "team-files"\n`, { "src/gen.ts": 'export const built = "r2";\n' });
  const r = await verge(dir, "publish", "--config", "wrangler.toml", "--json");
  assert.equal(r.code, 0, r.stderr);
  const fn = (await origin.call("GET", "/v1/tenants/acme/functions/r2-worker", { token })).body;
  assert.deepEqual(fn.config.r2Buckets, { FILES: "team-files" });
  const digest = JSON.parse(r.stdout).version.digest;
  const version = (await origin.call("GET", `/v1/tenants/acme/functions/r2-worker/versions/${digest}`, { token })).body;
  assert.deepEqual(version.config.r2Buckets, { FILES: "team-files" });
});

test("d1_databases become the function's d1Databases: database_name names the database, else database_id, else the binding in lowercase; a name verge cannot take is refused", async () => {
  const dir = project("d1", `name = "d1-worker"\nmain = "src/index.ts"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "prod-db"\ndatabase_id = "0f2ac74b-498b-4d93-9e84-61b3c0a4f1d7"\n[[d1_databases]]\nbinding = "ARCHIVE"\ndatabase_id = "5a2e7d3f-9b4c-4d6e-8f1a-2b3c4d5e6f7a"\n[[d1_databases]]\nbinding = "LOGS"\n`, { "src/gen.ts": 'export const built = "d1";\n' });
  const r = await verge(dir, "publish", "--config", "wrangler.toml");
  assert.equal(r.code, 0, r.stderr);
  const fn = (await origin.call("GET", "/v1/tenants/acme/functions/d1-worker", { token })).body;
  assert.deepEqual(fn.config.d1Databases, { DB: "prod-db", ARCHIVE: "5a2e7d3f-9b4c-4d6e-8f1a-2b3c4d5e6f7a", LOGS: "logs" });
  const bad = project("d1-bad", `name = "d1-bad"\nmain = "src/index.ts"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "Prod DB"\n`);
  const refused = await verge(bad, "publish", "--config", "wrangler.toml");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /d1_databases\[0\]\.database_name: "Prod DB" cannot name a verge D1 database/);
});

test("module rules: the published bundle holds the .html and .wasm imports and a [[rules]] **/*.md import; a rule that drops the default is a build error and publishes nothing", async (t) => {
  const dir = join(root, "rules");
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "src/index.ts"), `import page from "./page.html";\nimport notes from "../NOTES.md";\nimport add from "./add.wasm";\nconst { exports } = new WebAssembly.Instance(add, {});\nexport default { fetch: () => new Response(page + notes + (exports.add as (a: number, b: number) => number)(20, 22)) };\n`);
  writeFileSync(join(dir, "src/page.html"), "<h1>rules</h1>");
  writeFileSync(join(dir, "NOTES.md"), "*notes*");
  // add(a: i32, b: i32) -> i32
  writeFileSync(join(dir, "src/add.wasm"), Buffer.from("0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b", "hex"));
  writeFileSync(join(dir, "wrangler.toml"), `name = "rules"\nmain = "src/index.ts"\n[[rules]]\ntype = "Text"\nglobs = ["**/*.md"]\nfallthrough = true\n`);
  const r = await verge(dir, "publish", "--config", "wrangler.toml", "--json");
  assert.equal(r.code, 0, r.stderr);
  const digest = JSON.parse(r.stdout).version.digest;
  const bundle = await origin.call("GET", `/v1/tenants/acme/functions/rules/versions/${digest}/bundle`, { token });
  const worker = new Verge({ modules: true, script: String(bundle.body) });
  t.after(() => worker.dispose());
  assert.equal(await (await worker.dispatchFetch("http://localhost/")).text(), "<h1>rules</h1>*notes*42");

  writeFileSync(join(dir, "wrangler.toml"), `name = "rules-dropped"\nmain = "src/index.ts"\n[[rules]]\ntype = "Text"\nglobs = ["**/*.md"]\n`);
  const dropped = await verge(dir, "publish", "--config", "wrangler.toml");
  assert.equal(dropped.code, 1, dropped.stderr);
  assert.match(dropped.stderr, /warning: wrangler\.toml: rules\[0\]: replaces Wrangler's default Text rule/);
  assert.match(dropped.stderr, /ERR_BUILD_FAILED[\s\S]*\.\/page\.html matches the module rule \{"type":"Text"[\s\S]*fallthrough = true/);
  assert.equal((await origin.call("GET", "/v1/tenants/acme/functions/rules-dropped", { token })).status, 404, "nothing published");
});

test("refusals: invalid configs (every error), a failing build.command, a missing distribution; usage errors exit 2; nothing is stored", async () => {
  const kv = project("kv-bad", `name = "kv-bad"\nmain = "src/index.ts"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "Not.Valid"\n`);
  const r1 = await verge(kv, "publish", "--config", "wrangler.toml");
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /wrangler.toml has 1 error:[\s\S]*kv_namespaces\[0\]\.id: "Not.Valid" cannot name a verge KV namespace/);
  assert.doesNotMatch(r1.stderr, /looks like a bug/);

  const bad = project("bad", `name = "Bad Name"\nmain = "src/index.ts"\n[limits]\ncpu_ms = -5\n[triggers]\ncrons = ["99 * * * *"]\n`);
  const r2 = await verge(bad, "publish", "--config", "wrangler.toml");
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /ERR_WRANGLER_CONFIG: wrangler.toml has 3 errors:/);
  assert.match(r2.stderr, /  - name: expected lowercase letters.*found "Bad Name"/);
  assert.match(r2.stderr, /  - triggers.crons\[0\]: invalid cron expression "99 \* \* \* \*": minute: 99 is out of range/);
  assert.match(r2.stderr, /  - limits.cpu_ms: expected a whole number .* found number -5/);

  // What the registry would refuse in the function's config, reported at the file's paths before building: env.<name>. for bindings.
  const refused = project("refused", `name = "refused"\nmain = "src/index.ts"\n[build]\ncommand = "echo built > ran.txt"\n[env.staging.vars]\n"API-URL" = "x"\nBIG = "${"v".repeat(5121)}"\n[[env.staging.kv_namespaces]]\nbinding = "K$"\nid = "ns"\n`);
  const r5 = await verge(refused, "publish", "--config", "wrangler.toml", "--env", "staging");
  assert.equal(r5.code, 1, r5.stderr);
  assert.match(r5.stderr, /wrangler.toml has 3 errors:\n  - env.staging.vars.API-URL: verge cannot publish this name: expected a letter or _ then letters, digits or _ \(at most 128\)\n  - env.staging.vars.BIG: expected at most 5120 bytes, found 5121\n  - env.staging.kv_namespaces\[0\].binding: verge cannot publish this binding name/);
  assert.doesNotMatch(r5.stderr, /vvvvv/, "never a value");
  assert.equal(existsSync(join(refused, "ran.txt")), false, "refused before build.command");

  const failing = project("failing", `name = "failing"\nmain = "src/index.ts"\n[build]\ncommand = "exit 3"\n`);
  const r3 = await verge(failing, "publish", "--config", "wrangler.toml");
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /ERR_BUILD_FAILED: build.command "exit 3" .* exited with code 3/);

  const nodist = project("nodist", SHOP);
  const r4 = await verge(nodist, "publish", "--config", "wrangler.toml", "--name", "nodist", "--distribution", "nowhere");
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /distribution "nowhere" not found in tenant "acme": create it with `verge deploy <file>` first/);

  for (const name of ["kv-bad", "refused", "refused-staging", "failing", "nodist"]) assert.equal((await origin.call("GET", `/v1/tenants/acme/functions/${name}`, { token })).status, 404, name);

  assert.equal((await verge(kv, "publish", "src/index.ts", "--config", "wrangler.toml")).code, 2);
  assert.equal((await verge(kv, "publish", "src/index.ts", "--name", "x", "--env", "staging")).code, 2);
  const help = await verge(kv, "publish", "--help");
  assert.match(help.stdout, /--config <file>/);
});

test("a refused version changes nothing: the function's vars and crons stay as they were, a new function is not created", async () => {
  const toml = (greeting: string, cron: string, main: string) => `name = "steady"\nmain = "${main}"\n[vars]\nGREETING = "${greeting}"\n[triggers]\ncrons = ["${cron}"]\n`;
  const dir = project("steady", toml("one", "*/5 * * * *", "src/index.ts"), { "src/gen.ts": 'export const built = "steady";\n', "src/nohandler.ts": "export const x = 1;\n" });
  assert.equal((await verge(dir, "publish", "--config", "wrangler.toml")).code, 0);
  const before = await get("/functions/steady");

  // Caught before anything is written: the bundle exports no handler.
  writeFileSync(join(dir, "wrangler.toml"), toml("two", "*/7 * * * *", "src/nohandler.ts"));
  const noHandler = await verge(dir, "publish", "--config", "wrangler.toml");
  assert.equal(noHandler.code, 1, noHandler.stderr);
  assert.match(noHandler.stderr, /ERR_NO_HANDLER/);
  assert.deepEqual(await get("/functions/steady"), before, "vars and crons unchanged");

  // Refused by the registry after the config was written (the tenant enforces signing): the config is put back.
  const pub = await origin.call("POST", "/v1/tenants/acme/signing/keys", { token, json: { publicKey: "ayNPcuc40uxnEDajz9NeTXsT11l-rHylNXO-2GKr4MQ" } });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));
  assert.equal((await origin.call("PUT", "/v1/tenants/acme/signing/policy", { token, json: { policy: "enforce" } })).status, 200);
  try {
    writeFileSync(join(dir, "wrangler.toml"), toml("two", "*/7 * * * *", "src/index.ts"));
    writeFileSync(join(dir, "src/gen.ts"), 'export const built = "steady, changed";\n'); // a new bundle: the registry judges its signature
    const unsigned = await verge(dir, "publish", "--config", "wrangler.toml");
    assert.equal(unsigned.code, 1, unsigned.stderr);
    assert.match(unsigned.stderr, /ERR_SIGNATURE_REQUIRED/);
    assert.match(unsigned.stderr, /config .*restored/);
    const after = await get("/functions/steady");
    assert.deepEqual({ env: after.config.env, crons: after.config.crons }, { env: before.config.env, crons: before.config.crons });
    assert.deepEqual((await get("/functions/steady/versions")).versions.length, 1);

    const fresh = project("fresh", toml("x", "*/5 * * * *", "src/nohandler.ts").replace('"steady"', '"fresh"'), { "src/nohandler.ts": "export const x = 1;\n" });
    assert.equal((await verge(fresh, "publish", "--config", "wrangler.toml")).code, 1);
    assert.equal((await origin.call("GET", "/v1/tenants/acme/functions/fresh", { token })).status, 404, "not created");
  } finally {
    assert.equal((await origin.call("PUT", "/v1/tenants/acme/signing/policy", { token, json: { policy: "off" } })).status, 200);
  }
});
