/**
 * `[[d1_databases]]`: D1 bindings, as Wrangler reads them: `binding` (the env
 * name), `database_name`, `database_id`, `preview_database_id`,
 * `migrations_dir` (default "migrations"), `migrations_table`. verge names the
 * database by {@link databaseOf}, in `verge dev` (the local file) and in a
 * published function's config alike.
 */
import { Diagnostics, describe, isTable, join } from "./diagnostics.ts";

export interface WranglerD1Database {
  binding: string;
  databaseName?: string;
  databaseId?: string;
  previewDatabaseId?: string;
  /** As written (relative to the config file); Wrangler's default is "migrations". */
  migrationsDir?: string;
  /** Wrangler's default is "d1_migrations". */
  migrationsTable?: string;
}

const KEYS = ["binding", "database_name", "database_id", "preview_database_id", "migrations_dir", "migrations_table", "database_internal_env", "remote"];
const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Parses the array; `taken` are the names other bindings use (vars, KV, services). */
export function d1Databases(d: Diagnostics, path: string, value: unknown, taken: string[]): WranglerD1Database[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    d.error(path, `expected an array of { binding, database_name, database_id } tables, found ${describe(value)}`);
    return [];
  }
  const out: WranglerD1Database[] = [];
  value.forEach((raw, i) => {
    const p = join(path, i);
    if (!isTable(raw)) return d.error(p, `expected a table { binding, database_name, database_id }, found ${describe(raw)}`);
    for (const key of Object.keys(raw)) if (!KEYS.includes(key)) d.warn(join(p, key), "unknown D1 database key; ignored (expected binding, database_name, database_id, preview_database_id, migrations_dir)");
    const binding = d.string(join(p, "binding"), raw.binding, "a binding name (a JavaScript identifier)");
    if (raw.binding === undefined) return d.error(join(p, "binding"), 'missing: expected the name the Worker reads it by, such as "DB"');
    if (binding === undefined) return;
    if (!BINDING.test(binding)) return d.error(join(p, "binding"), `expected a JavaScript identifier, found ${describe(binding)}`);
    if (out.some((x) => x.binding === binding)) return d.error(join(p, "binding"), `"${binding}" is bound twice`);
    if (taken.includes(binding)) return d.error(join(p, "binding"), `"${binding}" is also bound in vars, kv_namespaces or services; a name is bound once`);
    const databaseName = d.string(join(p, "database_name"), raw.database_name, "the database's name");
    const databaseId = d.string(join(p, "database_id"), raw.database_id, "the database's id");
    const previewDatabaseId = d.string(join(p, "preview_database_id"), raw.preview_database_id, "a database id");
    const migrationsDir = d.string(join(p, "migrations_dir"), raw.migrations_dir, "a directory of .sql migrations");
    const migrationsTable = d.string(join(p, "migrations_table"), raw.migrations_table, "a table name");
    out.push({
      binding,
      ...(databaseName === undefined ? {} : { databaseName }),
      ...(databaseId === undefined ? {} : { databaseId }),
      ...(previewDatabaseId === undefined ? {} : { previewDatabaseId }),
      ...(migrationsDir === undefined ? {} : { migrationsDir }),
      ...(migrationsTable === undefined ? {} : { migrationsTable }),
    });
  });
  return out;
}

/**
 * The verge database a `[[d1_databases]]` entry binds: its `database_name` (the
 * name `wrangler d1 execute` takes), else its `database_id`, else the binding
 * in lowercase (`DB` -> `db`).
 */
export function databaseOf(x: WranglerD1Database): string {
  return x.databaseName ?? x.databaseId ?? x.binding.toLowerCase();
}
