/**
 * URL and URLSearchParams (WHATWG URL Standard) from core-js-pure, which runs
 * the spec's state-machine parser in plain JS (IPv4/IPv6 hosts, punycode,
 * percent-encode sets, setters, `URL.canParse`, `URL.parse`,
 * `URLSearchParams#size`). URLPattern comes from urlpattern-polyfill and uses
 * the global URL.
 *
 * Deviation: core-js does not apply the UTS #46 compatibility mappings to
 * hostnames: "ﬀ", "①" or "Ⅷ" are punycoded instead of folding to "ff", "1",
 * "viii", and a lone U+200D is accepted. ASCII, fullwidth and ordinary
 * Unicode hostnames (lowercasing, punycode, IPv4 forms) match Node's URL.
 *
 * @example
 * new URL("../c?x=1#f", "https://a.example/b/d").href // "https://a.example/c?x=1#f"
 */
import CoreURL from "core-js-pure/actual/url/index.js";
import CoreURLSearchParams from "core-js-pure/actual/url-search-params/index.js";
import { URLPattern as PolyfillURLPattern } from "urlpattern-polyfill/urlpattern";

export const URL = CoreURL;
export const URLSearchParams = CoreURLSearchParams;
export const URLPattern = PolyfillURLPattern;

/**
 * core-js keeps its module registry on `globalThis["__core-js_shared__"]`. Every
 * core-js module captured it when it loaded, so the global can go: user code
 * must not reach the internal state of URL objects through it.
 */
export function hideCoreJsShared(): void {
  delete (globalThis as Record<string, unknown>)["__core-js_shared__"];
}
