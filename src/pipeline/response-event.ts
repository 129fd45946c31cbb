/**
 * origin-response and viewer-response, in any dialect (DESIGN.md §3): a
 * Lambda@Edge handler gets the CloudFront event and its result replaces the
 * response (events.ts `replacedResponse`); a Workers handler, module or
 * service worker, gets the request and a `fetch()` that resolves to the
 * response at hand, and the Response it returns replaces it (workers.ts).
 * Either way the result is checked against Lambda@Edge's rules for the event.
 *
 * When the function fails, the response at hand is let go and the failure
 * goes on (the cache may answer stale-if-error, else the pipeline renders
 * it), except after `ctx.passThroughOnException()` in a Workers handler that
 * did not take the response's body: then the response goes on unchanged, as
 * the request goes on to the origin at viewer-request.
 */
import type { CloudFrontGeneratedResponse, CloudFrontOrigin } from "../shared/cloudfront/index.ts";
import type { FunctionAssociation } from "../shared/protocol.ts";
import { hasCode, type VergeError } from "../shared/errors.ts";
import { replacedResponse, responseEvent } from "./events.ts";
import type { Context, Flow, FlowRequest } from "./flow.ts";
import { responseAtHand, workersResponseEvent } from "./workers.ts";

export interface ResponseEventInput {
  eventType: "origin-response" | "viewer-response";
  association: FunctionAssociation;
  /** The request as the event shows it. */
  request: FlowRequest;
  /** Its URL, for a Workers handler: on the origin at origin-response, the viewer's at viewer-response. */
  url: string;
  /** The response at hand. */
  response: Response;
  /** origin-response: the origin the request went to. */
  origin?: CloudFrontOrigin;
}

/** Runs the event's function; returns the response that goes on. */
export async function runResponseEvent(ctx: Context, flow: Flow, input: ResponseEventInput): Promise<Response> {
  const original = input.response;
  const atHand = responseAtHand(original);
  try {
    return await ctx.invoker.invoke(flow, input.eventType, input.association, async (spec, lambda) => {
      const event = responseEvent(flow, input.eventType, input.request, original, input.origin);
      if (!lambda) return workersResponseEvent(ctx, flow, spec, event, input.url, atHand);
      const r = await ctx.options.runtime.event(spec, event);
      return { value: replacedResponse(original, r.result as CloudFrontGeneratedResponse), cold: r.cold, finished: r.finished };
    });
  } catch (err) {
    atHand.closed = true;
    if (passesThrough(err) && !atHand.taken) return original;
    void original.body?.cancel().catch(() => {});
    throw err;
  }
}

/**
 * The function threw after `ctx.passThroughOnException()`, or answered nothing
 * after it (a non-Response), or is a service worker whose listeners never
 * called `respondWith()`: Workers then sends the request on to the origin.
 */
export function passesThrough(err: unknown): boolean {
  const details = hasCode(err) ? (err as VergeError).details : undefined;
  const code = (err as VergeError).code;
  return details?.["passThrough"] === true && (code === "ERR_FUNCTION_EXCEPTION" || code === "ERR_INVALID_RESULT");
}
