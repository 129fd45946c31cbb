/**
 * The cache key, with CloudFront cache key policy semantics: distribution,
 * behavior, host and path always; query strings, headers and cookies as the
 * policy's {@link KeyList}s say. Query string and cookie names are
 * case-sensitive, header names are not; the order of query parameters and
 * cookies does not matter.
 */
import { createHash } from "node:crypto";
import type { KeyList } from "../../shared/protocol.ts";
import type { CacheKeyInput } from "../types.ts";

/** Bumped when the key's make-up changes, so old entries stop matching. */
const KEY_FORMAT = "verge-cache-key/1";

function selected(list: KeyList, name: string, caseInsensitive: boolean): boolean {
  switch (list.behavior) {
    case "none":
      return false;
    case "all":
      return true;
    case "allowList":
    case "allExcept": {
      const inList = caseInsensitive ? list.items.some((i) => i.toLowerCase() === name) : list.items.includes(name);
      return list.behavior === "allowList" ? inList : !inList;
    }
  }
}

const byPair = (a: [string, string], b: [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Query parameters in the key, decoded, sorted by name then value. */
export function keyQuery(url: URL, list: KeyList): Array<[string, string]> {
  if (list.behavior === "none") return [];
  return [...url.searchParams].filter(([name]) => selected(list, name, false)).sort(byPair);
}

/**
 * Headers in the key, lowercased and sorted. For an allow list every listed
 * name appears, absent ones as null, so "absent" and "empty" differ.
 */
export function keyHeaders(headers: Headers, list: KeyList): Array<[string, string | null]> {
  if (list.behavior === "none") return [];
  if (list.behavior === "allowList") {
    const names = [...new Set(list.items.map((i) => i.toLowerCase()))].sort();
    return names.map((n) => [n, headers.get(n)]);
  }
  // Headers iterates lowercased names in sorted order, repeats combined.
  return [...headers].filter(([name]) => name !== "cookie" && selected(list, name, true));
}

/** Cookies of a `Cookie` header: `name=value` pairs split on `;`. */
export function parseCookies(header: string | null): Array<[string, string]> {
  if (header === null) return [];
  const out: Array<[string, string]> = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name === "") continue;
    out.push([name, eq === -1 ? "" : part.slice(eq + 1).trim()]);
  }
  return out;
}

/** Cookies in the key, sorted by name then value. */
export function keyCookies(headers: Headers, list: KeyList): Array<[string, string]> {
  if (list.behavior === "none") return [];
  return parseCookies(headers.get("cookie"))
    .filter(([name]) => selected(list, name, false))
    .sort(byPair);
}

/**
 * The key as hex sha256 over the parts. The distribution and path are kept in
 * each stored entry (see records.ts), so purges never need to reverse the hash.
 *
 * @example
 * cacheKey({ distribution: "acme/site", behavior: "default", host: "example.com", url: new URL("https://example.com/a?b=1&a=2"),
 *   headers: new Headers(), policy: { queryStrings: { behavior: "all", items: [] }, headers: { behavior: "none", items: [] }, cookies: { behavior: "none", items: [] } } })
 */
export function cacheKey(input: CacheKeyInput): string {
  const parts = [
    KEY_FORMAT,
    input.distribution,
    input.behavior,
    input.host.toLowerCase(),
    input.url.pathname,
    keyQuery(input.url, input.policy.queryStrings),
    keyHeaders(input.headers, input.policy.headers),
    keyCookies(input.headers, input.policy.cookies),
  ];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}
