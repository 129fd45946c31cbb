/**
 * Checks a header object returned by a function: its shape (lowercase names ->
 * arrays of `{ key?, value }`), and the Lambda@Edge rules of rules.ts compared
 * with the headers the function was given.
 */
import { canonicalHeaderKey, setHeader } from "./headers.ts";
import { field, found, headerField, isPlainObject, quote, quoteValues } from "./describe.ts";
import { INVALID_HEADER_VALUE, LOWERCASE_TOKEN, isDisallowedHeader, isReadOnlyHeader } from "./rules.ts";
import type { CloudFrontEventType, CloudFrontHeaders } from "./types.ts";

export interface HeaderCheckContext {
  eventType: CloudFrontEventType;
  /**
   * The headers the function was given, for the disallowed and read-only rules.
   * Empty for a response generated at a request event: every header in it is added.
   */
  original: CloudFrontHeaders;
  /** When false, a missing header object counts as `{}`. */
  required: boolean;
  /** Apply the read-only rules (not for an origin's custom headers). */
  readOnlyRules: boolean;
}

/**
 * Returns the headers with every `key` filled in, or undefined when the object
 * itself is unusable. Each problem found is pushed onto `problems`.
 */
export function checkHeaders(path: string, raw: unknown, context: HeaderCheckContext, problems: string[]): CloudFrontHeaders | undefined {
  if (raw === undefined && !context.required) raw = {};
  if (!isPlainObject(raw)) {
    problems.push(`${path}: expected an object mapping lowercase header names to arrays of { key, value }, found ${found(raw)}`);
    return undefined;
  }
  const headers: CloudFrontHeaders = {};
  // Names already reported for their shape: the rules skip them, so one mistake is one problem.
  let malformed: Set<string> | null = null;
  // Plain loops, and field paths worded only when there is a problem: this runs on every result.
  for (const name of Object.keys(raw)) {
    const entries = raw[name];
    if (!LOWERCASE_TOKEN.test(name)) {
      const hint = LOWERCASE_TOKEN.test(name.toLowerCase()) ? ` (use ${quote(name.toLowerCase())})` : "";
      problems.push(`${headerField(path, name)}: expected a lowercase header name${hint}, found ${quote(name)}`);
      (malformed ??= new Set()).add(name.toLowerCase());
      continue;
    }
    const checked = checkEntries(path, name, entries, problems);
    if (checked !== undefined) setHeader(headers, name, checked);
    else (malformed ??= new Set()).add(name);
  }
  checkRules(path, headers, malformed, context, problems);
  return headers;
}

function checkEntries(path: string, name: string, entries: unknown, problems: string[]): CloudFrontHeaders[string] | undefined {
  if (!Array.isArray(entries)) {
    problems.push(`${headerField(path, name)}: expected an array of { key, value } objects, found ${found(entries)}`);
    return undefined;
  }
  const out: CloudFrontHeaders[string] = [];
  let ok = true;
  for (let index = 0; index < entries.length; index++) {
    if (!(index in entries)) continue; // a hole, which forEach would skip
    const entry: unknown = entries[index];
    if (!isPlainObject(entry)) {
      problems.push(`${field(headerField(path, name), index)}: expected an object { key, value }, found ${found(entry)}`);
      ok = false;
      continue;
    }
    const { key, value } = entry;
    if (typeof value !== "string") {
      problems.push(`${field(headerField(path, name), index)}.value: expected a string, found ${found(value)}`);
      ok = false;
    } else if (INVALID_HEADER_VALUE.test(value)) {
      problems.push(`${field(headerField(path, name), index)}.value: expected a header value without CR, LF or NUL, found ${quote(value)}`);
      ok = false;
    }
    if (key !== undefined && (typeof key !== "string" || (key !== name && key.toLowerCase() !== name))) {
      problems.push(`${field(headerField(path, name), index)}.key: expected the header name ${quote(name)} in any letter case, found ${found(key)}`);
      ok = false;
    }
    if (ok) out.push({ key: typeof key === "string" ? key : canonicalHeaderKey(name), value: value as string });
  }
  return ok ? out : undefined;
}

function checkRules(path: string, headers: CloudFrontHeaders, malformed: ReadonlySet<string> | null, context: HeaderCheckContext, problems: string[]): void {
  const { eventType, original } = context;
  for (const name of Object.keys(headers)) {
    if (!isDisallowedHeader(name, eventType)) continue;
    const entries = headers[name]!;
    // A disallowed header the function was shown (only possible with a hand-made event) may stay as it was.
    if (sameValues(valuesOf(original, name), entries.map((e) => e.value))) continue;
    problems.push(
      `${headerField(path, name)}: ${displayName(name, entries, original)} is a disallowed header at ${eventType}; ` +
        `expected it absent, found ${quoteValues(entries.map((e) => e.value))}`,
    );
  }
  if (!context.readOnlyRules) return;
  // Every name of either object once: the original's first, then those only the result has.
  const originalNames = Object.keys(original);
  const resultNames = Object.keys(headers);
  for (let i = 0; i < originalNames.length + resultNames.length; i++) {
    const name = i < originalNames.length ? originalNames[i]! : resultNames[i - originalNames.length]!;
    if (i >= originalNames.length && Object.hasOwn(original, name)) continue;
    if (malformed?.has(name) === true || !isReadOnlyHeader(name, eventType)) continue;
    const before = valuesOf(original, name);
    const after = valuesOf(headers, name);
    if (sameValues(before, after)) continue;
    const label = `${headerField(path, name)}: ${displayName(name, headers[name] ?? [], original)} is read-only at ${eventType}`;
    if (before === undefined) problems.push(`${label} and cannot be added; expected it absent, found ${quoteValues(after!)}`);
    else if (after === undefined) problems.push(`${label} and cannot be removed; expected ${quoteValues(before)} (unchanged), found nothing`);
    else problems.push(`${label} and cannot be changed; expected ${quoteValues(before)} (unchanged), found ${quoteValues(after)}`);
  }
}

function valuesOf(headers: CloudFrontHeaders, name: string): string[] | undefined {
  return Object.hasOwn(headers, name) ? headers[name]!.map((e) => e.value) : undefined;
}

function sameValues(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function displayName(name: string, entries: CloudFrontHeaders[string], original: CloudFrontHeaders): string {
  const key = entries[0]?.key ?? (Object.hasOwn(original, name) ? original[name]![0]?.key : undefined);
  return quote(key ?? canonicalHeaderKey(name));
}
