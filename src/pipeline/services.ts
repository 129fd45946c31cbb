/**
 * Service bindings on an edge node: `env.NAME.fetch()` of a Workers handler
 * runs the bound function of the same tenant in its own isolate, through the
 * node's runtime, never over the network. The version is the one the
 * request's applied state gives (the state the request took at its start, as
 * for the four events; a cron run's, the state at its fire): the target's
 * `live` alias, else its only alias (`cronAliasOf`), through the alias's
 * weighted routes. A quarantined version is refused, as at an event.
 *
 * The target runs as a Workers handler with its own budgets; its own `fetch()`
 * goes out through the node's guarded fetch, its `caches` are the
 * distribution's (a cron run's: the tenant's), and its service calls continue
 * the same chain: one request runs at most {@link MAX_SERVICE_INVOCATIONS}
 * Workers invocations (the first and each service call, Workers' limit), which
 * ends a service calling itself or a cycle of services.
 *
 * One call, in order:
 * 1. the chain's limit, the target's function and alias, its version (quarantine);
 * 2. the target runs with a signal that aborts when the caller gives up (it aborted
 *    its fetch, its invocation ended or was killed) or the viewer went away: a target
 *    that has not answered by then is ended (ERR_CANCELLED) and its isolate freed;
 * 3. its answer goes back to the caller, its body streaming; its failure becomes what
 *    workerd shows a caller (service-errors.ts);
 * 4. once its invocation is over, its record (console lines, CPU, wall, error) goes to
 *    `onRecord` under the caller's request id (service-record.ts), for `verge logs`.
 */
import { cronAliasOf, type Distribution, type FunctionAssociation } from "../shared/protocol.ts";
import { VergeError, hasCode } from "../shared/errors.ts";
import { messageOf } from "./errors.ts";
import { failureReport, type ServiceHost } from "../runtime/index.ts";
import type { Context, Flow } from "./flow.ts";
import type { AppliedState, ViewerInfo } from "./types.ts";
import { cachesFor } from "./caches.ts";
import { cfOf, outbound } from "./workers.ts";
import { recordServiceCall, type ServiceOutcome } from "./service-record.ts";
import { reasonPhrase, remoteBody, remoteError } from "./service-errors.ts";

/** Workers invocations per request: the first handler and each service binding call (Cloudflare's limit is 32). */
export const MAX_SERVICE_INVOCATIONS = 32;

/** What the service calls of one request (or one cron run) share. */
export interface ServiceScope {
  tenant: string;
  /** The applied state the targets' versions come from. */
  state: AppliedState;
  /** The request the calls belong to (their records carry it): the viewer request's id, or a cron run's. */
  requestId: string;
  clientIp?: string;
  /** The request's distribution (the targets' `caches.default`); none under a cron run. */
  distribution?: Distribution;
  /** The viewer the calls run for: when it goes away (`signal` aborts), every call in flight is given up. */
  viewer?: ViewerInfo;
}

/** The service calls one request made so far, whichever invocation made them. */
interface Chain {
  scope: ServiceScope;
  calls: number;
  /** Set when the chain reached the limit: every caller up the chain fails with this message (not one wrapped per level). */
  ended?: string;
}

const chains = new WeakMap<Flow, Chain>();

/** The service host of the invocations of `flow` (undefined when the pipeline runs none: the harness's are its own). */
export function serviceHostFor(ctx: Context, flow: Flow): ServiceHost | undefined {
  if (ctx.options.serviceBindings !== true) return undefined;
  let chain = chains.get(flow);
  if (chain === undefined) {
    const scope: ServiceScope = { tenant: flow.distribution.tenant, state: flow.state, requestId: flow.requestId, clientIp: flow.viewer.clientIp, distribution: flow.distribution, viewer: flow.viewer };
    chains.set(flow, (chain = { scope, calls: 0 }));
  }
  return hostOf(ctx, chain);
}

/** The service host of an invocation outside a viewer request (a cron run): a chain of its own. */
export function serviceHostOutside(ctx: Context, scope: ServiceScope): ServiceHost | undefined {
  if (ctx.options.serviceBindings !== true) return undefined;
  return hostOf(ctx, { scope, calls: 0 });
}

