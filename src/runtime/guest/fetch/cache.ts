/**
 * The Workers Cache API: `caches.default`, `await caches.open(name)`, and
 * `match` / `put` / `delete` on a Cache, as Cloudflare documents it
 * (https://developers.cloudflare.com/workers/runtime-apis/cache/) and workerd
 * implements it (src/workerd/api/cache.c++): the same argument checks, the same
 * TypeErrors, the same methods left unimplemented. Each call is one "cache" host
 * op (bridge/protocol.ts `CacheOpPayload`); the host keeps the entries in the
 * node's response cache (src/pipeline/cache/cache-api.ts) and applies the
 * caching rules (Cache-Control, Expires, Set-Cookie, Vary, conditionals, Range).
 * In the "caches" lazy part: loaded when a function first reads `caches`.
 */
import type { CacheOpMatch, CacheOpPayload, GuestBody } from "../../bridge/protocol.ts";
import { callOp } from "../core/host.ts";
import { cacheSupport } from "./cache-support.ts";
import type { Request } from "./request.ts";
import type { Response } from "./response.ts";
import { isObject, utf8Encode } from "./webidl.ts";

const { registerOutgoing, bodyForBridge, bodyHeaders, bodyState, bytesBody, trustedHeaders, headerList, isRequest, requestState, isResponse, makeResponse, responseState } = cacheSupport;

// Only this module holds it: user code cannot construct a Cache or a CacheStorage.
const TOKEN = Symbol("cache");
/** workerd's limit on a cache name, in UTF-8 bytes ("Cache name is too long."). */
const MAX_NAME_BYTES = 1024;

function notImplemented(iface: string, method: string): Error {
  return new Error(`Failed to execute '${method}' on '${iface}': the method is not implemented.`);
}

/** WebIDL `(Request or string)`: a Request as it is, anything else a URL for a new one. */
function requestArg(method: string, input: unknown): Request {
  if (input === undefined) throw new TypeError(`Failed to execute '${method}' on 'Cache': parameter 1 is not of type 'Request or string'.`);
  return isRequest(input) ? input : new cacheSupport.Request(input as string);
}

/** `CacheQueryOptions.ignoreMethod`: match and delete treat any method as GET. */
function ignoresMethod(options: unknown): boolean {
  return isObject(options) && Boolean((options as { ignoreMethod?: unknown }).ignoreMethod);
}

