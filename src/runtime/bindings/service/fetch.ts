/**
 * The host half of `env.NAME.fetch()`: what the global fetch does around the
 * network, done around a {@link ServiceHost} instead. The URL must be http(s)
 * (workerd refuses others with the same TypeError as fetch()); with redirect
 * "follow" a redirect is fetched again through the same binding (workerd does
 * this for a Fetcher too; Miniflare 4 shows it), as the global fetch follows
 * one (redirects.ts).
 */
import { getHeader, type RequestData, type ResponseData } from "../../../shared/http.ts";
import type { FetchOptions, ServiceCall, ServiceHost } from "../../host-services.ts";
import { redirectStep } from "../../redirects.ts";

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
    const step = redirectStep(res.status, getHeader(res.headers, "location") ?? null, options.redirect, hop, { method, headers, body });
    if (step !== null) {
      discard(res.body);
      if ("error" in step) throw step.error;
      url = httpUrl(step.location, url);
      href = url.href;
      ({ method, headers, body } = step.next);
      continue;
    }
    return { ...res, url: href, redirected: hop > 0 };
  }
}
