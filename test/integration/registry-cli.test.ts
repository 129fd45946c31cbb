/**
 * The registry verbs of the CLI end to end: a real registry on port 0, the
 * `verge` command run as a child process, as a user would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";

const MAIN = resolve(fileURLToPath(import.meta.url), "../../../src/cli/main.ts");
const dir = mkdtempSync(join(tmpdir(), "verge-cli-"));
let origin: TestOrigin;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  origin = await startTestOrigin();
  const token = await origin.tenant("acme", ["read", "publish", "deploy", "admin"]);
  env = { ...process.env, VERGE_ORIGIN: origin.url, VERGE_TOKEN: token };
});
test.after(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

function verge(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, ...args], { env, cwd: dir }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

function entry(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, `export default { fetch() { return new Response(${JSON.stringify(text)}) } };\n`);
  return p;
}

test("publish is idempotent, versions list shows it, an alias moves and rolls back, JSON output parses", async () => {
  const a = await verge("publish", entry("a.js", "one"), "--name", "hello", "--json", "--outdir", join(dir, "dist"));
  assert.equal(a.code, 0, a.stderr);
  const va = JSON.parse(a.stdout) as { digest: string };
  assert.match(va.digest, /^[0-9a-f]{64}$/);
  const again = await verge("publish", join(dir, "a.js"), "--name", "hello", "--json", "--outdir", join(dir, "dist"));
  assert.equal((JSON.parse(again.stdout) as { digest: string }).digest, va.digest, "same bundle, same version");
  const b = JSON.parse((await verge("publish", entry("b.js", "two"), "--name", "hello", "--json", "--outdir", join(dir, "dist"))).stdout) as { digest: string };
  assert.notEqual(b.digest, va.digest);

  const list = await verge("versions", "list", "hello");
  assert.equal(list.code, 0, list.stderr);
  assert.ok(list.stdout.includes(va.digest) && list.stdout.includes(b.digest));

  assert.equal((await verge("alias", "set", "hello", "live", va.digest)).code, 0);
  assert.equal((await verge("alias", "set", "hello", "live", b.digest)).code, 0);
  const rolled = await verge("alias", "rollback", "hello", "live");
  assert.equal(rolled.code, 0, rolled.stderr);
  const alias = await origin.call("GET", "/v1/tenants/acme/functions/hello/aliases/live", { token: env.VERGE_TOKEN! });
  assert.equal(alias.status, 200);
  assert.deepEqual(alias.body.routes.map((r: { version: string }) => r.version), [va.digest], "rollback restored the first version");
  assert.equal(alias.body.revision, 3);
});

test("errors: a bad version digest exits 1 naming the field; a bad token exits 1; no arguments is usage (exit 2); nothing is stored", async () => {
  const before = await origin.call("GET", "/v1/tenants/acme/functions/hello/versions", { token: env.VERGE_TOKEN! });
  const bad = await verge("alias", "set", "hello", "canary", "nope");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ERR_INVALID_REQUEST/);
  assert.match(bad.stderr, /version/);
  const unauthorized = await verge("versions", "list", "hello", "--token", "vrg_not-a-token");
  assert.equal(unauthorized.code, 1);
  assert.match(unauthorized.stderr, /ERR_UNAUTHORIZED/);
  assert.equal((await verge("publish")).code, 2);
  const missing = await verge("publish", join(dir, "missing.js"), "--name", "hello");
  assert.equal(missing.code, 1);
  assert.doesNotMatch(missing.stderr, /looks like a bug/);
  const after = await origin.call("GET", "/v1/tenants/acme/functions/hello/versions", { token: env.VERGE_TOKEN! });
  assert.deepEqual(after.body, before.body);
});
