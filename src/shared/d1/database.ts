/**
 * One D1 database on node:sqlite: runs a D1 request (a batch of statements, or
 * `exec`'s lines) in one transaction and answers with D1's results and meta.
 * It runs in the engine's child process (engine-child.ts), where a runaway
 * statement can be stopped by killing the process: node:sqlite has neither
 * `sqlite3_interrupt` nor a progress handler, and a worker thread cannot be
 * terminated while SQLite runs (measured: `Worker.terminate()` waits for a
 * recursive CTE forever).
 *
 * What user SQL may do is decided by an authorizer (see {@link authorize}): no
 * ATTACH/DETACH (which also stops `VACUUM INTO 'file'`), no transaction
 * statements (each request is one transaction, as in D1), only the PRAGMAs D1
 * allows, no extension loading. The database's size is capped with
 * `max_page_count`, set before the authorizer is installed (user SQL cannot
 * change it), and SQLite's run-time limits are D1's.
 */
import { constants, DatabaseSync, type StatementSync } from "node:sqlite";
import { bindArgs, scanParams } from "./params.ts";
import { sqliteMessage } from "./sqlite-errors.ts";
import type { D1ExecResult, D1Query, D1Response, D1RowsResult, D1Value } from "./wire.ts";

export interface D1DatabaseLimits {
  /** Bytes the database file may grow to (default 10 GB, D1's limit on the Workers Paid plan). */
  maxDatabaseBytes: number;
  /** Bytes of values one request may return (default 32 MiB). */
  maxResultBytes: number;
}

export const D1_DEFAULT_LIMITS: D1DatabaseLimits = { maxDatabaseBytes: 10_000_000_000, maxResultBytes: 32 * 1024 * 1024 };

/** PRAGMAs D1 lets a query run (https://developers.cloudflare.com/d1/sql-api/sql-statements/). */
const PRAGMAS = new Set([
  "table_list", "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
  "foreign_key_check", "foreign_keys", "defer_foreign_keys", "case_sensitive_like", "ignore_check_constraints",
  "legacy_alter_table", "recursive_triggers", "reverse_unordered_selects", "quick_check", "optimize",
]);

/** SQL functions that reach outside the database or change how SQLite parses. */
const FUNCTIONS = new Set(["load_extension", "fts3_tokenizer"]);

const TRANSACTION_REFUSED =
  "To execute a transaction, please use the state.storage.transaction() or state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements. The JavaScript API is safer because it will automatically roll back on exceptions, and because it interacts correctly with Durable Objects' automatic atomic write coalescing.";

const NO_STATEMENTS = "No SQL statements detected.";

class D1Failure extends Error {}

export class D1SqliteDatabase {
  #db: DatabaseSync;
  #limits: D1DatabaseLimits;
  /** Our own statements (BEGIN, COMMIT, the meta queries) pass the authorizer. */
  #trusted = false;
  /** Why the authorizer last refused (a transaction statement gets D1's own message). */
  #refusedTransaction = false;
  #changes: StatementSync;
  #size: StatementSync;
  #servedBy: string;

