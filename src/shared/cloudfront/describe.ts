/**
 * Wording for problem messages: field paths in the event's own notation and short
 * descriptions of what was found. Values are cut short so a message never carries
 * a whole body or a long header value.
 */

/** `Records[0].cf.request` plus a property: `.uri`, or `["x-cache"]` for header names. */
export function field(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Path of header `name` under `headersPath`, always in bracket form. */
export function headerField(headersPath: string, name: string): string {
  return `${headersPath}[${JSON.stringify(name)}]`;
}

const MAX_SHOWN = 60;

/** "the string \"abc\"", "the number 7", "an object", "an array of 2", "nothing" ... */
export function found(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${quote(value)}`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return `the ${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return value.length === 1 ? "an array of 1 element" : `an array of ${value.length} elements`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  return "an object";
}

/** JSON-quoted, cut at 60 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

/** Header values as a short list for messages: `["a", "b"]`. */
export function quoteValues(values: readonly string[]): string {
  return values.length === 0 ? "no value" : `[${values.map(quote).join(", ")}]`;
}

/**
 * An object literal (or a null-prototype object), from this realm or another one:
 * results copied out of an isolate or a `node:vm` context have their own
 * `Object.prototype`, which is recognised by having no prototype itself.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}
