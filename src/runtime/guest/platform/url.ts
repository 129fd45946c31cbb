/**
 * URL (WHATWG URL Standard §6.1) parsed by the host's own URL implementation
 * (Node's ada, which passes the WPT URL suite, UTS #46 included) through a
 * narrow synchronous bridge: a string goes out, the URL's parts come back as
 * strings (DESIGN.md §4 prefers this to a copy of the parser inside every
 * isolate: a JS parser cost each new isolate ~8 ms of setup and each request
 * most of its CPU). URLSearchParams lives in the guest (url-search-params.ts);
 * URLPattern comes from urlpattern-polyfill, loaded on first use.
 *
 * @example
 * new URL("../c?x=1#f", "https://a.example/b/d").href // "https://a.example/c?x=1#f"
 */
import { host } from "../core/host.ts";
import { URLSearchParams, linkedSearchParams, resetSearchParams } from "./url-search-params.ts";

export { URLSearchParams };

// Order of the parts the host returns (bridge/protocol.ts `UrlParts`).
const HREF = 0;
const PROTOCOL = 1;
const USERNAME = 2;
const PASSWORD = 3;
const HOST = 4;
const HOSTNAME = 5;
const PORT = 6;
const PATHNAME = 7;
const SEARCH = 8;
const HASH = 9;
const ORIGIN = 10;

type Parts = string[];
type Settable = "protocol" | "username" | "password" | "host" | "hostname" | "port" | "pathname" | "search" | "hash";

const hostParse = host.urlParse;
const hostSet = host.urlSet;
const split = (joined: string): Parts => joined.split("\n");

// Recently parsed absolute URLs (no base): a function often parses the same few
// URLs request after request. Part arrays are never mutated, so entries are shared.
const CACHE_SIZE = 64;
const cache = new Map<string, Parts>();

function urlParse(input: string, base: string | undefined): Parts | null {
  if (base !== undefined) {
    const joined = hostParse(input, base);
    return joined === null ? null : split(joined);
  }
  const hit = cache.get(input);
  if (hit !== undefined) return hit;
  const joined = hostParse(input, undefined);
  if (joined === null) return null;
  const parts = split(joined);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(input, parts);
  return parts;
}

function urlSet(href: string, name: Settable, value: string): Parts {
  return split(hostSet(href, name, value));
}

function toUSV(v: unknown): string {
  if (typeof v === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  return String(v).toWellFormed();
}

// Only this module holds it: `new URL(FROM_PARTS, parts)` adopts parts already parsed.
const FROM_PARTS = Symbol("from parts");

function parse(input: unknown, base: unknown): Parts | null {
  const s = toUSV(input);
  return base === undefined ? urlParse(s, undefined) : urlParse(s, toUSV(base));
}

export class URL {
  #parts: Parts;
  #query: URLSearchParams | null = null;

  constructor(url: unknown, base?: unknown) {
    if (url === FROM_PARTS) {
      this.#parts = base as Parts;
      return;
    }
    if (arguments.length < 1) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const parts = parse(url, base);
    if (parts === null) throw new TypeError(`Invalid URL: ${toUSV(url)}`);
    this.#parts = parts;
  }

  static canParse(url: unknown, base?: unknown): boolean {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present.");
    return parse(url, base) !== null;
  }

  static parse(url: unknown, base?: unknown): URL | null {
    if (arguments.length < 1) throw new TypeError("Failed to execute 'parse' on 'URL': 1 argument required, but only 0 present.");
    const parts = parse(url, base);
    return parts === null ? null : new URL(FROM_PARTS, parts);
  }

  get href(): string {
    return this.#parts[HREF]!;
  }
  set href(value: unknown) {
    const s = toUSV(value);
    const parts = urlParse(s, undefined);
    if (parts === null) throw new TypeError(`Invalid URL: ${s}`);
    this.#parts = parts;
    this.#refreshQuery();
  }
  get origin(): string {
    return this.#parts[ORIGIN]!;
  }
  get protocol(): string {
    return this.#parts[PROTOCOL]!;
  }
  set protocol(value: unknown) {
    this.#set("protocol", value);
  }
  get username(): string {
    return this.#parts[USERNAME]!;
  }
  set username(value: unknown) {
    this.#set("username", value);
  }
  get password(): string {
    return this.#parts[PASSWORD]!;
  }
  set password(value: unknown) {
    this.#set("password", value);
  }
  get host(): string {
    return this.#parts[HOST]!;
  }
  set host(value: unknown) {
    this.#set("host", value);
  }
  get hostname(): string {
    return this.#parts[HOSTNAME]!;
  }
  set hostname(value: unknown) {
    this.#set("hostname", value);
  }
  get port(): string {
    return this.#parts[PORT]!;
  }
  set port(value: unknown) {
    this.#set("port", value);
  }
  get pathname(): string {
    return this.#parts[PATHNAME]!;
  }
  set pathname(value: unknown) {
    this.#set("pathname", value);
  }
  get search(): string {
    return this.#parts[SEARCH]!;
  }
  set search(value: unknown) {
    const s = toUSV(value);
    this.#parts = urlSet(this.#parts[HREF]!, "search", s);
    // §6.1: the query object's list is parsed from the given input, not the encoded query.
    if (this.#query !== null) resetSearchParams(this.#query, s.startsWith("?") ? s.slice(1) : s);
  }
  get searchParams(): URLSearchParams {
    if (this.#query === null) {
      const q = this.#parts[SEARCH]!;
      this.#query = linkedSearchParams(q.slice(1), (serialized) => {
        this.#parts = urlSet(this.#parts[HREF]!, "search", serialized);
      });
    }
    return this.#query;
  }
  get hash(): string {
    return this.#parts[HASH]!;
  }
  set hash(value: unknown) {
    this.#set("hash", value);
  }

  toString(): string {
    return this.#parts[HREF]!;
  }
  toJSON(): string {
    return this.#parts[HREF]!;
  }

  #set(name: Settable, value: unknown): void {
    this.#parts = urlSet(this.#parts[HREF]!, name, toUSV(value));
  }

  #refreshQuery(): void {
    if (this.#query !== null) resetSearchParams(this.#query, this.#parts[SEARCH]!.slice(1));
  }
}

for (const name of ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "searchParams", "hash"]) {
  const d = Object.getOwnPropertyDescriptor(URL.prototype, name)!;
  Object.defineProperty(URL.prototype, name, { ...d, enumerable: true });
}
for (const name of ["toString", "toJSON"]) {
  Object.defineProperty(URL.prototype, name, { enumerable: true });
}
