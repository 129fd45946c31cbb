/**
 * The D1 engine on real SQLite files: transactions, the authorizer's refusals,
 * the time limit (a runaway query is killed with its process, the data stays),
 * the size and result caps, and statements with several parts and parameters.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createD1Engine } from "./engine.ts";
import { scanParams } from "./params.ts";
import type { D1Response } from "./wire.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-d1-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const q = (sql: string, ...params: Array<number | string | null | number[]>) => ({ sql, params });
function rows(r: D1Response): unknown[][] {
  assert.ok(r.ok && "results" in r, JSON.stringify(r));
  return r.results.at(-1)!.rows;
}
function failure(r: D1Response): string {
  assert.equal(r.ok, false, JSON.stringify(r));
  return (r as { message: string }).message;
}

test("a batch is one transaction: a failing statement rolls back the ones before it", async () => {
  const e = createD1Engine();
  const db = join(dir, "tx.sqlite");
  try {
    await e.run(db, { op: "exec", sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" });
    const bad = await e.run(db, { op: "batch", queries: [q("INSERT INTO t (v) VALUES (?)", "a"), q("INSERT INTO t (id, v) VALUES (1, 'dup')")] });
    assert.equal(failure(bad), "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)");
    assert.deepEqual(rows(await e.run(db, { op: "batch", queries: [q("SELECT count(*) FROM t")] })), [[0]]);
    const ok = await e.run(db, { op: "batch", queries: [q("INSERT INTO t (v) VALUES (?), (?)", "x", [1, 2]), q("SELECT v FROM t ORDER BY id")] });
    assert.ok(ok.ok && "results" in ok);
    assert.deepEqual(ok.results[0]!.meta.changes, 2);
    assert.deepEqual(ok.results[0]!.meta.last_row_id, 2);
    assert.deepEqual(ok.results[1]!.rows, [["x"], [[1, 2]]]);
  } finally {
    await e.close();
  }
});

test("hostile SQL is refused: ATTACH, VACUUM INTO, file PRAGMAs, the size PRAGMA, extensions, transactions", async () => {
  const e = createD1Engine();
  const db = join(dir, "hostile.sqlite");
  const other = join(dir, "other.sqlite");
  try {
    for (const sql of [`ATTACH DATABASE '${other}' AS o`, "PRAGMA journal_mode = DELETE", "PRAGMA writable_schema = ON", "PRAGMA max_page_count = 100000000", "PRAGMA temp_store_directory = '/tmp'", "DETACH DATABASE main"]) {
      assert.equal(failure(await e.run(db, { op: "batch", queries: [q(sql)] })), "not authorized: SQLITE_AUTH", sql);
    }
    assert.match(failure(await e.run(db, { op: "exec", sql: `VACUUM INTO '${other}'` })), /^Error in line 1: VACUUM INTO .*: (not authorized: SQLITE_AUTH|cannot VACUUM from within a transaction: SQLITE_ERROR)$/);
    assert.equal(existsSync(other), false);
    assert.match(failure(await e.run(db, { op: "batch", queries: [q("SELECT load_extension('/tmp/x')")] })), /not authorized to use function: load_extension/);
    for (const sql of ["BEGIN TRANSACTION", "COMMIT", "SAVEPOINT a", "ROLLBACK"]) assert.match(failure(await e.run(db, { op: "batch", queries: [q(sql)] })), /^To execute a transaction, please use/, sql);
    // What D1 allows still works.
    await e.run(db, { op: "exec", sql: "CREATE TABLE t (a)" });
    assert.deepEqual(rows(await e.run(db, { op: "batch", queries: [q("PRAGMA table_info(t)")] })).map((r) => r[1]), ["a"]);
    assert.deepEqual(rows(await e.run(db, { op: "batch", queries: [q("PRAGMA foreign_keys")] })), [[1]]);
  } finally {
    await e.close();
  }
});

test("a runaway query is stopped at the time limit; the database and the engine go on", async () => {
  const e = createD1Engine({ timeoutMs: 500 });
  const db = join(dir, "runaway.sqlite");
  try {
    await e.run(db, { op: "exec", sql: "CREATE TABLE t (a)\nINSERT INTO t VALUES (1)" });
    const forever = e.run(db, { op: "batch", queries: [q("INSERT INTO t VALUES (2)"), q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")] });
    const queued = e.run(db, { op: "batch", queries: [q("SELECT a FROM t ORDER BY a")] });
    assert.equal(failure(await forever), "the query ran longer than 500 ms and was stopped; the transaction was rolled back");
    assert.deepEqual(rows(await queued), [[1]]);
  } finally {
    await e.close();
  }
});

test("the database size cap: a write past it fails with SQLITE_FULL and leaves the database as it was", async () => {
  const e = createD1Engine({ limits: { maxDatabaseBytes: 64 * 1024 } });
  const db = join(dir, "full.sqlite");
  try {
    await e.run(db, { op: "exec", sql: "CREATE TABLE t (b BLOB)" });
    const big = await e.run(db, { op: "batch", queries: [q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) INSERT INTO t SELECT zeroblob(1000) FROM c")] });
    assert.equal(failure(big), "database or disk is full: SQLITE_FULL");
    assert.deepEqual(rows(await e.run(db, { op: "batch", queries: [q("SELECT count(*) FROM t")] })), [[0]]);
  } finally {
    await e.close();
  }
});

test("the result cap and D1's SQLite limits (string size, statement length, parameters)", async () => {
  const e = createD1Engine({ limits: { maxResultBytes: 100_000 } });
  const db = join(dir, "caps.sqlite");
  try {
    const many = await e.run(db, { op: "batch", queries: [q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT hex(randomblob(100)) FROM c")] });
    assert.match(failure(many), /exceed 100000 bytes/);
    assert.equal(failure(await e.run(db, { op: "batch", queries: [q("SELECT length(zeroblob(2000001))")] })), "string or blob too big: SQLITE_TOOBIG");
    assert.match(failure(await e.run(db, { op: "batch", queries: [q(`SELECT '${"x".repeat(100_001)}'`)] })), /too (long|big): SQLITE_TOOBIG$/);
    assert.match(failure(await e.run(db, { op: "batch", queries: [q(`SELECT ${Array(101).fill("?").join(",")}`, ...Array(101).fill(1))] })), /too many SQL variables/);
  } finally {
    await e.close();
  }
});

test("several statements in one query all run, each with its parameters; the last one's rows answer", async () => {
  const e = createD1Engine();
  const db = join(dir, "multi.sqlite");
  try {
    const r = await e.run(db, { op: "batch", queries: [q("CREATE TABLE t (a, b); INSERT INTO t VALUES (?, ?); INSERT INTO t VALUES (?3, ?2); SELECT * FROM t", 1, 2, 3, 4, 5)] });
    assert.deepEqual(rows(r), [[1, 2], [5, 4]]);
    assert.equal(failure(await e.run(db, { op: "batch", queries: [q("SELECT ?; SELECT ?", 1)] })), "Wrong number of parameter bindings for SQL query.");
    assert.equal(failure(await e.run(db, { op: "batch", queries: [q("  -- nothing")] })), "No SQL statements detected.");
  } finally {
    await e.close();
  }
});

test("parameters are found in SQLite's numbering, not inside literals or comments", () => {
  assert.deepEqual(scanParams("SELECT ?, '?', \"?\", [?], `?` -- ?\n/* ? */ , :a, ?5, @b, :a, ?").slots, [null, ":a", null, null, "?5", "@b", null]);
});
