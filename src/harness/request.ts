/**
 * dispatchFetch's input, as Miniflare 4 takes it (`input` and `init` as
 * `fetch`, plus `init.cf`), turned into what the runtime gets: what would
 * arrive over HTTP, and the request's `cf`. Also the caller's abort signal,
 * which rejects the dispatch (and later errors the body) as `fetch` does.
 */
import { VergeError } from "../shared/errors.ts";
import { describe } from "../shared/limits.ts";
import type { RequestData } from "../shared/http.ts";
import { LOCAL_NODE } from "./route.ts";

/** `fetch`'s init, with Workers' `cf` (Miniflare's `RequestInit` has it too). */
export type DispatchInit = RequestInit & { cf?: Record<string, unknown> };

export interface DispatchRequest {
  request: Request;
  data: RequestData;
  /** `request.cf` as the function sees it: the edge node's (`{ colo }`), with `init.cf` over it. */
  cf: Record<string, unknown>;
}

export function toDispatchRequest(input: string | URL | Request, init: DispatchInit | undefined, pipeline: boolean): DispatchRequest {
  const request = new Request(input, init);
  const given = init?.cf;
  if (given !== undefined) {
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      throw new VergeError("ERR_INVALID_REQUEST", `dispatchFetch: init.cf: expected an object of request properties, found ${describe(given)}`);
    }
    // With `upstream` the edge pipeline gives request.cf, as an edge node does; a test's own would be ignored.
    if (pipeline) throw new VergeError("ERR_INVALID_REQUEST", "dispatchFetch: init.cf is not applied with `upstream`: request.cf is the edge node's there ({ colo })");
  }
  // What a function sees is what would arrive over HTTP (as on an edge node, and in workerd
  // behind Miniflare): no #fragment in the URL, and a POST or other method with a body
  // semantics sent without one arrives as an empty body (Content-Length: 0), not as none.
  const hash = request.url.indexOf("#");
  const data: RequestData = {
    method: request.method,
    url: hash === -1 ? request.url : request.url.slice(0, hash),
    headers: [...request.headers],
    body:
      request.body !== null
        ? (request.body as unknown as AsyncIterable<Uint8Array>)
        : request.method === "GET" || request.method === "HEAD"
          ? null
          : new Uint8Array(0),
  };
  return { request, data, cf: { colo: LOCAL_NODE, ...given } };
}

/**
 * `dispatch`, rejected with the signal's reason when `signal` aborts first, as `fetch` rejects.
 * A response that arrives after that is cancelled, so the invocation is not left writing to nobody.
 */
export async function abortable<T>(signal: AbortSignal, dispatch: () => Promise<T>, cancel: (late: T) => void): Promise<T> {
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  const call = dispatch();
  try {
    return await Promise.race([call, aborted]);
  } catch (err) {
    if (signal.aborted) call.then(cancel, () => {});
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
