/** Small pure helpers for validating JSON documents while collecting every problem with its field path. */
import type { FieldDiagnostic } from "../../src/shared/protocol.ts";

export class Diagnostics {
  readonly list: FieldDiagnostic[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get ok(): boolean {
    return this.list.length === 0;
  }

  /** A plain object, or undefined (with a diagnostic unless missing and optional). */
  object(path: string, value: unknown, optional = false): Record<string, unknown> | undefined {
    if (value === undefined && optional) return undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.add(path, `expected an object, found ${describe(value)}`);
      return undefined;
    }
    return value as Record<string, unknown>;
  }

  /** Reports fields other than `allowed`. */
  known(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(path === "" ? key : `${path}.${key}`, `unknown field; expected one of ${allowed.join(", ")}`);
    }
  }

  integer(path: string, value: unknown, min: number, max: number, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.add(path, `expected an integer from ${min} to ${max}, found ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  string(path: string, value: unknown, pattern: RegExp | null, expected: string): string | undefined {
    if (typeof value !== "string" || (pattern !== null && !pattern.test(value))) {
      this.add(path, `expected ${expected}, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  array(path: string, value: unknown, max: number, optional = false): unknown[] | undefined {
    if (value === undefined && optional) return undefined;
    if (!Array.isArray(value)) {
      this.add(path, `expected an array, found ${describe(value)}`);
      return undefined;
    }
    if (value.length > max) this.add(path, `expected at most ${max} entries, found ${value.length}`);
    return value.slice(0, max);
  }

  /** A record of string -> string with keys matching `keyPattern`. */
  stringMap(path: string, value: unknown, keyPattern: RegExp, keyExpected: string, maxEntries: number, maxValueBytes: number): Record<string, string> {
    const out: Record<string, string> = {};
    const obj = this.object(path, value, true);
    if (obj === undefined) return out;
    const entries = Object.entries(obj);
    if (entries.length > maxEntries) this.add(path, `expected at most ${maxEntries} entries, found ${entries.length}`);
    for (const [k, v] of entries.slice(0, maxEntries)) {
      if (!keyPattern.test(k)) this.add(`${path}.${short(k)}`, `invalid name: expected ${keyExpected}`);
      else if (typeof v !== "string") this.add(`${path}.${k}`, `expected a string, found ${describe(v)}`);
      else if (Buffer.byteLength(v) > maxValueBytes) this.add(`${path}.${k}`, `expected at most ${maxValueBytes} bytes, found ${Buffer.byteLength(v)}`);
      else out[k] = v;
    }
    return out;
  }
}

function short(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/** A short description of a value for messages; strings are cut, never echoed whole. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(short(value));
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
