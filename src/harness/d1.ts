/**
 * D1 in the harness: the `d1Databases` and `d1Persist` options (Miniflare 4's
 * names and shapes) and the host-side database `verge.getD1Database("DB")`
 * gives a test, the same database code the isolate runs, with Node's own
 * functions, calling the child process's D1 handler over the child channel. The
 * child runs the SQL in its engine process; the database file lives in the
 * instance's scratch directory (scratch.ts) unless it is persisted.
 */
import { resolve } from "node:path";
import { describe, type Diagnostic } from "../shared/limits.ts";
import type { BindingDecl } from "../runtime/bindings/index.ts";
import { createD1Database } from "../runtime/guest/bindings/d1-database.ts";

/** The default directory of `d1Persist: true`, relative to the working directory. */
export const DEFAULT_D1_PERSIST = ".verge/d1";

export interface D1Options {
  /** Binding names (the database id is the name), or `{ BINDING: "database-id" }`. */
  d1Databases?: string[] | Record<string, string>;
  /** As Miniflare 4's `d1Persist`: absent or false, a temporary directory of the instance's; true, `.verge/d1`; a string, that directory. */
  d1Persist?: boolean | string;
}

/** The D1 API on the host (types as @cloudflare/workers-types `D1Database`, loosely). */
export interface D1Database {
  prepare(sql: string): D1PreparedStatement;
  batch<T = Record<string, unknown>>(statements: D1PreparedStatement[]): Promise<Array<D1Result<T>>>;
  exec(sql: string): Promise<{ count: number; duration: number }>;
  withSession(constraint?: string): { prepare(sql: string): D1PreparedStatement; batch(statements: D1PreparedStatement[]): Promise<D1Result[]>; getBookmark(): string | null };
}

export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T = unknown>(column: string): Promise<T | null>;
  all<T = Record<string, unknown>>(): Promise<D1Result<T>>;
  run<T = Record<string, unknown>>(): Promise<D1Result<T>>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[]>;
}

export interface D1Result<T = Record<string, unknown>> {
  success: true;
  meta: { served_by: string; duration: number; changes: number; last_row_id: number; changed_db: boolean; size_after: number; rows_read: number; rows_written: number };
  results: T[];
}

/** `d1Databases` and `d1Persist` become `d1` binding declarations. */
export function validateD1Options(raw: D1Options, bindings: Record<string, BindingDecl>, d: Diagnostic[]): void {
  let persist: string | undefined;
  if (raw.d1Persist === true) persist = resolve(DEFAULT_D1_PERSIST);
  else if (typeof raw.d1Persist === "string" && raw.d1Persist !== "") persist = resolve(raw.d1Persist);
  else if (raw.d1Persist !== undefined && raw.d1Persist !== false) d.push({ path: "d1Persist", message: `expected a boolean or a directory path, found ${describe(raw.d1Persist)}` });
  const dbs = raw.d1Databases;
  if (dbs === undefined) return;
  let pairs: Array<[string, unknown]>;
  if (Array.isArray(dbs)) pairs = dbs.map((name) => [String(name), name]);
  else if (typeof dbs === "object" && dbs !== null) pairs = Object.entries(dbs);
  else {
    d.push({ path: "d1Databases", message: `expected an array of binding names or { BINDING: "database-id" }, found ${describe(dbs)}` });
    return;
  }
  for (const [name, id] of pairs) {
    if (typeof id !== "string" || id === "") {
      d.push({ path: `d1Databases.${name}`, message: `expected a database id string, found ${describe(id)}` });
      continue;
    }
    if (bindings[name] !== undefined) d.push({ path: `d1Databases.${name}`, message: `the binding ${name} is also declared as a ${bindings[name].type} binding` });
    bindings[name] = { type: "d1", value: { id, ...(persist !== undefined ? { persist } : {}) } };
  }
}

/** A host-side database whose calls go to `call(method, args)` (the child's D1 handler). */
export function createHostD1Database(call: (method: string, args: unknown[]) => Promise<unknown>): D1Database {
  return createD1Database(call, {
    isArray: Array.isArray,
    define: (o, key, value) => void Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true }),
  }) as D1Database;
}
