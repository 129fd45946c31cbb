/**
 * Diagnostics of a wrangler config: every problem is collected, then reported
 * at once (CONVENTIONS.md "Errors"; workers-sdk `config/diagnostics.ts`).
 * A path names the key as the file spells it: `env.staging.routes[1].pattern`.
 */
import { VergeError } from "../src/shared/errors.ts";

export interface WranglerDiagnostic {
  severity: "error" | "warning";
  /** Key path in the file, e.g. `triggers.crons[0]`; "" for the file itself. */
  path: string;
  message: string;
}

/** A short, safe description of a value found in the file (strings quoted and cut). */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (value instanceof Date) return `a date (${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object") return "a table";
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return `${typeof value} ${String(value)}`;
}

/** The type of a value only: for vars and secrets, whose values never go into a message. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Date) return "a date";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "a table" : `a ${typeof value}`;
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Joins a key path the way a reader of the file writes it. */
export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return path === "" ? k : `${path}.${k}`;
}

export class Diagnostics {
  readonly list: WranglerDiagnostic[] = [];

  error(path: string, message: string): void {
    this.list.push({ severity: "error", path, message });
  }

  warn(path: string, message: string): void {
    this.list.push({ severity: "warning", path, message });
  }

  get errors(): WranglerDiagnostic[] {
    return this.list.filter((d) => d.severity === "error");
  }

  get warnings(): WranglerDiagnostic[] {
    return this.list.filter((d) => d.severity === "warning");
  }

  /** A string, or an error naming what was expected; undefined when absent. */
  string(path: string, value: unknown, expected = "a string"): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      this.error(path, `expected ${expected}, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  table(path: string, value: unknown): Record<string, unknown> | undefined {
    if (value === undefined) return undefined;
    if (!isTable(value)) {
      this.error(path, `expected a table, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  stringArray(path: string, value: unknown, expected = "an array of strings"): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.error(path, `expected ${expected}, found ${describe(value)}`);
      return undefined;
    }
    const out: string[] = [];
    value.forEach((v, i) => {
      if (typeof v === "string") out.push(v);
      else this.error(join(path, i), `expected a string, found ${describe(v)}`);
    });
    return out;
  }
}

/** Formats one diagnostic for a terminal: `path: message`. */
export function formatDiagnostic(d: WranglerDiagnostic): string {
  return d.path === "" ? d.message : `${d.path}: ${d.message}`;
}

/**
 * Thrown once, at the boundary, with every error found (and the warnings).
 *
 * @example
 * try { await readWranglerConfig("wrangler.toml") } catch (err) {
 *   if (hasCode(err, "ERR_WRANGLER_CONFIG")) for (const d of err.diagnostics) console.error(d.path, d.message);
 * }
 */
export class WranglerConfigError extends VergeError {
  readonly diagnostics: WranglerDiagnostic[];

  constructor(file: string, diagnostics: WranglerDiagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const lines = errors.map((d) => `  - ${formatDiagnostic(d)}`).join("\n");
    super("ERR_WRANGLER_CONFIG", `${file} has ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${lines}`, { details: { file, diagnostics } });
    this.diagnostics = diagnostics;
  }
}
