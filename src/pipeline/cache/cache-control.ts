/**
 * `Cache-Control` parsing (RFC 9111 §5.2): directive names are
 * case-insensitive, values are tokens or quoted strings, repeated headers are
 * one comma-separated list. The first occurrence of a directive wins.
 */

export type Directives = ReadonlyMap<string, string | true>;

/**
 * @example
 * parseCacheControl('public, max-age=60, no-cache="set-cookie"').get("max-age") // "60"
 */
export function parseCacheControl(value: string | null): Directives {
  const out = new Map<string, string | true>();
  if (value === null) return out;
  // Split on commas outside quoted strings.
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  for (const part of parts) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === "" || out.has(name)) continue;
    if (eq === -1) {
      out.set(name, true);
      continue;
    }
    let arg = part.slice(eq + 1).trim();
    if (arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"')) arg = arg.slice(1, -1);
    out.set(name, arg);
  }
  return out;
}

/**
 * A delta-seconds directive (`max-age=60`) as a non-negative integer, or
 * undefined when absent or malformed (RFC 9111 §1.2.2: a malformed value is
 * ignored; a huge one saturates).
 */
export function deltaSeconds(directives: Directives, name: string): number | undefined {
  const raw = directives.get(name);
  if (typeof raw !== "string" || !/^\d+$/.test(raw)) return undefined;
  return Math.min(Number(raw), 2 ** 31);
}

/** An HTTP date in milliseconds, or undefined when it does not parse. */
export function httpDate(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
