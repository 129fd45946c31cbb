/**
 * The registry verbs of the CLI end to end: a real registry on port 0, the
 * `verge` command run as a child process, as a user would.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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
  return vergeWith(env, ...args);
}

function vergeWith(withEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, ...args], { env: withEnv, cwd: dir }, (err, stdout, stderr) => {
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

  // The start of a digest, as `alias show` prints it, names the version.
  const short = await verge("alias", "set", "hello", "live", va.digest.slice(0, 12));
  assert.equal(short.code, 0, short.stderr);
  assert.match(short.stdout, new RegExp(`${va.digest.slice(0, 12)}`));
  const unknown = await verge("alias", "set", "hello", "live", "ffffff0000");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no version of hello has a digest starting with ffffff0000/);
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

/** A user error: exit 1, the message names what, and no stack or "bug or outage" note. */
function assertUserError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /looks like a bug|Cannot read properties|\n\s+at /);
}

test("names with ?, #, / or .. stay one path segment: refused as invalid names, never sent to another resource", async () => {
  const v = JSON.parse((await verge("publish", entry("p.js", "p"), "--name", "paths", "--json", "--outdir", join(dir, "dist"))).stdout) as { digest: string };
  assert.equal((await verge("alias", "set", "paths", "live", v.digest)).code, 0);
  const aliasBefore = await origin.call("GET", "/v1/tenants/acme/functions/paths/aliases/live");
  // "paths?x" would be GET …/functions/paths (a function, not a version list) if sent as is.
  assertUserError(await verge("versions", "list", "paths?x"), /ERR_INVALID_NAME: function name "paths\?x"/);
  assertUserError(await verge("versions", "list", "paths#x"), /ERR_INVALID_NAME: function name "paths#x"/);
  // "x/../../paths/aliases/live" would resolve to …/functions/paths/aliases/live/aliases/<alias>.
  assertUserError(await verge("alias", "show", "x/../../paths/aliases/live", "live"), /ERR_INVALID_NAME: function name "x\/\.\.\/\.\.\/paths/);
  // ".." alone cannot be escaped in a URL: the CLI refuses it.
  const dots = await verge("alias", "set", "paths", "..", v.digest);
  assert.equal(dots.code, 2, dots.stderr);
  assert.match(dots.stderr, /expected a name, found "\.\."/);
  assert.deepEqual((await origin.call("GET", "/v1/tenants/acme/functions/paths/aliases/live")).body, aliasBefore.body, "the alias is unchanged");
});

test("--origin that is not a URL is a usage error; a server that is not a registry is named as such", async () => {
  const notUrl = await vergeWith({ ...env, VERGE_ORIGIN: "notaurl" }, "versions", "list", "hello");
  assert.equal(notUrl.code, 2, notUrl.stderr);
  assert.match(notUrl.stderr, /--origin: expected an http:\/\/ or https:\/\/ URL, found "notaurl"/);
  // An edge node in front of a web server answers 200 with some JSON and a request id of its own: it is not the registry.
  const web = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json", "x-verge-request-id": "edge-1-abc", via: "1.1 edge-1 (verge)" }).end('{"hello":"world"}'));
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const r = await vergeWith({ ...env, VERGE_ORIGIN: url }, "versions", "list", "hello");
    assertUserError(r, new RegExp(`${url.replace(/[.:/]/g, "\\$&")} is not a verge registry`));
  } finally {
    await new Promise((r) => web.close(r));
  }
});

test("bad --revision, bad key files and missing directories are user errors naming the flag or file; nothing is stored", async () => {
  const revision = await verge("alias", "rollback", "hello", "live", "--revision", "abc");
  assert.equal(revision.code, 2, revision.stderr);
  assert.match(revision.stderr, /--revision: expected a positive integer, found "abc"/);
  const timeout = await verge("deploy", join(dir, "none.json"), "--wait", "--timeout", "soon");
  assert.equal(timeout.code, 2, timeout.stderr);
  assert.match(timeout.stderr, /--timeout: expected a number of seconds, found "soon"/);

  const before = await origin.call("GET", "/v1/tenants/acme/functions/hello/versions");
  writeFileSync(join(dir, "not-a-key.pem"), "not a key\n");
  assertUserError(await verge("publish", entry("k.js", "k"), "--name", "hello", "--key", join(dir, "not-a-key.pem"), "--outdir", join(dir, "dist")), /--key .*not-a-key\.pem: expected an Ed25519 private key/);
  assertUserError(await verge("publish", join(dir, "k.js"), "--name", "hello", "--key", join(dir, "absent.pem"), "--outdir", join(dir, "dist")), /absent\.pem: no such file or directory/);
  assertUserError(await verge("keys", "generate", "--out", join(dir, "no/such/dir/k.pem")), /k\.pem: no such file or directory/);
  assert.deepEqual((await origin.call("GET", "/v1/tenants/acme/functions/hello/versions")).body, before.body);
});

test("keys trust refuses a private key file: it never leaves the machine", async () => {
  const pem = join(dir, "publisher.pem");
  assert.equal((await verge("keys", "generate", "--out", pem)).code, 0);
  let seen = false;
  const spy = createServer((req, res) => {
    seen = true;
    req.resume();
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => spy.listen(0, "127.0.0.1", r));
  try {
    const r = await vergeWith({ ...env, VERGE_ORIGIN: `http://127.0.0.1:${(spy.address() as AddressInfo).port}` }, "keys", "trust", pem, "--tenant", "acme");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /publisher\.pem is a private key/);
    assert.equal(seen, false, "nothing was sent");
  } finally {
    await new Promise((r) => spy.close(r));
  }
  // The registry refuses one too, for callers other than the CLI.
  const { readFileSync } = await import("node:fs");
  const direct = await origin.call("POST", "/v1/tenants/acme/signing/keys", { json: { publicKey: readFileSync(pem, "utf8") } });
  assert.equal(direct.status, 400);
  assert.match(direct.body.error.message, /private key/);
  assert.deepEqual((await origin.call("GET", "/v1/tenants/acme/signing")).body.keys, []);
});

test("ports outside 0-65535 are usage errors before anything starts", async () => {
  const origin = await verge("origin", "--port", "70000", "--data", join(dir, "o"));
  assert.equal(origin.code, 2, origin.stderr);
  assert.match(origin.stderr, /--port: expected a port from 0 to 65535, found "70000"/);
  const edge = await verge("edge", "--port", "99999", "--origin", "http://127.0.0.1:9", "--token", "x", "--data", join(dir, "e"), "--workers", "0");
  assert.equal(edge.code, 2, edge.stderr);
  assert.match(edge.stderr, /--port: expected a port from 0 to 65535, found "99999"/);
  assert.equal(edge.stdout, "", "no node started");
  const up = await verge("up", "--port", "65530", "--data", join(dir, "up"));
  assert.equal(up.code, 2, up.stderr);
  assert.match(up.stderr, /--port: the fleet needs ports 65529 to 65540; expected a first edge port from 2 to 65525, found "65530"/);
});

test("publish --key of a bundle already published unsigned says the signature was not applied", async () => {
  const pem = join(dir, "late.pem");
  assert.equal((await verge("keys", "generate", "--out", pem)).code, 0);
  const first = await verge("publish", entry("late.js", "late"), "--name", "hello", "--outdir", join(dir, "dist"));
  assert.equal(first.code, 0, first.stderr);
  const again = await verge("publish", join(dir, "late.js"), "--name", "hello", "--key", pem, "--outdir", join(dir, "dist"));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already published .* unsigned\).*--key was not applied/);
});
