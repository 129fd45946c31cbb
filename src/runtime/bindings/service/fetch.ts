/**
 * The host half of `env.NAME.fetch()`: what the global fetch does around the
 * network, done around a {@link ServiceHost} instead. The URL must be http(s)
 * (workerd refuses others with the same TypeError as fetch()); with redirect
 * "follow" a 301/302/303/307/308 answer with a Location is fetched again
 * through the same binding (workerd does this for a Fetcher too; Miniflare 4
 * shows it), up to 20 hops; "error" rejects on one; "manual" returns it.
 */
import { getHeader, type RequestData, type ResponseData } from "../../../shared/http.ts";
import type { FetchOptions, ServiceCall, ServiceHost } from "../../host-services.ts";

const REDIRECTS = [301, 302, 303, 307, 308];
const MAX_REDIRECTS = 20;

function httpUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new TypeError(`Invalid URL: ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`Fetch API cannot load: ${url.href}`);
  return url;
}

function discard(body: ResponseData["body"]): void {
  if (body !== null && !(body instanceof Uint8Array)) void body[Symbol.asyncIterator]().return?.()?.catch(() => {});
}

export async function fetchService(host: ServiceHost, call: ServiceCall, request: RequestData, options: FetchOptions): Promise<ResponseData & { url: string; redirected: boolean }> {
  let url = httpUrl(request.url);
  let href = request.url;
  let { method, headers, body } = request;
  for (let hop = 0; ; hop++) {
    const res = await host(call, { method, url: href, headers, body }, { signal: options.signal });
    const location = getHeader(res.headers, "location");
    if (options.redirect === "follow" && location !== undefined && REDIRECTS.includes(res.status)) {
      discard(res.body);
      if (hop >= MAX_REDIRECTS) throw new TypeError("fetch failed: too many redirects");
      url = httpUrl(location, url);
      href = url.href;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = null;
        headers = headers.filter(([k]) => !k.startsWith("content-"));
      }
      continue;
    }
    if (options.redirect === "error" && location !== undefined && res.status >= 300 && res.status < 400) {
      discard(res.body);
      throw new TypeError("fetch failed: redirect mode is 'error'");
    }
    return { ...res, url: href, redirected: hop > 0 };
  }
}
