/**
 * D1 in the harness: `d1Databases` / `d1Persist` as Miniflare 4 takes them, a
 * test seeding through `getD1Database` what the function then reads, data kept
 * across instances with `d1Persist`, option errors, and the per-invocation
 * query cap (a batch counts each statement).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Verge } from "../../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-d1-harness-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const WORKER = `export default { async fetch(request, env) {
  const url = new URL(request.url);
  if (url.pathname === "/add") {
    const r = await env.DB.prepare("INSERT INTO notes (body) VALUES (?)").bind(url.searchParams.get("body")).run();
    return Response.json({ id: r.meta.last_row_id, changes: r.meta.changes });
  }
  if (url.pathname === "/many") {
    const n = Number(url.searchParams.get("n"));
    try {
      for (let i = 0; i < 2; i++) await env.DB.batch(Array.from({ length: n }, () => env.DB.prepare("SELECT 1")));
      return new Response("ran");
    } catch (e) { return new Response(e.message, { status: 500 }); }
  }
  const { results } = await env.DB.prepare("SELECT id, body FROM notes ORDER BY id").all();
  return Response.json(results);
} }`;

test("a test creates the schema and seeds through getD1Database; the function reads and writes the same database", async () => {
  const verge = new Verge({ modules: true, script: WORKER, d1Databases: { DB: "notes-db" } });
  try {
    const db = await verge.getD1Database("DB");
    await db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    await db.prepare("INSERT INTO notes (body) VALUES (?)").bind("seeded").run();
    assert.deepEqual(await (await verge.dispatchFetch("http://x/add?body=hello")).json(), { id: 2, changes: 1 });
    assert.deepEqual(await (await verge.dispatchFetch("http://x/")).json(), [{ id: 1, body: "seeded" }, { id: 2, body: "hello" }]);
    assert.deepEqual(await db.prepare("SELECT body FROM notes WHERE id = ?").bind(2).first("body"), "hello");
    const env = await verge.getBindings<{ DB: { prepare(sql: string): { first(): Promise<unknown> } } }>();
    assert.deepEqual(await env.DB.prepare("SELECT count(*) AS n FROM notes").first(), { n: 2 });
    await assert.rejects(verge.getD1Database("NOPE"), { code: "ERR_INVALID_OPTIONS", message: /no D1 database is bound as "NOPE"; d1Databases declares \[DB\]/ });
  } finally {
    await verge.dispose();
  }
});

test("d1Persist keeps a database across instances, in <dir>/<id>.sqlite; without it, each instance starts empty", async () => {
  const persist = join(dir, "persist");
  const first = new Verge({ modules: true, script: WORKER, d1Databases: ["DB"], d1Persist: persist });
  try {
    await (await first.getD1Database("DB")).exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    await first.dispatchFetch("http://x/add?body=kept");
  } finally {
    await first.dispose();
  }
  assert.ok(readdirSync(persist).includes("DB.sqlite"));
  const second = new Verge({ modules: true, script: WORKER, d1Databases: ["DB"], d1Persist: persist });
  const fresh = new Verge({ modules: true, script: WORKER, d1Databases: ["DB"] });
  try {
    assert.deepEqual(await (await second.dispatchFetch("http://x/")).json(), [{ id: 1, body: "kept" }]);
    await assert.rejects((await fresh.getD1Database("DB")).prepare("SELECT * FROM notes").all(), { message: "D1_ERROR: no such table: notes: SQLITE_ERROR" });
  } finally {
    await Promise.all([second.dispose(), fresh.dispose()]);
  }
});

test("bad D1 options are reported with the option's name", () => {
  assert.throws(() => new Verge({ modules: true, script: WORKER, d1Databases: { DB: 42 as unknown as string }, d1Persist: 7 as unknown as string }), (err: Error) => {
    assert.match(err.message, /d1Databases\.DB: expected a database id string, found/);
    assert.match(err.message, /d1Persist: expected a boolean or a directory path/);
    return true;
  });
  assert.throws(() => new Verge({ modules: true, script: WORKER, d1Databases: ["DB"], bindings: { DB: "x" } }), /d1Databases\.DB: the binding DB is also declared/);
});

test("an invocation may run at most 1000 queries: each statement of a batch counts", async () => {
  const verge = new Verge({ modules: true, script: WORKER, d1Databases: ["DB"] });
  try {
    assert.equal(await (await verge.dispatchFetch("http://x/many?n=500")).text(), "ran");
    const over = await verge.dispatchFetch("http://x/many?n=501");
    assert.equal(over.status, 500);
    assert.match(await over.text(), /too many binding operations in one invocation; the limit is 1000/);
  } finally {
    await verge.dispose();
  }
});
