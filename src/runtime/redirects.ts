/**
 * What fetch() does with a redirect answer, shared by the guarded network fetch
 * (fetch-guard.ts) and service bindings (bindings/service/fetch.ts): with
 * "follow", a 301/302/303/307/308 carrying a Location is fetched again, a 303
 * (or a 301/302 to a POST) as a GET without its body and content headers, up to
 * 20 hops; with "error", any 3xx with a Location fails; "manual" returns it.
 */
import type { HeaderList } from "../shared/http.ts";
import type { FetchOptions } from "./host-services.ts";

const FOLLOWED = [301, 302, 303, 307, 308];
const MAX_REDIRECTS = 20;

export interface HopRequest<B> {
  method: string;
  headers: HeaderList;
  body: B | null;
}

/**
 * After answer `status` (with its `location`, or null) at hop `hop` of `request`: null when it is
 * the answer; else its body is to be discarded and either `error` thrown or the request made again
 * at `location` (resolved by the caller against the current URL) as `next`.
 */
export function redirectStep<B>(
  status: number,
  location: string | null,
  redirect: FetchOptions["redirect"],
  hop: number,
  request: HopRequest<B>,
): null | { error: TypeError } | { location: string; next: HopRequest<B> } {
  if (location === null) return null;
  if (redirect === "follow" && FOLLOWED.includes(status)) {
    if (hop >= MAX_REDIRECTS) return { error: new TypeError("fetch failed: too many redirects") };
    const asGet = status === 303 || ((status === 301 || status === 302) && request.method === "POST");
    const next = asGet
      ? { method: request.method === "HEAD" ? "HEAD" : "GET", body: null, headers: request.headers.filter(([k]) => !k.startsWith("content-")) }
      : request;
    return { location, next };
  }
  if (redirect === "error" && status >= 300 && status < 400) return { error: new TypeError("fetch failed: redirect mode is 'error'") };
  return null;
}
