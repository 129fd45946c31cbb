/**
 * Maps a Worker's wrangler `routes` onto an existing verge distribution, for
 * `verge publish --config ... --distribution <name>`:
 * - each route's hostname joins the distribution's hostnames (`*example.com`,
 *   which Cloudflare matches with or without a subdomain, adds `example.com`
 *   and `*.example.com`);
 * - a path `/*`, or a custom domain (the whole host), puts the Worker on the
 *   default behavior's viewer-request;
 * - any other path becomes a cache behavior with that path pattern (the
 *   default behavior's origin, cache key and TTLs) running the Worker at
 *   viewer-request, placed before the first behavior that would shadow it; a
 *   behavior with the same pattern keeps its settings and gets the Worker.
 * Behaviors belong to the distribution, so a path applies to all its hostnames.
 */
import type { CacheBehavior, Distribution, FunctionAssociation } from "../shared/protocol.ts";
import { covers, normalize } from "../shared/path-pattern.ts";
import type { WranglerRoute } from "../../wrangler-compat/index.ts";

/** What the registry's PUT takes. */
export type DistributionBody = Pick<Distribution, "hostnames" | "origins" | "behaviors" | "defaultBehavior">;

export interface AttachResult {
  body: DistributionBody;
  /** Things the user should know: an association replaced, hostnames that share behaviors. */
  notes: string[];
}

function describeAssociation(a: FunctionAssociation): string {
  return `${a.function}${a.alias !== undefined ? `@${a.alias}` : `@${a.version?.slice(0, 12)}…`}`;
}

/**
 * @example
 * const { body } = attachRoutes(current, [{ pattern: "shop.example.com/api/*", hostname: "shop.example.com", path: "/api/*", customDomain: false }], { function: "api", alias: "live", includeBody: false });
 * body.behaviors[0].pathPattern; // "/api/*"
 */
export function attachRoutes(current: DistributionBody, routes: WranglerRoute[], association: FunctionAssociation): AttachResult {
  const body: DistributionBody = structuredClone({ hostnames: current.hostnames, origins: current.origins, behaviors: current.behaviors, defaultBehavior: current.defaultBehavior });
  const notes: string[] = [];
  const replaced = (where: string, previous: FunctionAssociation | undefined): void => {
    if (previous !== undefined && (previous.function !== association.function || previous.alias !== association.alias || previous.version !== association.version)) {
      notes.push(`${where}: viewer-request ran ${describeAssociation(previous)}; now ${describeAssociation(association)}`);
    }
  };
  for (const route of routes) {
    const hosts = route.hostname.startsWith("*") && !route.hostname.startsWith("*.") ? [route.hostname.slice(1), `*.${route.hostname.slice(1)}`] : [route.hostname];
    for (const h of hosts) if (!body.hostnames.includes(h)) body.hostnames.push(h);
    if (route.path === null || normalize(route.path) === "/*") {
      replaced("default behavior", body.defaultBehavior.functions["viewer-request"]);
      body.defaultBehavior.functions["viewer-request"] = { ...association };
      continue;
    }
    const same = body.behaviors.find((b) => normalize(b.pathPattern) === normalize(route.path!));
    if (same !== undefined) {
      replaced(`behavior "${same.pathPattern}"`, same.functions["viewer-request"]);
      same.functions["viewer-request"] = { ...association };
      continue;
    }
    const { originId, cacheKey, ttl } = body.defaultBehavior;
    const behavior: CacheBehavior = { pathPattern: route.path, originId, cacheKey: structuredClone(cacheKey), ttl: { ...ttl }, functions: { "viewer-request": { ...association } } };
    const shadow = body.behaviors.findIndex((b) => covers(b.pathPattern, route.path!));
    if (shadow === -1) body.behaviors.push(behavior);
    else body.behaviors.splice(shadow, 0, behavior);
  }
  const hosts = new Set(routes.map((r) => r.hostname));
  if (hosts.size > 1 && routes.some((r) => r.path !== null && normalize(r.path) !== "/*")) {
    notes.push(`routes name ${hosts.size} hostnames: a distribution's behaviors apply to all of its hostnames, so each path runs the Worker on every one of them`);
  }
  return { body, notes };
}

/** JSON with object keys sorted: to tell whether a document the registry normalized would change. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
