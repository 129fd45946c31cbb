/**
 * The Workers Cache API's host half (`CacheApiHost` of src/runtime) over the
 * response cache's direct API (direct.ts), with Cloudflare's rules
 * (https://developers.cloudflare.com/workers/runtime-apis/cache/):
 *
 * put: refuses a 206 and `Vary: *` (TypeError, as the guest already did) and
 *   drops a 304. It stores when `Cache-Control` / `Expires` give a lifetime
 *   (`s-maxage`, then `max-age`, then `Expires − Date`) or, without them,
 *   Cloudflare's Edge TTL for the status (200/206/301: 2 h, 302/303: 20 min,
 *   404/410: 3 min, other statuses not at all); never with `no-store`,
 *   `private` or `no-cache`, nor with a `Set-Cookie` unless a qualified
 *   `private=Set-Cookie` (or `no-cache=Set-Cookie`) names it, in which case it
 *   is stored without it. The statuses the node's cache keeps (freshness.ts).
 * match: a fresh entry with `cf-cache-status: HIT`, `Age` and the body's
 *   `Content-Length`; a 304 when the request's `If-None-Match` (or else
 *   `If-Modified-Since`) says its copy is current; a byte `Range` gives a 206
 *   (several: multipart/byteranges) or a 416.
 * delete: removes the key's entry (every Vary variant); true when there was one.
 *
 * Where entries go is the scope's business (`CacheApiScope`): on an edge node
 * `caches.default` is the distribution's own cache, keyed as its traffic is
 * (src/pipeline/caches.ts), and `caches.open(name)` a tenant's cache keyed by
 * the URL alone.
 */
import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { concatBytes, type HeaderList } from "../../shared/http.ts";
import type { CacheApiHost, CacheApiPut, CacheApiRequest, CacheApiResponse } from "../../runtime/index.ts";
import type { ResponseCache, StoredResponse } from "../types.ts";
import { parseCacheControl } from "./cache-control.ts";
import { viewerNotModified } from "./conditional.ts";
import { storeDecision } from "./freshness.ts";
import { DEFAULT_MAX_OBJECT_BYTES } from "./options.ts";
import { rangeAnswer } from "./range.ts";

/** Where a cache's entries live: a scope of the cache (a distribution, or one no distribution can be) and a key in it. */
export interface CacheApiScope {
  /** The slot of `caches.default` for a request. */
  default(url: URL, headers: Headers): { distribution: string; key: string };
  /** The scope of the cache `caches.open(name)` opened; its keys are {@link urlKey}. */
  named(name: string): string;
}

export interface CacheApiOptions {
  cache: Required<Pick<ResponseCache, "get" | "put" | "delete">> & { readonly maxObjectBytes?: number };
  scope: CacheApiScope;
  /** ms (tests inject a clock); default Date.now. */
  now?: () => number;
}

/** Cloudflare's Edge TTL, in seconds, for a response without Cache-Control or Expires (developers.cloudflare.com/cache/how-to/configure-cache-status-code). */
const EDGE_TTL: Readonly<Record<number, number>> = { 200: 7200, 206: 7200, 301: 7200, 302: 1200, 303: 1200, 404: 180, 410: 180 };
/** RFC 9110 §5.6.2 token: a field name, or a directive value that needs no quotes. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The longest lifetime a delta-seconds value can give (RFC 9111 §1.2.2, as cache-control.ts saturates it). */
const MAX_TTL = 2 ** 31;

