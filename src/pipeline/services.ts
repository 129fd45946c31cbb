/**
 * Service bindings on an edge node: `env.NAME.fetch()` of a Workers handler
 * runs the bound function of the same tenant in its own isolate, through the
 * node's runtime, never over the network. The version is the one the
 * request's applied state gives (the state the request took at its start, as
 * for the four events): the target's `live` alias, else its only alias
 * (`cronAliasOf`), through the alias's weighted routes. A quarantined version
 * is refused, as at an event.
 *
 * The target runs as a Workers handler with its own budgets; its own `fetch()`
 * goes out through the node's guarded fetch, its `caches` are the
 * distribution's, and its service calls continue the same chain: one request
 * runs at most {@link MAX_SERVICE_INVOCATIONS} Workers invocations (the first
 * and each service call, Workers' limit), which ends a service calling itself
 * or a cycle of services. A target that fails makes the caller's fetch()
 * reject with an Error naming the service.
 */
import { cronAliasOf, type FunctionAssociation } from "../shared/protocol.ts";
import { messageOf } from "./errors.ts";
import type { ServiceHost } from "../runtime/index.ts";
import type { Context, Flow } from "./flow.ts";
import { cachesFor } from "./caches.ts";
import { cfOf, outbound } from "./workers.ts";

/** Workers invocations per request: the first handler and each service binding call (Cloudflare's limit is 32). */
export const MAX_SERVICE_INVOCATIONS = 32;

/** The service calls one request made so far, whichever invocation made them. */
interface Chain {
  calls: number;
  /** Set when the chain reached the limit: every caller up the chain fails with this message (not one wrapped per level). */
  ended?: string;
}

const chains = new WeakMap<Flow, Chain>();

/** The service host of the invocations of `flow` (undefined when the pipeline runs none: the harness's are its own). */
export function serviceHostFor(ctx: Context, flow: Flow): ServiceHost | undefined {
  if (ctx.options.serviceBindings !== true) return undefined;
  let chain = chains.get(flow);
  if (chain === undefined) chains.set(flow, (chain = { calls: 0 }));
  return hostOf(ctx, flow, chain);
}

function hostOf(ctx: Context, flow: Flow, chain: Chain): ServiceHost {
  return async (call, request) => {
    const tenant = flow.distribution.tenant;
    const what = `env.${call.binding}.fetch() to service "${call.service}"`;
    if (chain.ended !== undefined) throw new Error(chain.ended);
    if (++chain.calls >= MAX_SERVICE_INVOCATIONS) {
      chain.ended = `${what}: this request has run ${MAX_SERVICE_INVOCATIONS} Workers invocations (the first and ${MAX_SERVICE_INVOCATIONS - 1} service binding calls), the limit per request; a service that calls itself, or a cycle of services, ends here`;
      throw new Error(chain.ended);
    }
    const t = flow.state.snapshot.tenants[tenant];
    if (t?.functions[call.service] === undefined) throw new Error(`${what}: tenant "${tenant}" has no function "${call.service}" on this edge node`);
    const prefix = `${call.service}/`;
    const aliases = Object.keys(t.aliases).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    const alias = cronAliasOf(aliases);
    if (alias === undefined) throw new Error(`${what}: the function has ${aliases.length === 0 ? "no alias" : `no alias "live" among ${aliases.join(", ")}`}, so no version to run`);
    const association: FunctionAssociation = { function: call.service, alias, includeBody: true };
    let response;
    try {
      const ref = ctx.options.state.resolve(flow.state, tenant, association, { headers: new Headers(request.headers), url: new URL(request.url) });
      if (ctx.options.quarantine.has(ref.digest)) throw new Error(`version ${ref.digest.slice(0, 12)}… is quarantined after repeated worker crashes`);
      const spec = await ctx.options.state.load(flow.state, ref);
      const r = await ctx.options.runtime.fetch(spec, request, {
        clientIp: flow.viewer.clientIp,
        cf: cfOf(ctx),
        subrequest: (req, options) => outbound(ctx, req, options),
        caches: cachesFor(ctx.options.cache, flow.distribution),
        service: hostOf(ctx, flow, chain),
      });
      if (r.type !== "response") throw new Error("it is a Lambda@Edge function that let the request continue; a service must answer with a Response");
      if (r.response.webSocket !== undefined || r.response.tunnel !== undefined) {
        // Nobody would ever attach to it: dropped now, or the target's invocation stays open for good.
        r.response.webSocket?.abort();
        throw new Error("it answered with a WebSocket, which verge does not carry through a service binding");
      }
      response = r.response;
    } catch (err) {
      throw new Error(chain.ended ?? `${what} failed: ${messageOf(err)}`);
    }
    return response;
  };
}