/** What keys a cache entry: the URL without its fragment, and the headers Vary, conditionals and Range read. */
function keyOf(request: Request): Pick<CacheOpPayload, "url" | "headers"> {
  return { url: requestState(request).url.replace(/#.*$/s, ""), headers: headerList(request.headers) };
}

export class Cache {
  #name: string | null;

  constructor(token?: unknown, name: string | null = null) {
    if (token !== TOKEN) throw new TypeError("Illegal constructor");
    this.#name = name;
  }

  /**
   * A fresh stored response for `request`, with `cf-cache-status: HIT`; undefined on a miss,
   * and for a request whose method is not GET unless `options.ignoreMethod`. The request's
   * `If-None-Match` / `If-Modified-Since` may make it a 304, and its `Range` a 206 (or 416).
   */
  async match(request?: unknown, options?: unknown): Promise<Response | undefined> {
    const cache = this.#name;
    const r = requestArg("match", request);
    if (!ignoresMethod(options) && requestState(r).method !== "GET") return undefined;
    const payload: CacheOpPayload = { method: "match", cache, ...keyOf(r) };
    const found = await callOp<CacheOpMatch | null>("cache", payload);
    if (found === null) return undefined;
    return makeResponse(
      { status: found.status, statusText: found.statusText, type: "default", url: "", redirected: false, cf: undefined, webSocket: null },
      trustedHeaders(found.headers),
      found.body === null ? null : bytesBody(found.body),
    );
  }

  /**
   * Stores `response` under `request` (a GET). The response's body is used at once, as in
   * Workers. Resolves when the cache has it, or has decided not to keep it (Cache-Control
   * `no-store` or `private`, `Set-Cookie`, no lifetime, a body over the cache's limit).
   */
  async put(request?: unknown, response?: unknown): Promise<void> {
    const cache = this.#name;
    if (request === undefined) throw new TypeError("Failed to execute 'put' on 'Cache': parameter 1 is not of type 'Request or string'.");
    if (!isResponse(response)) throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
    const res = response as Response;
    const s = responseState(res);
    if (s.type === "error") throw new TypeError("Cache is unable to store an error response");
    const r = requestArg("put", request);
    if (requestState(r).method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (s.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
    const vary = bodyHeaders(res).get("vary");
    if (vary !== null && vary.includes("*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
    // workerd discards a 304 without storing it (or touching its body): caching one is a bug source.
    if (s.status === 304) return;
    const state = bodyState(res);
    const taken = bodyForBridge(state);
    let body: GuestBody = null;
    if (taken instanceof Uint8Array) body = taken;
    else if (taken !== null) {
      // The host pulls it (GuestApi.pull); the response reads as used from now on.
      state!.used = true;
      body = { stream: registerOutgoing(taken as unknown as Parameters<typeof registerOutgoing>[0]) };
    }
    const payload: CacheOpPayload = {
      method: "put",
      cache,
      ...keyOf(r),
      response: { status: s.status, statusText: s.statusText, headers: headerList(bodyHeaders(res)), body },
    };
    await callOp<null>("cache", payload);
  }

  /** Removes the entry stored under `request`; false when there was none (or the method is not GET, unless `options.ignoreMethod`). */
  async delete(request?: unknown, options?: unknown): Promise<boolean> {
    const cache = this.#name;
    const r = requestArg("delete", request);
    if (!ignoresMethod(options) && requestState(r).method !== "GET") return false;
    const payload: CacheOpPayload = { method: "delete", cache, ...keyOf(r) };
    return (await callOp<boolean>("cache", payload)) === true;
  }

  // Not in Workers: its cache has no enumeration and no one-to-many match.
  add(): never {
    void this.#name;
    throw notImplemented("Cache", "add");
  }
  addAll(): never {
    void this.#name;
    throw notImplemented("Cache", "addAll");
  }
  matchAll(): never {
    void this.#name;
    throw notImplemented("Cache", "matchAll");
  }
  keys(): never {
    void this.#name;
    throw notImplemented("Cache", "keys");
  }
}

export class CacheStorage {
  #default: Cache;

  constructor(token?: unknown) {
    if (token !== TOKEN) throw new TypeError("Illegal constructor");
    this.#default = new Cache(TOKEN, null);
  }

  /** The zone's cache: on an edge node, the one the distribution's own traffic uses. */
  get default(): Cache {
    return this.#default;
  }

  /** A cache of its own, by name (separate from `default`; shared by the tenant's functions on a node). */
  async open(cacheName?: unknown): Promise<Cache> {
    void this.#default;
    if (cacheName === undefined) throw new TypeError("Failed to execute 'open' on 'CacheStorage': parameter 1 is not of type 'string'.");
    const name = String(cacheName);
    if (utf8Encode(name).byteLength >= MAX_NAME_BYTES) throw new TypeError("Cache name is too long.");
    return new Cache(TOKEN, name);
  }

  // Not in Workers: caches cannot be listed, tested or deleted by name.
  match(): never {
    void this.#default;
    throw notImplemented("CacheStorage", "match");
  }
  has(): never {
    void this.#default;
    throw notImplemented("CacheStorage", "has");
  }
  delete(): never {
    void this.#default;
    throw notImplemented("CacheStorage", "delete");
  }
  keys(): never {
    void this.#default;
    throw notImplemented("CacheStorage", "keys");
  }
}

let storage: CacheStorage | undefined;

/** The isolate's `caches`: one CacheStorage, made on first read. */
export function cacheStorage(): CacheStorage {
  return (storage ??= new CacheStorage(TOKEN));
}
