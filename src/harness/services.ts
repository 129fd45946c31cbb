/**
 * The harness's service bindings (`serviceBindings: { NAME: (request) => Response }`,
 * Miniflare 4's function form), run in the test process: a function's
 * `env.NAME.fetch()` crosses from the child host (runtime/child-host/service-calls.ts)
 * and arrives here as plain data. The function gets a `Request` (its signal aborts
 * when the caller gives up) and its `Response` goes back with its body streamed.
 * As in Miniflare, a function that throws, or returns something other than a
 * Response, answers 500 with the error's stack as text; an error marked
 * `remote: true` (another Worker's exception) rejects the caller's fetch instead.
 */
import type { HeaderList, RequestData, ResponseData } from "../shared/http.ts";
import { describe } from "../shared/limits.ts";
import type { ServiceCall } from "../runtime/host-services.ts";
import type { ServiceFunction } from "./binding-options.ts";

function failure(err: unknown): ResponseData {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return { status: 500, statusText: "", headers: [["content-type", "text/plain;charset=UTF-8"]], body: new TextEncoder().encode(text) };
}

export async function runServiceFunction(fn: ServiceFunction | undefined, call: ServiceCall, request: RequestData, signal: AbortSignal): Promise<ResponseData> {
  // The options may have been replaced (setOptions) while the function's call was on its way.
  if (fn === undefined) throw new Error(`env.${call.binding}.fetch(): serviceBindings.${call.binding} is no longer set on this Verge instance`);
  const body = request.body instanceof Uint8Array && request.method !== "GET" && request.method !== "HEAD" ? (request.body as Uint8Array<ArrayBuffer>) : null;
  const req = new Request(request.url, { method: request.method, headers: request.headers, body, signal });
  let res: unknown;
  try {
    res = await fn(req);
  } catch (err) {
    // Another Worker's exception (`remote: true`, as verge dev passes one between its Workers): the caller's fetch() rejects with it, as in workerd.
    if ((err as { remote?: unknown } | null)?.remote === true) throw err;
    return failure(err);
  }
  if (!(res instanceof Response)) return failure(new TypeError(`serviceBindings.${call.binding} returned ${describe(res)}; expected a Response`));
  const headers: HeaderList = [];
  res.headers.forEach((v, k) => {
    if (k !== "set-cookie") headers.push([k, v]);
  });
  for (const c of res.headers.getSetCookie()) headers.push(["set-cookie", c]);
  return { status: res.status, statusText: res.statusText, headers, body: res.body === null ? null : (res.body as AsyncIterable<Uint8Array>) };
}
