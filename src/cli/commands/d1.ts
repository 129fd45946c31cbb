/**
 * `verge d1 migrations list|apply <database>`: Wrangler's D1 migrations. The
 * database is a `[[d1_databases]]` entry of the wrangler config (its binding or
 * its database_name); its `migrations_dir` (default `migrations`, beside the
 * config) holds `.sql` files applied in name order, each once: a file and the
 * row that records it (table `migrations_table`, default `d1_migrations`) are one
 * transaction, so a failing migration leaves nothing behind and stops the run.
 *
 * `--local` (the default) applies them to the file `verge dev` uses
 * (`.verge/d1/<database>.sqlite` beside the config, or `--persist-to <dir>`);
 * `--remote` to the registry's database, through its D1 API.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createD1Engine, type D1Request, type D1Response } from "../../shared/d1/index.ts";
import { VergeError } from "../../shared/errors.ts";
import { d1File } from "../../runtime/bindings/d1/index.ts";
import { databaseOf, findWranglerConfig, readWranglerConfig, type WranglerD1Database } from "../../../wrangler-compat/index.ts";
import { UsageError } from "../output.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge d1 migrations list <database> [options]
verge d1 migrations apply <database> [options]

Wrangler's D1 migrations: the .sql files of the database's migrations_dir, in name
order, each applied once in its own transaction. <database> is a binding or a
database_name of the wrangler config's [[d1_databases]].

  --config <file>       wrangler.toml / wrangler.json(c) (default: the one in this directory)
  --env <name>          the config's [env.<name>]
  --local               the local database verge dev uses (the default)
  --persist-to <dir>    where the local databases are (default: .verge/d1 beside the config)
  --remote              the registry's database
${CONNECTION_HELP}
`;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The database entry `name` designates: its binding or its database_name. */
function entryOf(list: WranglerD1Database[], name: string, configPath: string): WranglerD1Database {
  const found = list.find((x) => x.binding === name) ?? list.find((x) => x.databaseName === name);
  if (found === undefined) {
    const known = list.map((x) => x.binding + (x.databaseName !== undefined ? ` (${x.databaseName})` : ""));
    throw new UsageError(`no D1 database "${name}" in ${configPath}; its [[d1_databases]] are [${known.join(", ")}]`);
  }
  return found;
}

function failure(r: D1Response): string | undefined {
  return r.ok ? undefined : `${r.kind}: ${r.message}`;
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, config: { type: "string" }, env: { type: "string" }, local: { type: "boolean" }, remote: { type: "boolean" }, "persist-to": { type: "string" } },
  });
  const [group, sub, name] = positionals;
  if (group !== "migrations" || (sub !== "list" && sub !== "apply") || name === undefined || positionals.length > 3) throw new UsageError("verge d1: expected `migrations list <database>` or `migrations apply <database>`");
  if (values.local === true && values.remote === true) throw new UsageError("verge d1: --local and --remote exclude each other");
  const configPath = values.config !== undefined ? resolve(values.config) : findWranglerConfig(process.cwd());
  if (configPath === undefined) throw new UsageError("verge d1: no wrangler.toml, wrangler.json or wrangler.jsonc here; pass --config <file>");
  const { config } = readWranglerConfig(configPath, { env: values.env });
  const entry = entryOf(config.d1Databases ?? [], name, configPath);
  const database = databaseOf(entry);
  const table = entry.migrationsTable ?? "d1_migrations";
  if (!NAME.test(table)) throw new UsageError(`migrations_table: expected an SQL identifier (letters, digits, _), found ${JSON.stringify(table)}`);
  const dir = resolve(dirname(configPath), entry.migrationsDir ?? "migrations");
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  } catch {
    files = [];
  }

  // One request at a time on the chosen database.
  let send: (request: D1Request) => Promise<D1Response>;
  let close = async () => {};
  let where: string;
  if (values.remote === true) {
    const client = connect(values);
    const tenant = await client.tenant();
    where = `${database} at the registry (tenant ${tenant})`;
    send = async (request) => (await client.call<D1Response>("POST", apiPath`/v1/tenants/${tenant}/d1/${database}/query`, request)).body;
  } else {
    const persist = values["persist-to"] !== undefined ? resolve(values["persist-to"]) : join(dirname(configPath), ".verge/d1");
    mkdirSync(persist, { recursive: true });
    const path = d1File(persist, database);
    const engine = createD1Engine();
    where = `${database} (local: ${path})`;
    send = (request) => engine.run(path, request);
    close = () => engine.close();
  }
  try {
    const made = await send({ op: "exec", sql: `CREATE TABLE IF NOT EXISTS "${table}" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)` });
    const bad = failure(made);
    if (bad !== undefined) throw new VergeError("ERR_D1_MIGRATION", `cannot read the migrations table of ${where}: ${bad}`);
    const done = await send({ op: "batch", queries: [{ sql: `SELECT name FROM "${table}"`, params: [] }] });
    const doneBad = failure(done);
    if (doneBad !== undefined || !("results" in done)) throw new VergeError("ERR_D1_MIGRATION", `cannot read the migrations table of ${where}: ${doneBad}`);
    const applied = new Set(done.results[0]!.rows.map((r) => String(r[0])));
    const pending = files.filter((f) => !applied.has(f));
    if (sub === "list") {
      print(values.json, { database, applied: files.filter((f) => applied.has(f)), pending }, pending.length === 0 ? `no migrations to apply on ${where}` : `migrations to apply on ${where}:\n${pending.map((f) => `  ${f}`).join("\n")}`);
      return;
    }
    const ran: string[] = [];
    for (const file of pending) {
      const sql = readFileSync(join(dir, file), "utf8");
      const r = await send({ op: "batch", queries: [{ sql, params: [] }, { sql: `INSERT INTO "${table}" (name) VALUES (?)`, params: [file] }] });
      const why = failure(r);
      if (why !== undefined) {
        throw new VergeError("ERR_D1_MIGRATION", `migration ${file} failed on ${where} and was rolled back: ${why}${ran.length > 0 ? `; applied before it: ${ran.join(", ")}` : ""}`);
      }
      ran.push(file);
      if (values.json !== true) process.stdout.write(`applied ${file}\n`);
    }
    print(values.json, { database, applied: ran }, ran.length === 0 ? `no migrations to apply on ${where}` : `${ran.length} migration${ran.length === 1 ? "" : "s"} applied on ${where}`);
  } finally {
    await close();
  }
}
