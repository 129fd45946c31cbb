/**
 * What the `url` package's legacy API gets for `require("qs")` (node-compat.ts
 * resolves it here): Node's url.parse(…, true) and url.format use
 * node:querystring, so `y[z]=1` stays a key named `y[z]` (qs would nest it)
 * and repeated keys become arrays. It also keeps qs and its dependencies
 * (about 200 KiB) out of the bundle.
 */
import querystring from "querystring-es3";

export function parse(text) {
  return querystring.parse(text);
}

/** The url package passes qs options (repeat arrays, no "?" prefix): querystring's own behaviour. */
export function stringify(object) {
  return querystring.stringify(object);
}

export default { parse, stringify };
