/**
 * Validates the keys verge reads in one table of a wrangler config (the top
 * level or one `[env.<name>]`), each to its normalized form. Only keys the
 * table sets appear in the result; validate.ts applies the environment rules.
 */
import { isAbsolute, resolve } from "node:path";
import { MAX_CRONS_PER_FUNCTION, NAME_PATTERN } from "../src/shared/protocol.ts";
import { cronNeverFires, cronProblem } from "./cron.ts";
import { d1Databases, type WranglerD1Database } from "./d1.ts";
import { Diagnostics, describe, isTable, join, kindOf } from "./diagnostics.ts";
import { readRoutes, type WranglerRoute } from "./routes.ts";
import { readRules, type WranglerModuleRule } from "./rules.ts";
import { services, type WranglerService } from "./services.ts";
import { readAssets, type WranglerAssets } from "./assets.ts";
import { r2Buckets, type WranglerR2Bucket } from "./r2-buckets.ts";

export interface WranglerKvNamespace {
  binding: string;
  id?: string;
  previewId?: string;
}

export interface WranglerBuild {
  command?: string;
  /** Directory the command runs in (absolute); the config's directory by default. */
  cwd: string;
  /** Directories `verge dev` watches besides the import graph (absolute); `<config dir>/src` by default with a command, as in Wrangler. */
  watchDir: string[];
}

/** What one table sets, normalized; absent keys are absent. */
export interface TableFields {
  name?: string;
  main?: string;
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  vars?: Record<string, unknown>;
  kvNamespaces?: WranglerKvNamespace[];
  d1Databases?: WranglerD1Database[];
  services?: WranglerService[];
  r2Buckets?: WranglerR2Bucket[];
  routes?: WranglerRoute[];
  crons?: string[];
  limits?: { cpuMs?: number };
  build?: WranglerBuild;
  rules?: WranglerModuleRule[];
  assets?: WranglerAssets;
}

export const NAME_EXPECTED = "lowercase letters, digits, - or _ (1 to 63, starting with a letter or digit)";
/** Cloudflare's ceiling for `limits.cpu_ms` (5 minutes). */
export const MAX_CPU_MS = 300_000;
const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Why a var value is not JSON (a TOML date, NaN, Infinity), or null. */
function jsonProblem(value: unknown): string | null {
  if (value === null || typeof value === "string" || typeof value === "boolean") return null;
  if (typeof value === "number") return Number.isFinite(value) ? null : "a number JSON cannot hold";
  if (Array.isArray(value)) return value.map(jsonProblem).find((p) => p !== null) ?? null;
  if (isTable(value)) return Object.values(value).map(jsonProblem).find((p) => p !== null) ?? null;
  return kindOf(value);
}

function compatibilityDate(d: Diagnostics, path: string, value: unknown): string | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    // An unquoted TOML date: Wrangler wants a string; the meaning is plain, so accept it.
    const iso = value.toISOString().slice(0, 10);
    d.warn(path, `a TOML date; write it as a string, compatibility_date = "${iso}"`);
    return iso;
  }
  const s = d.string(path, value, 'a date string "YYYY-MM-DD"');
  if (s === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const date = m === null ? null : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (date === null || date.toISOString().slice(0, 10) !== s) {
    d.error(path, `expected a date "YYYY-MM-DD", found ${describe(s)}`);
    return undefined;
  }
  return s;
}

function vars(d: Diagnostics, path: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isTable(value)) {
    // Only the kind: a string here is usually the vars themselves, written as text.
    d.error(path, `expected a table of names and values, found ${kindOf(value)}`);
    return undefined;
  }
  const t = value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) {
    // Values stay out of messages (CONVENTIONS.md): only their kind is named.
    const problem = jsonProblem(v);
    if (problem !== null) d.error(join(path, k), `expected a string or a JSON value, found ${problem}`);
    else out[k] = isTable(v) || Array.isArray(v) ? structuredClone(v) : v; // plain objects, not the parser's null-prototype tables
  }
  return out;
}

