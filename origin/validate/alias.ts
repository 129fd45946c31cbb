/** Alias documents: one version, or n-way weighted routes summing to 1, with an optional sticky key. */
import { DIGEST_PATTERN, type StickyKey, type WeightedRoute } from "../../src/shared/protocol.ts";
import { Diagnostics } from "./fields.ts";

export const MAX_ROUTES = 10;
const STICKY_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

export function validateStickyKey(d: Diagnostics, path: string, raw: unknown): StickyKey | null {
  if (raw === undefined || raw === null) return null;
  const obj = d.object(path, raw);
  if (obj === undefined) return null;
  d.known(path, obj, ["source", "name"]);
  const source = obj.source;
  if (source !== "cookie" && source !== "header" && source !== "query") {
    d.add(`${path}.source`, `expected "cookie", "header" or "query", found ${JSON.stringify(source) ?? "nothing"}`);
    return null;
  }
  const name = d.string(`${path}.name`, obj.name, STICKY_NAME, "a cookie, header or query parameter name");
  return name === undefined ? null : { source, name: source === "header" ? name.toLowerCase() : name };
}

/**
 * @param versionExists tells whether a digest is a version of the alias's function.
 */
export function validateAlias(raw: unknown, versionExists: (digest: string) => boolean): { routes: WeightedRoute[]; stickyKey: StickyKey | null; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  const routes: WeightedRoute[] = [];
  const obj = d.object("body", raw);
  if (obj === undefined) return { routes, stickyKey: null, diagnostics: d };
  d.known("", obj, ["version", "routes", "stickyKey"]);
  const stickyKey = validateStickyKey(d, "stickyKey", obj.stickyKey);
  if ((obj.version === undefined) === (obj.routes === undefined)) {
    d.add("version", "expected exactly one of `version` or `routes`");
    return { routes, stickyKey, diagnostics: d };
  }
  const raws: unknown[] = obj.version !== undefined ? [{ version: obj.version, weight: 1 }] : (d.array("routes", obj.routes, MAX_ROUTES) ?? []);
  if (obj.routes !== undefined && raws.length === 0) d.add("routes", "expected at least one route");
  const seen = new Set<string>();
  raws.forEach((r, i) => {
    const path = obj.version !== undefined ? "version" : `routes[${i}]`;
    const route = obj.version !== undefined ? (r as Record<string, unknown>) : d.object(path, r);
    if (route === undefined) return;
    if (obj.version === undefined) d.known(path, route, ["version", "weight"]);
    const vpath = obj.version !== undefined ? "version" : `${path}.version`;
    const version = d.string(vpath, route.version, DIGEST_PATTERN, "a version digest (64 lowercase hex characters)");
    const weight = route.weight;
    if (typeof weight !== "number" || !(weight > 0 && weight <= 1)) d.add(`${path}.weight`, `expected a number in (0, 1], found ${JSON.stringify(weight) ?? "nothing"}`);
    if (version === undefined) return;
    if (seen.has(version)) d.add(vpath, `version ${version.slice(0, 12)}… appears twice`);
    else if (!versionExists(version)) d.add(vpath, `version ${version.slice(0, 12)}… not found in this function`);
    seen.add(version);
    if (typeof weight === "number") routes.push({ version, weight });
  });
  const sum = routes.reduce((s, r) => s + r.weight, 0);
  if (d.ok && Math.abs(sum - 1) > 1e-9) d.add("routes", `weights must sum to 1, found ${sum}`);
  return { routes, stickyKey, diagnostics: d };
}
