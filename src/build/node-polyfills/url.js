/**
 * verge's `node:url` for `nodejs_compat`: Node's legacy API from the `url`
 * package (parse, format, resolve, resolveObject, Url), the isolate's WHATWG
 * `URL` and `URLSearchParams` (the globals, as Node's node:url re-exports its
 * own), and the helpers built on them: domainToASCII, fileURLToPath,
 * pathToFileURL (POSIX paths; the isolate has no cwd, so a
 * relative path is taken from "/").
 */
import legacy from "url/url.js";
import { invalidArgType, nodeError } from "./node-errors.js";

export const { parse, format, resolve, resolveObject, Url } = legacy;
export const URL = globalThis.URL;
export const URLSearchParams = globalThis.URLSearchParams;

/** The ASCII (punycode) form of a domain, or "" when it is not a valid one. */
export function domainToASCII(domain) {
  try {
    return new URL(`ws://${domain}`).hostname;
  } catch {
    return "";
  }
}

/** @example fileURLToPath("file:///a/b%20c") // "/a/b c" */
export function fileURLToPath(path) {
  let url = path;
  if (typeof url === "string") url = new URL(url);
  else if (!(url instanceof URL)) throw invalidArgType("path", "of type string or an instance of URL", path);
  if (url.protocol !== "file:") throw nodeError(TypeError, "ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
  if (url.hostname !== "") throw nodeError(TypeError, "ERR_INVALID_FILE_URL_HOST", 'File URL host must be "localhost" or empty on linux');
  const pathname = url.pathname;
  if (/%2f/i.test(pathname)) throw nodeError(TypeError, "ERR_INVALID_FILE_URL_PATH", "File URL path must not include encoded / characters");
  return decodeURIComponent(pathname);
}

/** @example pathToFileURL("/a/b c").href // "file:///a/b%20c" */
export function pathToFileURL(filepath) {
  if (typeof filepath !== "string") throw invalidArgType("path", "of type string", filepath);
  let path = filepath.startsWith("/") ? filepath : `/${filepath}`;
  // Characters the URL parser would not encode by itself, or would take as delimiters (Node's encodePathChars).
  path = path.replace(/%/g, "%25").replace(/\\/g, "%5C").replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/\t/g, "%09");
  path = path.replace(/\?/g, "%3F").replace(/#/g, "%23");
  return new URL(`file://${path}`);
}

export default { parse, format, resolve, resolveObject, Url, URL, URLSearchParams, domainToASCII, fileURLToPath, pathToFileURL };