/** The key of a URL in a scope of its own: the URL exactly as given (scheme, host, port, path, query in order), fragment aside, as Workers keys it. */
export function urlKey(url: URL): string {
  return createHash("sha256").update(JSON.stringify(["verge-cache-api/1", url.href.replace(/#.*$/s, "")])).digest("hex");
}

/**
 * The scopes of a tenant's functions outside a distribution (scheduled handlers,
 * Lambda@Edge events, the plain harness): its named caches, and a default of its
 * own. `#` cannot occur in a distribution id (`tenant/name`), so no scope here is
 * a distribution's.
 */
export function tenantScope(tenant: string): CacheApiScope {
  return {
    default: (url) => ({ distribution: `${tenant}#default`, key: urlKey(url) }),
    named: (name) => namedScope(tenant, name),
  };
}

/** The scope of a tenant's cache `name` (the same whichever distribution's function opens it). */
export function namedScope(tenant: string, name: string): string {
  return `${tenant}#cache:${name}`;
}

/**
 * @example
 * const caches = createCacheApi({ cache: createResponseCache({ store: createMemoryCacheStore() }), scope: tenantScope("local") });
 * const services = { ...createHostServices(), caches: () => caches };
 */
export function createCacheApi(options: CacheApiOptions): CacheApiHost {
  const { cache, scope } = options;
  const now = options.now ?? Date.now;
  const objectLimit = cache.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;

  function slot(name: string | null, request: CacheApiRequest): { url: URL; headers: Headers; distribution: string; key: string } {
    if (name !== null && typeof name !== "string") throw new TypeError("caches: a cache name is a string");
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    const where = name === null ? scope.default(url, headers) : { distribution: scope.named(name), key: urlKey(url) };
    return { url, headers, ...where };
  }

  return {
    async match(name, request) {
      const s = slot(name, request);
      const found = cache.get({ distribution: s.distribution, key: s.key, request: s.headers });
      return found === undefined ? undefined : answer(found, s.headers);
    },

    async put(name, request, response) {
      const s = slot(name, request);
      refuse(response);
      if (response.status === 304) return discard(response.body);
      const headers = new Headers(response.headers);
      const decision = putDecision(headers, response.status, now());
      if (!decision.store) return discard(response.body);
      const body = await readLimited(response.body, objectLimit);
      if (body === undefined) return false;
      return cache.put({
        distribution: s.distribution,
        key: s.key,
        request: s.headers,
        path: s.url.pathname,
        status: response.status,
        statusText: response.statusText,
        headers: decision.headers,
        body,
        ttl: decision.ttl,
        staleIfError: decision.staleIfError,
      });
    },

    async delete(name, request) {
      const s = slot(name, request);
      return cache.delete({ distribution: s.distribution, key: s.key });
    },
  };
}

/** What workerd refuses with a TypeError before anything reaches its cache. */
function refuse(response: CacheApiPut): void {
  if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) throw new TypeError(`caches: status ${response.status} cannot be stored`);
  if (response.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() === "vary" && value.includes("*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
  }
}

type PutDecision = { store: false; reason: string } | { store: true; ttl: number; staleIfError: number; headers: Headers };

/**
 * Whether Workers keeps a response, for how long, and with which headers.
 * `private` and `no-cache` with a field list (`private=Set-Cookie`) do not stop
 * a shared cache from storing: the named fields are left out instead (RFC 9111
 * §5.2.2.4, §5.2.2.7; Cloudflare documents it for Set-Cookie).
 */
export function putDecision(headers: Headers, status: number, now: number): PutDecision {
  const stored = new Headers(headers);
  const raw = headers.get("cache-control");
  if (raw !== null) {
    const kept: string[] = [];
    for (const [name, value] of parseCacheControl(raw)) {
      if ((name === "private" || name === "no-cache") && typeof value === "string" && value.trim() !== "") {
        for (const field of value.split(",")) if (TOKEN.test(field.trim())) stored.delete(field.trim());
      } else kept.push(value === true ? name : `${name}=${TOKEN.test(value) ? value : JSON.stringify(value)}`);
    }
    // Decide on the unqualified directives; store the header as it was given.
    const judged = new Headers(stored);
    if (kept.length > 0) judged.set("cache-control", kept.join(", "));
    else judged.delete("cache-control");
    return decide(judged, stored, status, now);
  }
  return decide(stored, stored, status, now);
}

function decide(judged: Headers, stored: Headers, status: number, now: number): PutDecision {
  if (stored.has("set-cookie")) return { store: false, reason: "Set-Cookie" };
  const d = storeDecision(judged, status, { min: 0, default: EDGE_TTL[status] ?? 0, max: MAX_TTL }, now);
  if (!d.store) return d;
  // No lifetime left (Edge TTL 0, max-age=0, an Age past it), or revalidate-before-use with no origin to ask.
  if (d.noCache || d.ttl <= d.initialAge) return { store: false, reason: d.noCache ? "no-cache" : "no lifetime" };
  return { store: true, ttl: d.ttl, staleIfError: d.staleIfError, headers: stored };
}

/** A stream not to be stored is left unread (the runtime cancels a guest stream left unread). */
function discard(body: CacheApiPut["body"]): false {
  if (body !== null && !(body instanceof Uint8Array)) void body[Symbol.asyncIterator]().return?.()?.catch(() => {});
  return false;
}

/** The whole body, or undefined (and the stream closed) once it is over `limit` bytes. */
async function readLimited(body: CacheApiPut["body"], limit: number): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body.byteLength > limit ? undefined : body;
  const it = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    total += r.value.byteLength;
    if (total > limit) {
      await it.return?.()?.catch(() => {});
      return undefined;
    }
    chunks.push(r.value);
  }
  return concatBytes(chunks, total);
}

/** A hit as `cache.match` answers it: conditionals, then Range, then the whole response. */
function answer(found: StoredResponse, request: Headers): CacheApiResponse {
  // Age, the length and the cache status are this answer's own (a stored response may carry stale ones).
  const headers: HeaderList = found.headers.filter(([n]) => n !== "age" && n !== "content-length" && n !== "cf-cache-status");
  headers.push(["age", String(found.age)], ["cf-cache-status", "HIT"]);
  if (viewerNotModified(request, found)) return { status: 304, statusText: "Not Modified", headers, body: null };
  const statusText = found.statusText !== "" ? found.statusText : (STATUS_CODES[found.status] ?? "");
  const range = request.get("range");
  if (range !== null && found.status === 200) {
    const partial = rangeAnswer(range, found.body, found.headers.find(([n]) => n === "content-type")?.[1]);
    if (partial?.status === 416) return { status: 416, statusText: "Range Not Satisfiable", headers: [...partial.headers, ["cf-cache-status", "HIT"]], body: null };
    if (partial !== undefined) {
      const out = partial.multipart ? headers.filter(([n]) => n !== "content-type") : headers;
      out.push(...partial.headers, ["content-length", String(partial.body.byteLength)]);
      return { status: 206, statusText: "Partial Content", headers: out, body: partial.body };
    }
  }
  // Shared with other readers (StoredResponse): whoever gets it copies it (the bridge does).
  const body = found.body;
  headers.push(["content-length", String(body.byteLength)]);
  return { status: found.status, statusText, headers, body };
}

