/**
 * URLPattern from urlpattern-polyfill (it canonicalizes through the global URL).
 * Required, not imported, so esbuild evaluates the library only when user code
 * first reads `URLPattern` (install.ts makes it a lazy global).
 */
import type { URLPattern as PolyfillURLPattern } from "urlpattern-polyfill/urlpattern";

declare const require: (id: "urlpattern-polyfill/urlpattern") => { URLPattern: typeof PolyfillURLPattern };

export function loadURLPattern(): typeof PolyfillURLPattern {
  return require("urlpattern-polyfill/urlpattern").URLPattern;
}
