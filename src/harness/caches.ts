/**
 * The Workers Cache API of the harness's functions when no pipeline brings one
 * (HostServices.caches): without `upstream`, and for Lambda@Edge events and
 * scheduled handlers. One response cache in the child process's memory, so one
 * per `Verge` instance (a crash, or an `outbound` change, starts it empty);
 * `caches.default` and `caches.open(name)` keyed by the URL alone. With
 * `upstream`, a Workers handler's `caches.default` is its distribution's cache
 * instead (src/pipeline/caches.ts), as on an edge node.
 */
import type { CacheApiHost } from "../runtime/index.ts";
import { createCacheApi, createMemoryCacheStore, createResponseCache, tenantScope } from "../pipeline/cache/index.ts";
import { LOCAL_TENANT } from "./distribution.ts";

export function createLocalCaches(): CacheApiHost {
  return createCacheApi({ cache: createResponseCache({ store: createMemoryCacheStore() }), scope: tenantScope(LOCAL_TENANT) });
}