/** `[[kv_namespaces]]`; `vars` are the same table's, whose names a binding may not reuse. */
function kvNamespaces(d: Diagnostics, path: string, value: unknown, vars: Record<string, unknown> | undefined): WranglerKvNamespace[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    d.error(path, `expected an array of { binding, id } tables, found ${describe(value)}`);
    return [];
  }
  const out: WranglerKvNamespace[] = [];
  value.forEach((raw, i) => {
    const p = join(path, i);
    if (!isTable(raw)) return d.error(p, `expected a table { binding, id, preview_id }, found ${describe(raw)}`);
    for (const key of Object.keys(raw)) if (!["binding", "id", "preview_id", "remote"].includes(key)) d.warn(join(p, key), "unknown KV namespace key; ignored (expected binding, id, preview_id)");
    const binding = d.string(join(p, "binding"), raw.binding, "a binding name (a JavaScript identifier)");
    if (raw.binding === undefined) d.error(join(p, "binding"), "missing: expected the name the Worker reads it by, such as \"CACHE\"");
    else if (binding !== undefined && !BINDING.test(binding)) d.error(join(p, "binding"), `expected a JavaScript identifier, found ${describe(binding)}`);
    else if (binding !== undefined && out.some((n) => n.binding === binding)) d.error(join(p, "binding"), `"${binding}" is bound twice`);
    else if (binding !== undefined && vars !== undefined && Object.hasOwn(vars, binding)) d.error(join(p, "binding"), `"${binding}" is also a name in vars; a name is bound once`);
    const id = d.string(join(p, "id"), raw.id, "a namespace id string");
    const previewId = d.string(join(p, "preview_id"), raw.preview_id, "a namespace id string");
    if (binding === undefined || !BINDING.test(binding)) return;
    out.push({ binding, ...(id === undefined ? {} : { id }), ...(previewId === undefined ? {} : { previewId }) });
  });
  return out;
}

/**
 * `triggers.crons`, checked as the registry checks `config.crons` at publish
 * (origin/validate/config.ts): at most MAX_CRONS_PER_FUNCTION, each valid and
 * firing at least once, none repeated (whitespace aside).
 */
function crons(d: Diagnostics, path: string, value: unknown): string[] | undefined {
  const t = d.table(path, value);
  if (t === undefined) return undefined;
  for (const key of Object.keys(t)) if (key !== "crons") d.warn(join(path, key), "unknown trigger key; ignored (expected crons)");
  const at = join(path, "crons");
  const list = t.crons;
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    d.error(at, `expected an array of cron expressions such as "*/5 * * * *", found ${describe(list)}`);
    return [];
  }
  if (list.length > MAX_CRONS_PER_FUNCTION) d.error(at, `expected at most ${MAX_CRONS_PER_FUNCTION} cron expressions (verge's limit per function), found ${list.length}`);
  const seen = new Map<string, number>();
  const out: string[] = [];
  list.forEach((c: unknown, i) => {
    if (typeof c !== "string") return d.error(join(at, i), `expected a string, found ${describe(c)}`);
    const problem = cronProblem(c) ?? cronNeverFires(c);
    if (problem !== null) return d.error(join(at, i), `invalid cron expression ${describe(c)}: ${problem}`);
    // The registry stores a cron with its whitespace runs as one space: "0  4 * * *" is "0 4 * * *".
    const normal = c.trim().replace(/\s+/g, " ");
    const first = seen.get(normal);
    if (first !== undefined) return d.error(join(at, i), `${describe(c)} repeats ${join(at, first)}`);
    seen.set(normal, i);
    out.push(c);
  });
  return out;
}

function limits(d: Diagnostics, path: string, value: unknown): { cpuMs?: number } | undefined {
  const t = d.table(path, value);
  if (t === undefined) return undefined;
  for (const key of Object.keys(t)) if (key !== "cpu_ms") d.warn(join(path, key), "not supported by verge yet; ignored (verge reads cpu_ms)");
  if (t.cpu_ms === undefined) return {};
  const ms = t.cpu_ms;
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1 || ms > MAX_CPU_MS) {
    d.error(join(path, "cpu_ms"), `expected a whole number of milliseconds from 1 to ${MAX_CPU_MS}, found ${describe(ms)}`);
    return {};
  }
  return { cpuMs: ms };
}