  constructor(path: string, limits: Partial<D1DatabaseLimits> = {}, servedBy = "verge.db") {
    this.#limits = { ...D1_DEFAULT_LIMITS, ...limits };
    this.#servedBy = servedBy;
    this.#db = new DatabaseSync(path, {
      readBigInts: true,
      allowExtension: false,
      enableForeignKeyConstraints: true,
      timeout: 5_000,
      // D1's limits: 100 KB of SQL, 100 bound parameters, 2 MB strings and BLOBs, 100 columns.
      limits: { sqlLength: 100_000, variableNumber: 100, length: 2_000_000, column: 100 },
    } as ConstructorParameters<typeof DatabaseSync>[1]);
    this.#db.enableDefensive(true);
    this.#db.exec("PRAGMA journal_mode = WAL");
    const pageSize = Number((this.#db.prepare("PRAGMA page_size").get() as { page_size: bigint }).page_size);
    this.#db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(this.#limits.maxDatabaseBytes / pageSize))}`);
    this.#changes = this.#db.prepare("SELECT total_changes() AS c, last_insert_rowid() AS r");
    this.#size = this.#db.prepare("SELECT page_count * page_size AS s FROM pragma_page_count(), pragma_page_size()");
    this.#db.setAuthorizer((action, a, b) => this.#authorize(action, a, b));
  }

  close(): void {
    this.#db.close();
  }

  run(request: { op: "batch"; queries: D1Query[] } | { op: "exec"; sql: string }): D1Response {
    try {
      if (request.op === "exec") return { ok: true, exec: this.#exec(request.sql) };
      return { ok: true, results: this.#batch(request.queries) };
    } catch (err) {
      return { ok: false, kind: request.op === "exec" ? "D1_EXEC_ERROR" : "D1_ERROR", message: err instanceof D1Failure ? err.message : this.#message(err) };
    }
  }

  #authorize(action: number, a: string | null, b: string | null): number {
    if (this.#trusted) return constants.SQLITE_OK;
    switch (action) {
      case constants.SQLITE_ATTACH:
      case constants.SQLITE_DETACH:
        return constants.SQLITE_DENY;
      case constants.SQLITE_TRANSACTION:
      case constants.SQLITE_SAVEPOINT:
        this.#refusedTransaction = true;
        return constants.SQLITE_DENY;
      case constants.SQLITE_PRAGMA:
        return a !== null && PRAGMAS.has(a.toLowerCase()) ? constants.SQLITE_OK : constants.SQLITE_DENY;
      case constants.SQLITE_FUNCTION:
        return b !== null && FUNCTIONS.has(b.toLowerCase()) ? constants.SQLITE_DENY : constants.SQLITE_OK;
      default:
        return constants.SQLITE_OK;
    }
  }

  #message(err: unknown): string {
    if (this.#refusedTransaction) return TRANSACTION_REFUSED;
    return sqliteMessage(err);
  }

  #trust<T>(f: () => T): T {
    this.#trusted = true;
    try {
      return f();
    } finally {
      this.#trusted = false;
    }
  }

  /** Runs `f` in one transaction: committed when it returns, rolled back when it throws. */
  #transaction<T>(f: () => T): T {
    this.#trust(() => this.#db.exec("BEGIN IMMEDIATE"));
    let value: T;
    try {
      this.#refusedTransaction = false;
      value = f();
    } catch (err) {
      this.#trust(() => {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      });
      throw err;
    }
    this.#trust(() => this.#db.exec("COMMIT"));
    return value;
  }

  #batch(queries: D1Query[]): D1RowsResult[] {
    const real = queries.filter((q) => q.sql.replace(/^\s*--.*$/gm, "").trim() !== "");
    if (real.length === 0) throw new D1Failure(NO_STATEMENTS);
    const budget = { bytes: this.#limits.maxResultBytes };
    return this.#transaction(() => real.map((q) => this.#query(q.sql, q.params, budget)));
  }

  #exec(sql: string): D1ExecResult {
    const start = performance.now();
    const lines = sql.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    if (lines.length === 0) throw new D1Failure(`Error in line 1: : ${NO_STATEMENTS}`);
    const budget = { bytes: this.#limits.maxResultBytes };
    this.#transaction(() => {
      lines.forEach((line, i) => {
        try {
          this.#statements(line, [], budget, "SQL code did not contain a statement.");
        } catch (err) {
          const reason = err instanceof D1Failure ? err.message : this.#message(err);
          throw new D1Failure(`Error in line ${i + 1}: ${line}: ${reason}`);
        }
      });
    });
    return { count: lines.length, duration: performance.now() - start };
  }

  #query(sql: string, params: D1Value[], budget: { bytes: number }): D1RowsResult {
    const start = performance.now();
    const [before, beforeSize] = this.#trust(() => [this.#changes.get() as { c: bigint; r: bigint }, this.#sizeNow()] as const);
    const last = this.#statements(sql, params, budget, NO_STATEMENTS);
    const [after, afterSize] = this.#trust(() => [this.#changes.get() as { c: bigint; r: bigint }, this.#sizeNow()] as const);
    const changes = Number(after.c - before.c);
    return {
      columns: last.columns,
      rows: last.rows,
      meta: {
        served_by: this.#servedBy,
        duration: performance.now() - start,
        changes,
        last_row_id: Number(after.r),
        changed_db: changes !== 0 || after.r !== before.r || afterSize !== beforeSize,
        size_after: afterSize,
        rows_read: last.rows.length + changes,
        rows_written: changes,
      },
    };
  }

  #sizeNow(): number {
    return Number((this.#size.get() as { s: bigint }).s);
  }

  /**
   * Runs every statement of `sql` (D1 runs them all and answers with the last one's rows),
   * each taking its share of `params` in order; the values must match the parameters exactly.
   */
  #statements(sql: string, params: D1Value[], budget: { bytes: number }, empty: string): { columns: string[]; rows: D1Value[][] } {
    let rest = sql;
    let used = 0;
    let out: { columns: string[]; rows: D1Value[][] } | undefined;
    for (;;) {
      let stmt: StatementSync;
      try {
        stmt = this.#db.prepare(rest);
      } catch (err) {
        // Nothing but whitespace and comments left.
        if ((err as { errcode?: unknown }).errcode === undefined && /no statements/i.test(String((err as Error).message))) {
          if (out === undefined) throw new D1Failure(empty);
          break;
        }
        throw err;
      }
      const text = stmt.sourceSQL;
      const slots = scanParams(text);
      const mine = params.slice(used, used + slots.slots.length);
      used += slots.slots.length;
      if (mine.length !== slots.slots.length) throw new D1Failure("Wrong number of parameter bindings for SQL query.");
      out = this.#collect(stmt, bindArgs(slots, mine.map(toSqlite)), budget);
      if (!rest.startsWith(text)) break;
      rest = rest.slice(text.length);
      if (rest.trim() === "") break;
    }
    if (used !== params.length) throw new D1Failure("Wrong number of parameter bindings for SQL query.");
    return out;
  }

  #collect(stmt: StatementSync, args: unknown[], budget: { bytes: number }): { columns: string[]; rows: D1Value[][] } {
    stmt.setReturnArrays(true);
    const columns = stmt.columns().map((c) => c.name);
    const rows: D1Value[][] = [];
    for (const raw of stmt.iterate(...(args as never[])) as Iterable<unknown[]>) {
      const row = raw.map(fromSqlite);
      for (const v of row) budget.bytes -= v === null ? 1 : typeof v === "number" ? 8 : typeof v === "string" ? v.length * 2 : v.length;
      if (budget.bytes < 0) throw new D1Failure(`the results of this request exceed ${this.#limits.maxResultBytes} bytes; select fewer rows or columns`);
      rows.push(row);
    }
    return { columns, rows };
  }
}

function toSqlite(v: D1Value): unknown {
  return Array.isArray(v) ? Uint8Array.from(v) : v;
}

function fromSqlite(v: unknown): D1Value {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Uint8Array) return Array.from(v);
  return v as D1Value;
}
