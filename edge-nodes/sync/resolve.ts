/**
 * Which version an association runs for one request (DESIGN.md §6; issue 4):
 * a pinned version, or the alias's weighted routes. With a sticky key the
 * request's value hashes to a point in [0, 1) and the route whose cumulative
 * weight covers it wins, so one user stays on one version while the weights
 * stay put (and moves only as far as a weight change demands); without a
 * value the pick is random.
 */
import { createHash } from "node:crypto";
import { VergeError } from "../../src/shared/errors.ts";
import type { FunctionAssociation, StickyKey, WeightedRoute } from "../../src/shared/protocol.ts";
import type { AppliedState, StickyInput, VersionRef } from "../types.ts";

/** The value of `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
  }
  return undefined;
}

/** The request's value for a sticky key; undefined (or empty) means no value. */
export function stickyValue(key: StickyKey, request: StickyInput): string | undefined {
  let value: string | null | undefined;
  if (key.source === "cookie") value = cookieValue(request.headers.get("cookie"), key.name);
  else if (key.source === "header") value = request.headers.get(key.name);
  else value = request.url.searchParams.get(key.name);
  return value === null || value === undefined || value === "" ? undefined : value;
}

/**
 * A stable point in [0, 1) for `value`, salted with the alias so the canary
 * users of one function are not the canary users of every other.
 */
export function stickyPoint(salt: string, value: string): number {
  const digest = createHash("sha256").update(salt).update("\u0000").update(value).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The route whose cumulative weight first exceeds `point`; the last route absorbs rounding. */
export function pickRoute(routes: readonly WeightedRoute[], point: number): WeightedRoute {
  let total = 0;
  for (const route of routes) {
    total += route.weight;
    if (point < total) return route;
  }
  return routes[routes.length - 1]!;
}

function notFound(message: string): VergeError {
  return new VergeError("ERR_FUNCTION_NOT_FOUND", message);
}

/**
 * @example
 * const ref = resolveVersion(state, "acme", { function: "auth", alias: "live", includeBody: false }, { headers, url });
 * // { tenant: "acme", function: "auth", digest: "9f2c…" }
 */
export function resolveVersion(state: AppliedState, tenant: string, association: FunctionAssociation, request: StickyInput, random: () => number = Math.random): VersionRef {
  const fn = association.function;
  const where = `tenant "${tenant}" at seq ${state.seq}`;
  const t = state.snapshot.tenants[tenant];
  if (t === undefined) throw notFound(`function "${fn}": ${where} is not in this node's applied state`);
  if (t.functions[fn] === undefined) throw notFound(`function "${fn}" is not in ${where}: it was deleted, or the node has not applied its creation yet`);
  if (association.version !== undefined) {
    if (t.versions[`${fn}/${association.version}`] === undefined) throw notFound(`version ${association.version.slice(0, 12)}… of function "${fn}" is not in ${where}`);
    return { tenant, function: fn, digest: association.version };
  }
  const aliasName = association.alias ?? "";
  const alias = t.aliases[`${fn}/${aliasName}`];
  if (alias === undefined || alias.routes.length === 0) throw notFound(`alias "${aliasName}" of function "${fn}" is not in ${where}: expected an alias with at least one route`);
  let route = alias.routes[0]!;
  if (alias.routes.length > 1) {
    const key = association.stickyKey ?? alias.stickyKey;
    const value = key === null || key === undefined ? undefined : stickyValue(key, request);
    route = pickRoute(alias.routes, value === undefined ? random() : stickyPoint(`${tenant}/${fn}/${aliasName}`, value));
  }
  return { tenant, function: fn, digest: route.version };
}
