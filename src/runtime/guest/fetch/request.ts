/**
 * Request (https://fetch.spec.whatwg.org/#request-class), as a server-side
 * runtime needs it: no CORS modes or forbidden headers; `cf` as in Workers.
 */
import { Body, BODY_TOKEN, bodyHeaders, bodyState, cloneBody, extractBody, setBodyHeaders, setBodyState, transferBody } from "./body.ts";
import type { BodyInit, BodyState } from "./body.ts";
import { chunk, loadedChunk } from "../core/lazy.ts";
import { Headers, copyHeaders } from "./headers.ts";
import type { HeadersInit } from "./headers.ts";
import { isObject, platform, tag, toByteString, toUSVString } from "./webidl.ts";
import type { AbortSignalLike } from "./webidl.ts";

export type RequestRedirect = "follow" | "manual" | "error";
export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  redirect?: RequestRedirect;
  signal?: AbortSignalLike | null;
  cf?: unknown;
  cache?: string;
  integrity?: string;
  keepalive?: boolean;
  [key: string]: unknown;
}

interface RequestState {
  method: string;
  url: string;
  redirect: RequestRedirect;
  signal: AbortSignalLike | null;
  cf: unknown;
  cache: string;
  integrity: string;
  keepalive: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NORMALIZED = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const FORBIDDEN = new Set(["CONNECT", "TRACE", "TRACK"]);
const REDIRECTS = new Set(["follow", "manual", "error"]);
const CACHES = new Set(["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"]);

function normalizeMethod(m: unknown): string {
  const s = toByteString(m, "Request method");
  if (!TOKEN.test(s)) throw new TypeError(`Invalid HTTP method: ${JSON.stringify(s)}`);
  const upper = s.toUpperCase();
  if (FORBIDDEN.has(upper)) throw new TypeError(`HTTP method ${JSON.stringify(s)} is forbidden`);
  return NORMALIZED.has(upper) ? upper : s;
}

function parseUrl(input: unknown): string {
  const s = toUSVString(input);
  let url;
  try {
    url = new (platform("URL"))(s);
  } catch {
    throw new TypeError(`Invalid URL: ${s}`);
  }
  if (url.username !== "" || url.password !== "") throw new TypeError(`Request URL must not include credentials: ${s}`);
  return url.href;
}

function isSignal(v: unknown): v is AbortSignalLike {
  // No signal can exist before the "events" part is loaded.
  const events = loadedChunk("events");
  return events !== undefined && isObject(v) && Object.prototype.isPrototypeOf.call(events.AbortSignal.prototype, v);
}

// Only this module holds it, so only trusted code takes the constructor's fast path.
const TRUSTED = Symbol("trusted");

export let requestState: (r: Request) => RequestState;
/** Builds a Request from trusted parts (the host's incoming request), skipping validation. */
export let makeRequest: (s: RequestState, headers: Headers, body: BodyState | null) => Request;
/** Brand check that user code cannot fake (no instanceof on a replaceable global). */
export let isRequest: (v: unknown) => v is Request;

export class Request extends Body {
  #s: RequestState;

  constructor(input: Request | string | { toString(): string } | typeof TRUSTED, init?: RequestInit) {
    super(BODY_TOKEN);
    if (input === TRUSTED) {
      const t = init as unknown as { s: RequestState; headers: Headers; body: BodyState | null };
      this.#s = t.s;
      setBodyHeaders(this, t.headers);
      setBodyState(this, t.body);
      return;
    }
    if (arguments.length < 1) throw new TypeError("Request constructor: 1 argument required");
    if (init !== undefined && init !== null && !isObject(init)) throw new TypeError("Request constructor: init must be an object");
    const o: RequestInit = init ?? {};
    const from = isObject(input) && #s in input ? input : null;
    const base: RequestState = from !== null
      ? { ...from.#s }
      : { method: "GET", url: parseUrl(input), redirect: "follow", signal: null, cf: undefined, cache: "default", integrity: "", keepalive: false };
    this.#s = base;

    if (o.method !== undefined) base.method = normalizeMethod(o.method);
    if (o.redirect !== undefined) {
      if (!REDIRECTS.has(o.redirect as string)) throw new TypeError(`Request constructor: invalid redirect mode ${String(o.redirect)}`);
      base.redirect = o.redirect;
    }
    if (o.cache !== undefined) {
      if (!CACHES.has(o.cache)) throw new TypeError(`Request constructor: invalid cache mode ${String(o.cache)}`);
      base.cache = o.cache;
    }
    if (o.integrity !== undefined) base.integrity = String(o.integrity);
    if (o.keepalive !== undefined) base.keepalive = Boolean(o.keepalive);
    if ("signal" in o) {
      const signal = o.signal;
      if (signal !== null && signal !== undefined && !isSignal(signal)) throw new TypeError("Request constructor: signal must be an AbortSignal");
      if (signal !== undefined) base.signal = signal;
    }
    if (o.cf !== undefined) base.cf = o.cf;

    const headers = o.headers !== undefined ? new Headers(o.headers) : new Headers(from !== null ? bodyHeaders(from) : undefined);
    setBodyHeaders(this, headers);

    const inputBody = from !== null ? bodyState(from) : null;
    const initBody = o.body ?? null;
    if ((initBody !== null || inputBody !== null) && (base.method === "GET" || base.method === "HEAD")) {
      throw new TypeError("Request with a GET or HEAD method cannot have a body.");
    }
    if (initBody !== null) {
      const { body, type } = extractBody(initBody);
      if (type !== null && !headers.has("content-type")) headers.append("content-type", type);
      setBodyState(this, body);
    } else if (inputBody !== null) {
      setBodyState(this, transferBody(inputBody));
    }
  }

  get method(): string {
    return this.#s.method;
  }
  get url(): string {
    return this.#s.url;
  }
  get headers(): Headers {
    void this.#s;
    return bodyHeaders(this);
  }
  get redirect(): RequestRedirect {
    return this.#s.redirect;
  }
  get signal(): AbortSignalLike {
    return (this.#s.signal ??= new (chunk("events").AbortController)().signal);
  }
  /** Workers: the incoming request's Cloudflare properties (or what `init.cf` gave). */
  get cf(): unknown {
    return this.#s.cf;
  }
  get cache(): string {
    return this.#s.cache;
  }
  get integrity(): string {
    return this.#s.integrity;
  }
  get keepalive(): boolean {
    return this.#s.keepalive;
  }
  get mode(): string {
    void this.#s;
    return "cors";
  }
  get credentials(): string {
    void this.#s;
    return "same-origin";
  }
  get destination(): string {
    void this.#s;
    return "";
  }
  get referrer(): string {
    void this.#s;
    return "about:client";
  }
  get referrerPolicy(): string {
    void this.#s;
    return "";
  }
  get duplex(): string {
    void this.#s;
    return "half";
  }

  clone(): Request {
    return makeRequest({ ...this.#s }, copyHeaders(bodyHeaders(this)), cloneBody(bodyState(this)));
  }

  static {
    requestState = (r) => r.#s;
    makeRequest = (s, headers, body) => new Request(TRUSTED, { s, headers, body } as unknown as RequestInit);
    isRequest = (v): v is Request => isObject(v) && #s in v;
  }
}
tag(Request, "Request");
