/**
 * Wrangler `routes` / `route`: strings such as `example.com/api/*`, or tables
 * `{ pattern, zone_name | zone_id, custom_domain }`. Cloudflare's rules: a
 * wildcard only at the start of the hostname and at the end of the path, no
 * query string; a custom domain is a bare hostname (the whole host runs the Worker).
 */
import { Diagnostics, describe, isTable, join } from "./diagnostics.ts";

export interface WranglerRoute {
  /** As written in the file. */
  pattern: string;
  /** Lowercase; may begin with `*` (any prefix, apex included) or `*.` (subdomains). */
  hostname: string;
  /** Path pattern beginning with `/`, `*` only at its end; null for a custom domain (every path). */
  path: string | null;
  zoneName?: string;
  zoneId?: string;
  customDomain: boolean;
}

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOST = new RegExp(`^(?:\\*\\.?)?${LABEL}(?:\\.${LABEL})*$`);
const PATH_CHARS = /^\/[A-Za-z0-9_\-.~!$&'()+,;=:@%/]*\*?$/;

function route(d: Diagnostics, path: string, raw: unknown): WranglerRoute | undefined {
  let pattern: string | undefined;
  const out: Partial<WranglerRoute> = { customDomain: false };
  if (typeof raw === "string") pattern = raw;
  else if (isTable(raw)) {
    for (const key of Object.keys(raw)) {
      if (!["pattern", "zone_name", "zone_id", "custom_domain"].includes(key)) d.warn(join(path, key), "unknown route key; ignored (expected pattern, zone_name, zone_id, custom_domain)");
    }
    pattern = d.string(join(path, "pattern"), raw.pattern, "a route pattern such as \"example.com/api/*\"");
    if (raw.pattern === undefined) d.error(join(path, "pattern"), "missing: expected a route pattern such as \"example.com/api/*\"");
    const zoneName = d.string(join(path, "zone_name"), raw.zone_name);
    const zoneId = d.string(join(path, "zone_id"), raw.zone_id);
    if (zoneName !== undefined) out.zoneName = zoneName;
    if (zoneId !== undefined) out.zoneId = zoneId;
    if (raw.custom_domain !== undefined) {
      if (typeof raw.custom_domain !== "boolean") d.error(join(path, "custom_domain"), `expected true or false, found ${describe(raw.custom_domain)}`);
      else out.customDomain = raw.custom_domain;
    }
  } else {
    d.error(path, `expected a route pattern string or a table { pattern, zone_name, custom_domain }, found ${describe(raw)}`);
    return undefined;
  }
  if (pattern === undefined) return undefined;
  const where = typeof raw === "string" ? path : join(path, "pattern");
  const bare = pattern.replace(/^https?:\/\//i, "");
  const slash = bare.indexOf("/");
  const hostname = (slash === -1 ? bare : bare.slice(0, slash)).toLowerCase();
  const rest = slash === -1 ? null : bare.slice(slash);
  const problems = d.errors.length;
  if (!HOST.test(hostname)) d.error(where, `expected a hostname such as "example.com" or "*.example.com" before the path, found ${describe(pattern)}`);
  if (out.customDomain) {
    if (hostname.startsWith("*")) d.error(where, `a custom domain cannot contain a wildcard, found ${describe(pattern)}`);
    if (rest !== null && rest !== "/") d.error(where, `a custom domain is a hostname without a path, found ${describe(pattern)}`);
    return d.errors.length > problems ? undefined : { ...out, pattern, hostname, path: null } as WranglerRoute;
  }
  if (rest !== null && rest.includes("?")) d.error(where, `a route pattern cannot contain a query string, found ${describe(pattern)}`);
  else if (rest !== null && rest.indexOf("*") !== -1 && rest.indexOf("*") !== rest.length - 1) d.error(where, `a wildcard is allowed only at the end of the path, found ${describe(pattern)}`);
  else if (rest !== null && !PATH_CHARS.test(rest)) d.error(where, `the path has characters a route cannot match, found ${describe(pattern)}`);
  if (d.errors.length > problems) return undefined;
  if (rest === null) d.warn(where, `${describe(pattern)} has no path, so it matches only "/"; write "${hostname}/*" for every path`);
  return { ...out, pattern, hostname, path: rest ?? "/" } as WranglerRoute;
}

/**
 * Validates `routes` (an array) or `route` (one), never both, as Wrangler does;
 * `route = ""` counts as absent.
 *
 * @example
 * readRoutes(d, "", { routes: ["example.com/api/*", { pattern: "shop.example.com", custom_domain: true }] });
 */
export function readRoutes(d: Diagnostics, base: string, table: Record<string, unknown>): WranglerRoute[] | undefined {
  const { routes } = table;
  let one = table.route;
  if (one === "") {
    // Wrangler 1 templates say `route = ""`; Wrangler ignores it with a warning, and so does verge.
    d.warn(join(base, "route"), "an empty string (Wrangler 1's placeholder for no route); ignored");
    one = undefined;
  }
  if (routes !== undefined && one !== undefined) {
    d.error(join(base, "route"), "expected either route or routes, not both");
    return undefined;
  }
  if (one !== undefined) {
    const r = route(d, join(base, "route"), one);
    return r === undefined ? [] : [r];
  }
  if (routes === undefined) return undefined;
  if (!Array.isArray(routes)) {
    d.error(join(base, "routes"), `expected an array of route patterns, found ${describe(routes)}`);
    return [];
  }
  const out: WranglerRoute[] = [];
  routes.forEach((r, i) => {
    const v = route(d, join(join(base, "routes"), i), r);
    if (v !== undefined) out.push(v);
  });
  return out;
}
