/** Lazy part "url-pattern": URLPattern from urlpattern-polyfill (it canonicalizes through the global URL). */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { URLPattern } from "urlpattern-polyfill/urlpattern";
