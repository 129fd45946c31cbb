/** Lazy part "url-pattern": URLPattern from urlpattern-polyfill (it canonicalizes through the global URL). */
export { URLPattern } from "urlpattern-polyfill/urlpattern";
