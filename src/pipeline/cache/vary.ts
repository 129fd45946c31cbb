/**
 * `Vary` (RFC 9111 §4.1): an entry stores the request's values of the header
 * names its response listed, and answers only requests with the same values.
 * One cache key may hold several such variants; each is its own record.
 */
import { createHash } from "node:crypto";

/** Lowercased, deduplicated, sorted names of a `Vary` header ("*" kept as is). */
export function varyNames(vary: string | null): string[] {
  if (vary === null) return [];
  const names = vary
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== "");
  return [...new Set(names)].sort();
}

/**
 * The request's values for `names`; null when the header is absent. Whitespace
 * around values and after commas is normalised (RFC 9111 §4.1 allows it).
 */
export function varyValues(headers: Headers, names: readonly string[]): Array<string | null> {
  return names.map((name) => {
    const value = headers.get(name);
    return value === null ? null : value.split(",").map((v) => v.trim()).join(",");
  });
}

/** True when `headers` carries the same values an entry was stored with. */
export function varyMatches(headers: Headers, names: readonly string[], stored: ReadonlyArray<string | null>): boolean {
  if (names.includes("*")) return false;
  const now = varyValues(headers, names);
  return now.every((v, i) => v === stored[i]);
}

/** A short stable id for one variant of a key ("-" when the response has no Vary). */
export function variantId(names: readonly string[], values: ReadonlyArray<string | null>): string {
  if (names.length === 0) return "-";
  return createHash("sha256").update(JSON.stringify([names, values])).digest("hex").slice(0, 24);
}
