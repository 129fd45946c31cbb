/**
 * The Workers Cache API of functions that run for a distribution's requests
 * (cache/cache-api.ts): `caches.default` is the distribution's own cache, the
 * one its traffic fills, with the same key for the same request (distribution,
 * the behavior its path matches, host without port, the behavior's cache key
 * policy over the URL and the request's headers). So a function finds what its
 * distribution's traffic stored and its traffic is answered with what the
 * function put, as on Cloudflare, and purges by path or `Cache-Tag` reach both.
 * `caches.open(name)` is the tenant's cache of that name (cache/cache-api.ts).
 */
import type { CacheApiHost } from "../runtime/index.ts";
import { matchPathPattern } from "../shared/path-pattern.ts";
import type { Distribution } from "../shared/protocol.ts";
import { createCacheApi, namedScope, type CacheApiScope } from "./cache/cache-api.ts";
import { hostName } from "./hardening.ts";
import type { ResponseCache } from "./types.ts";

/** Where `caches.default` keeps a request's entry for `distribution`: the key its traffic uses. */
export function distributionScope(cache: Pick<ResponseCache, "key">, distribution: Distribution): CacheApiScope {
  const id = `${distribution.tenant}/${distribution.name}`;
  return {
    default(url, headers) {
      const behavior = distribution.behaviors.find((b) => matchPathPattern(b.pathPattern, url.pathname));
      const chosen = behavior ?? distribution.defaultBehavior;
      const key = cache.key({ distribution: id, behavior: behavior?.pathPattern ?? "default", host: hostName(url.host), url, headers, policy: chosen.cacheKey });
      return { distribution: id, key };
    },
    named: (name) => namedScope(distribution.tenant, name),
  };
}

/** One Cache API per cache and distribution object (a new applied state brings new ones). */
const made = new WeakMap<ResponseCache, WeakMap<Distribution, CacheApiHost>>();

/**
 * The `caches` of a function invoked for `distribution`'s requests, over the
 * pipeline's response cache; undefined when that cache has no direct API (a
 * test double), and the runtime's default applies.
 */
export function cachesFor(cache: ResponseCache, distribution: Distribution): CacheApiHost | undefined {
  const { get, put } = cache;
  const remove = cache.delete;
  if (get === undefined || put === undefined || remove === undefined) return undefined;
  let byDistribution = made.get(cache);
  if (byDistribution === undefined) made.set(cache, (byDistribution = new WeakMap()));
  let host = byDistribution.get(distribution);
  if (host === undefined) {
    const direct = { get: get.bind(cache), put: put.bind(cache), delete: remove.bind(cache), maxObjectBytes: (cache as { maxObjectBytes?: number }).maxObjectBytes };
    host = createCacheApi({ cache: direct as Parameters<typeof createCacheApi>[0]["cache"], scope: distributionScope(cache, distribution) });
    byDistribution.set(distribution, host);
  }
  return host;
}
