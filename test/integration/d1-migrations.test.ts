/**
 * `verge d1 migrations list|apply`: Wrangler's migrations directory applied in
 * name order, each once, to the local database `verge dev` uses (a Worker with
 * d1Persist on that directory sees the tables) and to the registry's; a failing
 * migration is rolled back and stops the run with ERR_D1_MIGRATION.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";
import { Verge } from "../../src/index.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "verge-d1-migrations-"));
let origin: TestOrigin;
let token: string;
before(async () => {
  origin = await startTestOrigin();
  token = await origin.tenant("acme", ["admin"]);
});
after(async () => {
  await origin?.close();
  rmSync(root, { recursive: true, force: true });
});

function verge(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, ...args], { cwd, env: { ...process.env, VERGE_ORIGIN: origin.url, VERGE_TOKEN: token } }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

function project(name: string, migrations: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "db/migrations"), { recursive: true });
  writeFileSync(join(dir, "wrangler.toml"), `name = "${name}"\nmain = "index.js"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "app-db"\ndatabase_id = "0f2ac74b-498b-4d93-9e84-61b3c0a4f1d7"\nmigrations_dir = "db/migrations"\n`);
  for (const [file, sql] of Object.entries(migrations)) writeFileSync(join(dir, "db/migrations", file), sql);
  return dir;
}

const MIGRATIONS = {
  "0001_users.sql": "-- the users\nCREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL\n);\nINSERT INTO users (name) VALUES ('ada');\n",
  "0002_email.sql": "ALTER TABLE users ADD COLUMN email TEXT;\nUPDATE users SET email = 'ada@example.com';\n",
};

test("local: pending migrations are applied in order, once; the Worker of verge dev sees them", async () => {
  const dir = project("local", MIGRATIONS);
  const listed = await verge(dir, "d1", "migrations", "list", "DB", "--json");
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), { database: "app-db", applied: [], pending: ["0001_users.sql", "0002_email.sql"] });
  const first = await verge(dir, "d1", "migrations", "apply", "app-db");
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /applied 0001_users\.sql\napplied 0002_email\.sql\n2 migrations applied on app-db \(local: .*app-db\.sqlite\)/);
  const again = await verge(dir, "d1", "migrations", "apply", "DB");
  assert.match(again.stdout, /no migrations to apply/);
  const worker = new Verge({ modules: true, script: "export default { async fetch(r, env) { return Response.json(await env.DB.prepare('SELECT name, email FROM users').all()) } }", d1Databases: { DB: "app-db" }, d1Persist: join(dir, ".verge/d1") });
  try {
    assert.deepEqual((await (await worker.dispatchFetch("http://x/")).json() as { results: unknown[] }).results, [{ name: "ada", email: "ada@example.com" }]);
    const recorded = await (await worker.getD1Database("DB")).prepare("SELECT name FROM d1_migrations ORDER BY id").raw();
    assert.deepEqual(recorded, [["0001_users.sql"], ["0002_email.sql"]]);
  } finally {
    await worker.dispose();
  }
});

test("remote: applied to the registry's database; a failing migration is rolled back and stops the run", async () => {
  const dir = project("remote", { ...MIGRATIONS, "0003_broken.sql": "INSERT INTO users (name) VALUES ('bob');\nINSERT INTO nope VALUES (1);\n", "0004_later.sql": "CREATE TABLE later (a);\n" });
  const r = await verge(dir, "d1", "migrations", "apply", "DB", "--remote");
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /applied 0001_users\.sql\napplied 0002_email\.sql\n/);
  assert.match(r.stderr, /ERR_D1_MIGRATION[\s\S]*migration 0003_broken\.sql failed on app-db at the registry \(tenant acme\) and was rolled back: D1_ERROR: no such table: nope: SQLITE_ERROR; applied before it: 0001_users\.sql, 0002_email\.sql/);
  const users = await origin.call("POST", "/v1/tenants/acme/d1/app-db/query", { token, json: { op: "batch", queries: [{ sql: "SELECT name FROM users", params: [] }] } });
  assert.deepEqual(users.body.results[0].rows, [["ada"]], "bob's insert was rolled back with its migration");
  const pending = await verge(dir, "d1", "migrations", "list", "DB", "--remote", "--json");
  assert.deepEqual(JSON.parse(pending.stdout).pending, ["0003_broken.sql", "0004_later.sql"]);
  const unknown = await verge(dir, "d1", "migrations", "apply", "NOPE");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no D1 database "NOPE" in .*wrangler\.toml; its \[\[d1_databases\]\] are \[DB \(app-db\)\]/);
});
