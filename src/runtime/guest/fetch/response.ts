/**
 * Response (https://fetch.spec.whatwg.org/#response-class), plus Workers'
 * `cf` and `webSocket`: a 101 (the only status below 200 it allows) carries one
 * side of a WebSocketPair, which the runtime hands to the client when the
 * handler returns it (core/dispatch.ts).
 */
import { Body, BODY_TOKEN, bodyHeaders, bodyState, bytesBody, cloneBody, extractBody, setBodyHeaders, setBodyState } from "./body.ts";
import type { BodyInit, BodyState } from "./body.ts";
import { Headers, copyHeaders, setGuard } from "./headers.ts";
import type { HeadersInit } from "./headers.ts";
import { isObject, platform, tag, toByteString, toUSVString, utf8Encode } from "./webidl.ts";
import { loadedChunk } from "../core/lazy.ts";

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
  cf?: unknown;
  webSocket?: unknown;
  [key: string]: unknown;
}

export type ResponseType = "basic" | "cors" | "default" | "error" | "opaque" | "opaqueredirect";

export interface ResponseState {
  status: number;
  statusText: string;
  type: ResponseType;
  url: string;
  redirected: boolean;
  cf: unknown;
  /** Workers: one side of a WebSocketPair (status 101), else null. */
  webSocket: unknown;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
// reason-phrase = *( HTAB / SP / VCHAR / obs-text )
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isNullBodyStatus(status: number): boolean {
  return NULL_BODY_STATUS.has(status);
}

// Only this module holds it, so only trusted code takes the constructor's fast path.
const TRUSTED = Symbol("trusted");

export let responseState: (r: Response) => ResponseState;
/** Builds a Response from trusted parts (fetch results, Response.error/redirect), skipping validation. */
export let makeResponse: (s: ResponseState, headers: Headers, body: BodyState | null) => Response;
/** Brand check that user code cannot fake (no instanceof on a replaceable global). */
export let isResponse: (v: unknown) => boolean;

function defaults(status: number, statusText: string): ResponseState {
  return { status, statusText, type: "default", url: "", redirected: false, cf: undefined, webSocket: null };
}

export class Response extends Body {
  #s: ResponseState;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    super(BODY_TOKEN);
    if (body === TRUSTED) {
      const t = init as unknown as { s: ResponseState; headers: Headers; body: BodyState | null };
      this.#s = t.s;
      setBodyHeaders(this, t.headers);
      setBodyState(this, t.body);
      return;
    }
    if (init !== undefined && init !== null && !isObject(init)) throw new TypeError("Response constructor: init must be an object");
    const o: ResponseInit = init ?? {};
    // WebIDL unsigned short: truncated toward zero.
    const status = o.status === undefined ? 200 : Math.trunc(Number(o.status));
    const webSocket = o.webSocket === undefined || o.webSocket === null ? null : o.webSocket;
    if (webSocket !== null) {
      // Only a function that made a WebSocketPair has the part: anything else is not a WebSocket.
      if (loadedChunk("websocket")?.isWebSocket(webSocket) !== true) {
        throw new TypeError("Incorrect type for the 'webSocket' field on 'InitializerDict': the provided value is not of type 'WebSocket'.");
      }
      if (status !== 101) throw new RangeError("Responses with a WebSocket must have status code 101.");
    } else if (!(status >= 200 && status <= 599)) {
      throw new RangeError(`Response constructor: the status provided (${String(o.status)}) must be in the range 200 to 599`);
    }
    const statusText = o.statusText === undefined ? "" : toByteString(o.statusText, "Response statusText");
    if (!REASON.test(statusText)) throw new TypeError(`Response constructor: invalid statusText ${JSON.stringify(statusText)}`);
    this.#s = defaults(status, statusText);
    if (o.cf !== undefined) this.#s.cf = o.cf;
    this.#s.webSocket = webSocket;
    const headers = new Headers(o.headers);
    setBodyHeaders(this, headers);
    if (body !== undefined && body !== null) {
      if (NULL_BODY_STATUS.has(status)) throw new TypeError(`Response constructor: a response with status ${status} cannot have a body`);
      const { body: b, type } = extractBody(body);
      if (type !== null && !headers.has("content-type")) headers.append("content-type", type);
      setBodyState(this, b);
    }
  }

  get type(): ResponseType {
    return this.#s.type;
  }
  get url(): string {
    return this.#s.url;
  }
  get redirected(): boolean {
    return this.#s.redirected;
  }
  get status(): number {
    return this.#s.status;
  }
  get ok(): boolean {
    return this.#s.status >= 200 && this.#s.status <= 299;
  }
  get statusText(): string {
    return this.#s.statusText;
  }
  get headers(): Headers {
    void this.#s;
    return bodyHeaders(this);
  }
  /** Workers: the Cloudflare properties of a fetched response (or what `init.cf` gave). */
  get cf(): unknown {
    return this.#s.cf;
  }
  /** Workers: the WebSocket a 101 response hands to the client, else null. */
  get webSocket(): unknown {
    return this.#s.webSocket;
  }

  clone(): Response {
    return makeResponse({ ...this.#s }, copyHeaders(bodyHeaders(this)), cloneBody(bodyState(this)));
  }

  static error(): Response {
    const headers = new Headers();
    setGuard(headers, "immutable");
    return makeResponse({ ...defaults(0, ""), type: "error" }, headers, null);
  }

  static redirect(url: string, status = 302): Response {
    let href: string;
    try {
      href = new (platform("URL"))(toUSVString(url)).href;
    } catch {
      throw new TypeError(`Response.redirect: invalid URL ${String(url)}`);
    }
    const code = Math.trunc(Number(status));
    if (!REDIRECT_STATUS.has(code)) throw new RangeError(`Response.redirect: invalid redirect status ${String(status)}`);
    const headers = new Headers({ location: href });
    setGuard(headers, "immutable");
    return makeResponse(defaults(code, ""), headers, null);
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Response.json: the data is not JSON-serializable");
    const res = new Response(null, init);
    if (NULL_BODY_STATUS.has(res.#s.status)) throw new TypeError(`Response.json: a response with status ${res.#s.status} cannot have a body`);
    setBodyState(res, bytesBody(utf8Encode(text)));
    const headers = bodyHeaders(res);
    if (!headers.has("content-type")) headers.append("content-type", "application/json");
    return res;
  }

  static {
    responseState = (r) => r.#s;
    makeResponse = (s, headers, body) => new Response(TRUSTED as unknown as null, { s, headers, body } as unknown as ResponseInit);
    isResponse = (v) => isObject(v) && #s in v;
  }
}
tag(Response, "Response");