function hostOf(ctx: Context, chain: Chain): ServiceHost {
  return async (call, request, { signal }) => {
    const { scope } = chain;
    const now = ctx.options.now ?? Date.now;
    const started = now();
    const what = `env.${call.binding}.fetch() to service "${call.service}"`;
    const outcome: ServiceOutcome = { digest: "", cold: false, status: 500 };
    const record = () => recordServiceCall(ctx.options.onRecord, scope, call, request, started, now, outcome);
    try {
      if (chain.ended !== undefined) throw new VergeError("ERR_SUBREQUEST_LIMIT", chain.ended);
      if (++chain.calls >= MAX_SERVICE_INVOCATIONS) {
        chain.ended = `${what}: this request has run ${MAX_SERVICE_INVOCATIONS} Workers invocations (the first and ${MAX_SERVICE_INVOCATIONS - 1} service binding calls), the limit per request; a service that calls itself, or a cycle of services, ends here`;
        throw new VergeError("ERR_SUBREQUEST_LIMIT", chain.ended);
      }
      const t = scope.state.snapshot.tenants[scope.tenant];
      if (t?.functions[call.service] === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `${what}: tenant "${scope.tenant}" has no function "${call.service}" on this edge node`);
      const prefix = `${call.service}/`;
      const aliases = Object.keys(t.aliases).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
      const alias = cronAliasOf(aliases);
      if (alias === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `${what}: the function has ${aliases.length === 0 ? "no alias" : `no alias "live" among ${aliases.join(", ")}`}, so no version to run`);
      // The call is given up when its caller gives up, or when the viewer it runs for goes away.
      const viewerGone = scope.viewer?.signal;
      const gaveUp = viewerGone === undefined ? signal : AbortSignal.any([signal, viewerGone]);
      return await run(ctx, chain, call.service, alias, request, gaveUp, outcome);
    } catch (err) {
      outcome.error = err;
      outcome.finished ??= failureReport(err);
      throw callerError(err, what, chain);
    } finally {
      record();
    }
  };
}

/** Steps 1 (version) to 3 for a target that exists: its answer, with `outcome` filled in for the record. */
async function run(ctx: Context, chain: Chain, service: string, alias: string, request: Parameters<ServiceHost>[1], signal: AbortSignal, outcome: ServiceOutcome) {
  const { scope } = chain;
  const association: FunctionAssociation = { function: service, alias, includeBody: true };
  const ref = ctx.options.state.resolve(scope.state, scope.tenant, association, { headers: new Headers(request.headers), url: new URL(request.url) });
  outcome.digest = ref.digest;
  if (ctx.options.quarantine.has(ref.digest)) throw new VergeError("ERR_FUNCTION_QUARANTINED", `version ${ref.digest.slice(0, 12)}… is quarantined after repeated worker crashes`);
  const spec = await ctx.options.state.load(scope.state, ref);
  if (signal.aborted) throw new VergeError("ERR_CANCELLED", "the caller gave up before the target started");
  const r = await ctx.options.runtime.fetch(spec, request, {
    ...(scope.clientIp !== undefined ? { clientIp: scope.clientIp } : {}),
    cf: cfOf(ctx),
    subrequest: (req, options) => outbound(ctx, req, options),
    ...(scope.distribution !== undefined ? { caches: cachesFor(ctx.options.cache, scope.distribution) } : {}),
    service: hostOf(ctx, chain),
    signal,
  });
  outcome.cold = r.cold;
  outcome.finished = r.finished;
  if (r.type !== "response") throw new VergeError("ERR_INVALID_RESULT", "it is a Lambda@Edge function that let the request continue; a service must answer with a Response");
  if (r.response.webSocket !== undefined || r.response.tunnel !== undefined) {
    // Nobody would ever attach to it: dropped now, or the target's invocation stays open for good.
    r.response.webSocket?.abort();
    throw new VergeError("ERR_INVALID_RESULT", "it answered with a WebSocket, which verge does not carry through a service binding");
  }
  outcome.status = r.response.status;
  const body = r.response.body;
  // The answer crosses as HTTP does in workerd: a status without its text gets the standard one.
  const statusText = r.response.statusText !== "" ? r.response.statusText : reasonPhrase(r.response.status);
  return { ...r.response, statusText, body: body === null || body instanceof Uint8Array ? body : remoteBody(body) };
}


/** What the caller's `fetch()` rejects with: the chain's end, the target's own exception as workerd passes it, else an Error naming the call. */
function callerError(err: unknown, what: string, chain: Chain): Error {
  if (chain.ended !== undefined) return new Error(chain.ended);
  const passed = remoteError(err);
  if (passed !== undefined) return passed;
  // Refused before the target ran: the message names the call already.
  if (hasCode(err, "ERR_FUNCTION_NOT_FOUND") && messageOf(err).startsWith(what)) return new Error(messageOf(err));
  return new Error(`${what} failed: ${messageOf(err)}`);
}
