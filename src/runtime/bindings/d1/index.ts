/**
 * The `d1` binding kind: a Cloudflare D1 database. Declared as
 * `{ type: "d1", value: { id, persist? } }`: `id` names the database, `persist`
 * the directory that holds its SQLite file (`<id>.sqlite`; absent: a temporary
 * directory of the process); the harness points a database it does not persist
 * at its scratch directory.
 *
 * Every binding of the same file in one process shares one engine (one child
 * process), so a function and the harness's `getD1Database` see the same data,
 * and a runaway query in one database never waits on another's.
 */
import { join, resolve } from "node:path";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { BindingKind } from "../index.ts";
import { describe, type Diagnostic } from "../../../shared/limits.ts";
import { createD1Engine, type D1Engine } from "../../../shared/d1/index.ts";
import { createD1Handler } from "./handler.ts";

export interface D1BindingValue {
  /** The database id (Miniflare: the value of `d1Databases: { NAME: "id" }`, or the binding name). */
  id: string;
  /** Directory of the database's SQLite file (`<id>.sqlite`). */
  persist?: string;
  /** Milliseconds one query or batch may run (default 30 000). */
  timeoutMs?: number;
  /** Bytes the database may grow to (default 10 GB). */
  maxDatabaseBytes?: number;
}

const engines = new Map<string, D1Engine>();

/** The file that holds database `id` under `dir`: the id with anything but [A-Za-z0-9._-] escaped. */
export function d1File(dir: string, id: string): string {
  return join(resolve(dir), `${id.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}.sqlite`);
}

function engineFor(path: string, v: D1BindingValue): D1Engine {
  const key = `${path}\u0000${v.timeoutMs ?? ""}\u0000${v.maxDatabaseBytes ?? ""}`;
  let e = engines.get(key);
  if (e === undefined) {
    e = createD1Engine({ ...(v.timeoutMs !== undefined ? { timeoutMs: v.timeoutMs } : {}), limits: v.maxDatabaseBytes !== undefined ? { maxDatabaseBytes: v.maxDatabaseBytes } : {} });
    engines.set(key, e);
  }
  return e;
}

/** Ends every engine this process started (their data stays in the files). */
export async function closeD1Engines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map((e) => e.close()));
}

let scratch: string | undefined;

/** Where databases without a `persist` directory live: a temporary directory of this process, removed when it exits. */
function processScratch(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "verge-d1-"));
    scratch = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;

export const d1Kind: BindingKind = {
  validate(name, value) {
    const out: Diagnostic[] = [];
    const v = value as Partial<D1BindingValue> | null;
    if (v === null || typeof v !== "object") return [{ path: `bindings.${name}`, message: `a D1 binding needs { id, persist? }, found ${describe(value)}` }];
    if (typeof v.id !== "string" || v.id === "" || v.id.length > 256) out.push({ path: `bindings.${name}.id`, message: `expected a database id (1 to 256 characters), found ${describe(v.id)}` });
    if (v.persist !== undefined && (typeof v.persist !== "string" || v.persist === "")) out.push({ path: `bindings.${name}.persist`, message: `expected the directory of the database file, found ${describe(v.persist)}` });
    if (v.timeoutMs !== undefined && !positive(v.timeoutMs)) out.push({ path: `bindings.${name}.timeoutMs`, message: `expected a positive number of milliseconds, found ${describe(v.timeoutMs)}` });
    if (v.maxDatabaseBytes !== undefined && !positive(v.maxDatabaseBytes)) out.push({ path: `bindings.${name}.maxDatabaseBytes`, message: `expected a positive number of bytes, found ${describe(v.maxDatabaseBytes)}` });
    return out;
  },
  create(_name, value) {
    const v = value as D1BindingValue;
    const dir = v.persist !== undefined ? resolve(v.persist) : processScratch();
    const path = d1File(dir, v.id);
    let made = false;
    return {
      handler: createD1Handler((request) => {
        if (!made) {
          mkdirSync(dir, { recursive: true });
          made = true;
        }
        return engineFor(path, v).run(path, request);
      }),
    };
  },
};

export { createD1Handler, D1_WIRE_METHODS, type D1Backend } from "./handler.ts";
