/**
 * `Vary` (RFC 9111 §4.1): an entry stores the request's values of the header
 * names its response listed, and answers only requests with the same values.
 * One cache key may hold several such variants; each is its own record.
 */
import { createHash } from "node:crypto";
import type { HeaderList } from "../../shared/http.ts";

/** What the cache reads request headers through: a `Headers`, or {@link listReader} over a header list. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** Leading and trailing HTTP whitespace (tab, space, CR, LF), which `Headers` strips from values (Fetch "normalize"). */
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/**
 * `Headers.get` over a list with lowercase names: the lines of `name` joined
 * with ", ", each value normalised as `Headers` does; null when there is none.
 */
export function listReader(lines: HeaderList): HeaderSource {
  return {
    get(name) {
      let out: string | null = null;
      for (const [n, v] of lines) {
        if (n !== name) continue;
        const value = v.replace(HTTP_WHITESPACE, "");
        out = out === null ? value : `${out}, ${value}`;
      }
      return out;
    },
  };
}

/** How the cache reads a serve request's headers: from its list when it has one. */
export function requestHeaders(request: { readonly headers: Headers; readonly lines?: HeaderList }): HeaderSource {
  return request.lines !== undefined ? listReader(request.lines) : request.headers;
}

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
export function varyValues(headers: HeaderSource, names: readonly string[]): Array<string | null> {
  return names.map((name) => {
    const value = headers.get(name);
    return value === null ? null : value.split(",").map((v) => v.trim()).join(",");
  });
}

/** True when `headers` carries the same values an entry was stored with. */
export function varyMatches(headers: HeaderSource, names: readonly string[], stored: ReadonlyArray<string | null>): boolean {
  if (names.length === 0) return true;
  if (names.includes("*")) return false;
  const now = varyValues(headers, names);
  return now.every((v, i) => v === stored[i]);
}

/** A short stable id for one variant of a key ("-" when the response has no Vary). */
export function variantId(names: readonly string[], values: ReadonlyArray<string | null>): string {
  if (names.length === 0) return "-";
  return createHash("sha256").update(JSON.stringify([names, values])).digest("hex").slice(0, 24);
}
