/**
 * The harness's child program (client.ts `program`): the runtime's child-process
 * host, extended so that fetch calls of a function registered with a route run
 * through the edge pipeline in this process (pipeline-host.ts), and functions
 * get a Cache API in this process's memory when no pipeline brings one
 * (caches.ts). Those modules load on first use, so a harness without
 * `upstream` starts as fast as the plain host.
 */
import type { CacheApiHost } from "../runtime/index.ts";
import { extendHost, type HostExtension } from "../runtime/child-host/child.ts";

let host: Promise<HostExtension> | undefined;
const pipelineHost = (): Promise<HostExtension> => (host ??= import("./pipeline-host.ts").then((m) => m.createPipelineHost()));

let made: Promise<CacheApiHost> | undefined;
const local = (): Promise<CacheApiHost> => (made ??= import("./caches.ts").then((m) => m.createLocalCaches()));
const caches: CacheApiHost = {
  match: async (cache, request) => (await local()).match(cache, request),
  put: async (cache, request, response) => (await local()).put(cache, request, response),
  delete: async (cache, request) => (await local()).delete(cache, request),
};

extendHost({
  fetch: async (call) => (await pipelineHost()).fetch(call),
  unregister: (fn) => void host?.then((h) => h.unregister?.(fn)),
  caches: () => caches,
});
