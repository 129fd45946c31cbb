/**
 * The D1 wire: what a D1 binding sends to the database engine that runs its SQL
 * (src/shared/d1/engine.ts)
 * and what it gets back. Plain JSON values only, so the same shapes cross the
 * isolate bridge, a child process's IPC channel and, later, HTTP.
 *
 * A BLOB travels as an array of byte values, as D1 returns one.
 */

/** A value bound to a `?` or returned in a row: D1's four storage kinds (BLOB as byte values). */
export type D1Value = number | string | null | number[];

export interface D1Query {
  sql: string;
  params: D1Value[];
}

export type D1Request =
  /** One statement (`first`/`all`/`run`/`raw`) or a `batch`: all in one transaction. */
  | { op: "batch"; queries: D1Query[] }
  /** `exec`: each non-empty line is a query, all in one transaction. */
  | { op: "exec"; sql: string };

/** D1's `meta`, as D1 gives it (rows_read and rows_written are estimates here: see the README). */
export interface D1Meta {
  served_by: string;
  duration: number;
  changes: number;
  last_row_id: number;
  changed_db: boolean;
  size_after: number;
  rows_read: number;
  rows_written: number;
}

/** One statement's outcome; rows are arrays in `columns` order. */
export interface D1RowsResult {
  columns: string[];
  rows: D1Value[][];
  meta: D1Meta;
}

export interface D1ExecResult {
  count: number;
  duration: number;
}

/**
 * A failure: `kind` is D1's prefix (D1_ERROR for a statement or batch, D1_EXEC_ERROR for exec),
 * `message` the text after it, as workerd shows it ("no such table: t: SQLITE_ERROR").
 */
export interface D1Failure {
  ok: false;
  kind: "D1_ERROR" | "D1_EXEC_ERROR";
  message: string;
}

export type D1Response = { ok: true; results: D1RowsResult[] } | { ok: true; exec: D1ExecResult } | D1Failure;

/** Statements of one batch the engine refuses to run at once (each counts as a query). */
export const D1_MAX_BATCH = 1000;
