/**
 * Whether a response may be stored, for how long, and whether a stored entry
 * is fresh, stale but usable on an origin error, or neither. CloudFront's
 * rules ("Manage how long content stays in the cache", "HTTP 4xx and 5xx
 * status codes that CloudFront caches") over RFC 9111's model of age.
 */
import type { Ttl } from "../../shared/protocol.ts";
import { deltaSeconds, httpDate, parseCacheControl } from "./cache-control.ts";

/** Seconds a stale entry may stand in for an origin error when the origin names no `stale-if-error`. */
export const DEFAULT_STALE_IF_ERROR = 86_400;

/**
 * Stored under the behavior's TTLs like a 200: RFC 9110 §15.1's heuristically
 * cacheable codes (206 left out: verge does not cache ranges) and the 3xx that
 * CloudFront caches by default.
 */
const CACHEABLE = new Set([200, 203, 204, 300, 301, 302, 303, 404, 405, 410, 414, 501]);
/**
 * Stored only when the origin sent `max-age` or `s-maxage`: CloudFront caches
 * 307/308 only with Cache-Control and 400/403/412/415 only with an explicit age.
 */
const CACHEABLE_IF_EXPLICIT = new Set([307, 308, 400, 403, 412, 415]);
/** Origin failures: never stored; a stale entry answers in their place (stale-if-error). */
export const ORIGIN_ERRORS: ReadonlySet<number> = new Set([500, 502, 503, 504]);

export type StoreDecision =
  | { store: false; reason: string }
  | {
      store: true;
      /** Freshness lifetime in seconds, already clamped to the behavior's min..max. */
      ttl: number;
      /** Stored, but revalidated before every use (`no-cache` with `ttl.min` 0). */
      noCache: boolean;
      /** Seconds past `ttl` during which the entry may answer for an origin error. */
      staleIfError: number;
      /** The origin's `Age` at reception, in seconds. */
      initialAge: number;
    };

/**
 * Decides whether `headers`/`status` (an origin response to a GET) is stored,
 * at time `now` (ms).
 *
 * @example
 * storeDecision(new Headers({ "cache-control": "max-age=600" }), 200, { min: 0, default: 86400, max: 300 }, Date.now())
 * // { store: true, ttl: 300, ... }
 */
export function storeDecision(headers: Headers, status: number, ttl: Ttl, now: number): StoreDecision {
  if (!CACHEABLE.has(status) && !CACHEABLE_IF_EXPLICIT.has(status)) return { store: false, reason: `status ${status} is not cached` };
  const vary = headers.get("vary");
  if (vary !== null && vary.split(",").some((v) => v.trim() === "*")) return { store: false, reason: "Vary: *" };
  const cc = parseCacheControl(headers.get("cache-control"));
  const explicit = deltaSeconds(cc, "s-maxage") ?? deltaSeconds(cc, "max-age");
  if (explicit === undefined && CACHEABLE_IF_EXPLICIT.has(status)) return { store: false, reason: `status ${status} without max-age` };

  // CloudFront: no-store / private / no-cache are honoured only while the
  // minimum TTL is 0; a positive minimum TTL caches for that minimum.
  const restrictive = cc.has("no-store") || cc.has("private");
  if (restrictive && ttl.min === 0) return { store: false, reason: cc.has("no-store") ? "no-store" : "private" };
  const noCache = cc.has("no-cache") && ttl.min === 0;

  let lifetime: number;
  if (restrictive || cc.has("no-cache")) lifetime = ttl.min;
  else if (explicit !== undefined) lifetime = explicit;
  else if (headers.has("expires")) {
    // RFC 9111 §5.3: an invalid Expires ("0") means already expired.
    const expires = httpDate(headers.get("expires"));
    const date = httpDate(headers.get("date")) ?? now;
    lifetime = expires === undefined ? 0 : Math.max(0, Math.floor((expires - date) / 1000));
  } else lifetime = ttl.default;
  lifetime = Math.min(Math.max(lifetime, ttl.min), ttl.max);

  // must-revalidate forbids serving stale (RFC 9111 §5.2.2.2) unless the origin
  // explicitly allows it for errors; so does a no-cache entry.
  const mustRevalidate = cc.has("must-revalidate") || cc.has("proxy-revalidate") || noCache;
  const staleIfError = deltaSeconds(cc, "stale-if-error") ?? (mustRevalidate ? 0 : DEFAULT_STALE_IF_ERROR);
  const age = headers.get("age");
  const initialAge = age !== null && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0;
  return { store: true, ttl: noCache ? 0 : lifetime, noCache, staleIfError, initialAge };
}

/** The timing fields of a stored entry. */
export interface Timing {
  /** ms when the response was received or last revalidated. */
  storedAt: number;
  initialAge: number;
  ttl: number;
  noCache: boolean;
  staleIfError: number;
}

/** Current age in whole seconds (RFC 9111 §4.2.3, without the request-delay correction). */
export function currentAge(entry: Timing, now: number): number {
  return entry.initialAge + Math.max(0, Math.floor((now - entry.storedAt) / 1000));
}

export function isFresh(entry: Timing, now: number): boolean {
  return !entry.noCache && currentAge(entry, now) < entry.ttl;
}

/** May answer in place of an origin error: stale by no more than `staleIfError` seconds. */
export function usableOnError(entry: Timing, now: number): boolean {
  return currentAge(entry, now) <= entry.ttl + entry.staleIfError && entry.staleIfError > 0;
}
