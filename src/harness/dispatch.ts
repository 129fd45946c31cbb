/**
 * dispatchFetch with `upstream`: the request goes to the child's edge pipeline
 * (pipeline-host.ts) and comes back as the viewer would get it. The function's
 * report is the request's only when the function ran (`meta.events`).
 *
 * A child that dies with the request in flight (a function aborted V8, or the
 * watchdog killed a wedged process) cannot answer; the harness answers for it
 * as the pipeline answers a crashed runtime: 503 with `x-verge-error`. Its
 * response cache is gone with it, and the next request starts a new child.
 */
import { hasCode } from "../shared/errors.ts";
import { createRequestId } from "../shared/cloudfront/index.ts";
import type { RequestData } from "../shared/http.ts";
import type { ChildRuntime } from "../runtime/child-host/client.ts";
import type { InvocationReport } from "../runtime/invocation.ts";
import { errorResponse } from "../pipeline/errors.ts";
import { LOCAL_NODE, type RouteMeta } from "./route.ts";
import { toResponse } from "./response.ts";

/**
 * A viewer's socket takes this much of a body before the application reads it,
 * so (as on an edge node) a response nobody reads still completes its cache
 * fill when it is small, instead of holding the fill, and the requests
 * collapsed onto it, until the fill's wait runs out.
 */
const SOCKET_BUFFER_BYTES = 1 << 20;

/** Codes the child host fails a call with when its process died. */
const CHILD_DIED = new Set(["ERR_RUNTIME_CRASHED", "ERR_MEMORY_LIMIT", "ERR_WALL_LIMIT"]);

export interface PipelineDispatch {
  response: Response;
  /** The function's report for this request (merged over its events); undefined when it did not run. */
  report: Promise<InvocationReport> | undefined;
  /** The events the function ran at. */
  events: string[];
}

export async function dispatchThroughPipeline(child: ChildRuntime, fn: number, request: RequestData, signal?: AbortSignal): Promise<PipelineDispatch> {
  let r: Awaited<ReturnType<ChildRuntime["fetch"]>>;
  try {
    r = await child.fetch(fn, request, { clientIp: "127.0.0.1" });
  } catch (err) {
    if (!hasCode(err) || !CHILD_DIED.has(err.code)) throw err;
    const response = errorResponse(err.code, createRequestId(), request.method.toUpperCase());
    response.headers.append("via", `1.1 ${LOCAL_NODE} (verge)`);
    return { response, report: undefined, events: [] };
  }
  if (r.type !== "response") throw new TypeError("the edge pipeline answered without a response");
  const meta = (r.meta ?? { events: [] }) as RouteMeta;
  const response = toResponse(r.response.status, r.response.statusText, r.response.headers, r.response.body, SOCKET_BUFFER_BYTES, signal);
  return { response, report: meta.events.length > 0 ? r.finished : undefined, events: meta.events };
}