function build(d: Diagnostics, path: string, value: unknown, dir: string): WranglerBuild | undefined {
  const t = d.table(path, value);
  if (t === undefined) return undefined;
  for (const key of Object.keys(t)) {
    if (key === "upload") d.warn(join(path, key), "a Wrangler 1 setting, no longer read (the format is detected from the code; the entry is main); ignored");
    else if (!["command", "cwd", "watch_dir"].includes(key)) d.warn(join(path, key), "unknown build key; ignored (expected command, cwd, watch_dir)");
  }
  const command = d.string(join(path, "command"), t.command, "a shell command");
  const cwd = d.string(join(path, "cwd"), t.cwd, "a directory");
  const watch = typeof t.watch_dir === "string" ? [t.watch_dir] : d.stringArray(join(path, "watch_dir"), t.watch_dir, "a directory or an array of directories");
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  // Wrangler's default watch_dir is ./src, and only matters with a command.
  const watchDir = watch ?? (command === undefined ? [] : ["src"]);
  return { ...(command === undefined ? {} : { command }), cwd: at(cwd ?? "."), watchDir: watchDir.map(at) };
}

/**
 * Validates the supported keys of one table. `dir` is the config file's
 * directory, against which `main` and `build.cwd` resolve.
 */
export function readFields(d: Diagnostics, base: string, t: Record<string, unknown>, dir: string): TableFields {
  const f: TableFields = {};
  const p = (key: string): string => join(base, key);
  if (t.name !== undefined) {
    const name = d.string(p("name"), t.name, `a Worker name: ${NAME_EXPECTED}`);
    if (name !== undefined && !NAME_PATTERN.test(name)) d.error(p("name"), `expected ${NAME_EXPECTED}, found ${describe(name)}`);
    else if (name !== undefined) f.name = name;
  }
  const main = d.string(p("main"), t.main, "the path of the Worker's entry module");
  if (main !== undefined) f.main = resolve(dir, main);
  const date = compatibilityDate(d, p("compatibility_date"), t.compatibility_date);
  if (date !== undefined) f.compatibilityDate = date;
  const flags = d.stringArray(p("compatibility_flags"), t.compatibility_flags);
  if (flags !== undefined) f.compatibilityFlags = flags;
  const v = vars(d, p("vars"), t.vars);
  if (v !== undefined) f.vars = v;
  const kv = kvNamespaces(d, p("kv_namespaces"), t.kv_namespaces, v);
  if (kv !== undefined) f.kvNamespaces = kv;
  const sv = services(d, p("services"), t.services, [...Object.keys(v ?? {}), ...(kv ?? []).map((n) => n.binding)]);
  if (sv !== undefined) f.services = sv;
  const d1 = d1Databases(d, p("d1_databases"), t.d1_databases, [...Object.keys(v ?? {}), ...(kv ?? []).map((n) => n.binding), ...(sv ?? []).map((s) => s.binding)]);
  if (d1 !== undefined) f.d1Databases = d1;
  const assets = readAssets(d, p("assets"), t.assets, dir, [...Object.keys(v ?? {}), ...(kv ?? []).map((n) => n.binding), ...(sv ?? []).map((s) => s.binding), ...(d1 ?? []).map((n) => n.binding)]);
  if (assets !== undefined) f.assets = assets;
  const r2 = r2Buckets(d, p("r2_buckets"), t.r2_buckets, [...Object.keys(v ?? {}), ...(kv ?? []).map((n) => n.binding), ...(sv ?? []).map((s) => s.binding), ...(d1 ?? []).map((x) => x.binding), ...(assets?.binding !== undefined ? [assets.binding] : [])]);
  if (r2 !== undefined) f.r2Buckets = r2;
  const routes = readRoutes(d, base, t);
  if (routes !== undefined) f.routes = routes;
  const c = crons(d, p("triggers"), t.triggers);
  if (c !== undefined) f.crons = c;
  const l = limits(d, p("limits"), t.limits);
  if (l !== undefined) f.limits = l;
  const b = build(d, p("build"), t.build, dir);
  if (b !== undefined) f.build = b;
  const rules = readRules(d, p("rules"), t.rules);
  if (rules !== undefined) f.rules = rules;
  return f;
}
