/**
 * Header lists (`HeaderList`, lowercase names, every line in order) to and from
 * CloudFront's header objects (lowercase name -> `[{ key, value }]`).
 *
 * CloudFront groups the lines of one header together, so `a, b, a` becomes
 * `{ a: [a1, a2], b: [b1] }`: a list whose repeated headers are contiguous
 * (the usual case, and always the case for lists made from a CloudFront object)
 * survives a round trip unchanged.
 */
import type { HeaderList } from "../http.ts";
import type { CloudFrontHeader, CloudFrontHeaders, CloudFrontResultHeaders } from "./types.ts";

/**
 * The `key` to show for a header that has no original casing: each dash-separated
 * part capitalised, as most clients send them.
 *
 * @example
 * canonicalHeaderKey("x-forwarded-for") // "X-Forwarded-For"
 */
export function canonicalHeaderKey(name: string): string {
  // Every event and result names the same few headers: each is worked out once (a bounded memo).
  let key = canonicalKeys.get(name);
  if (key === undefined) {
    key = name
      .split("-")
      .map((part) => (part.length === 0 ? part : part[0]!.toUpperCase() + part.slice(1).toLowerCase()))
      .join("-");
    if (canonicalKeys.size >= CANONICAL_KEYS) canonicalKeys.clear();
    canonicalKeys.set(name, key);
  }
  return key;
}

const CANONICAL_KEYS = 1024;
const canonicalKeys = new Map<string, string>();

/**
 * Flattens a CloudFront header object into a header list, keeping the object's
 * key order and each header's value order. The casing in `key` is dropped: a
 * `HeaderList` names headers in lowercase. Entries without a `key` are fine.
 *
 * @example
 * cfHeadersToHeaderList({ "set-cookie": [{ key: "Set-Cookie", value: "a=1" }, { key: "Set-Cookie", value: "b=2" }] })
 * // [["set-cookie", "a=1"], ["set-cookie", "b=2"]]
 */
export function cfHeadersToHeaderList(headers: CloudFrontHeaders | CloudFrontResultHeaders | undefined): HeaderList {
  const list: HeaderList = [];
  if (headers === undefined) return list;
  for (const [name, entries] of Object.entries(headers)) {
    for (const entry of entries) list.push([name.toLowerCase(), entry.value]);
  }
  return list;
}

/**
 * Groups a header list into a CloudFront header object. Each line's `key` comes
 * from `keys` (the CloudFront headers the list was made from) when that header had
 * a line at the same position, else from the header's first original line, else
 * from {@link canonicalHeaderKey}. So `cf -> list -> cf` gives back the same keys.
 *
 * @example
 * headerListToCfHeaders([["host", "example.com"]]) // { host: [{ key: "Host", value: "example.com" }] }
 */
export function headerListToCfHeaders(list: HeaderList, keys?: CloudFrontHeaders | CloudFrontResultHeaders): CloudFrontHeaders {
  const out: CloudFrontHeaders = {};
  for (const [rawName, value] of list) {
    const name = rawName.toLowerCase();
    const entries = Object.hasOwn(out, name) ? out[name]! : setHeader<CloudFrontHeader[]>(out, name, []);
    entries.push({ key: keyFor(name, entries.length, keys), value });
  }
  return out;
}

function keyFor(name: string, index: number, keys: CloudFrontHeaders | CloudFrontResultHeaders | undefined): string {
  const original = keys !== undefined && Object.hasOwn(keys, name) ? keys[name] : undefined;
  return original?.[index]?.key ?? original?.[0]?.key ?? canonicalHeaderKey(name);
}

/** Deep copy, so a function that edits its event cannot reach the caller's objects. */
export function cloneCfHeaders(headers: CloudFrontHeaders): CloudFrontHeaders {
  const out: CloudFrontHeaders = {};
  for (const [name, entries] of Object.entries(headers)) setHeader(out, name, entries.map((e) => ({ key: e.key, value: e.value })));
  return out;
}

/**
 * Defines `headers[name]` as an own property, so a header named `__proto__`
 * is stored as a header and never replaces the object's prototype.
 */
export function setHeader<T>(headers: Record<string, T>, name: string, value: T): T {
  // Any other name has no setter on the prototype chain: assignment makes the same
  // own property, and keeps the object in V8's fast mode (defineProperty per header does not).
  if (name !== "__proto__") headers[name] = value;
  else Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
  return value;
}
