/**
 * What the cache keeps in the node's LMDB environment (see README.md):
 *
 * - `cache-meta` `m/<distribution>/<key>/<variant>` → {@link CacheEntry} (msgpack);
 *   `<distribution>` is URI-encoded so a `/` in it cannot spill into the key.
 * - `cache-meta` `s/bytes`, `s/entries` → numbers, kept inside the same write
 *   transactions as the entries they count; `s/generation` → a number bumped
 *   by each of those transactions, so a reader can tell nothing changed.
 * - `cache-body` `<bodyId>` → the body bytes. A body id is fresh for every
 *   stored response, so a reader that read an entry never gets another
 *   response's body: it gets the right one or none (then it is a miss).
 */
import { randomUUID } from "node:crypto";
import { headersInit, partsResponse, type HeaderList } from "../../shared/http.ts";
import type { Timing } from "./freshness.ts";
import type { RangeAnswer } from "./range.ts";

export interface CacheEntry extends Timing {
  v: 1;
  distribution: string;
  path: string;
  key: string;
  variant: string;
  status: number;
  statusText: string;
  /** Lowercased names; `set-cookie`, `age` and hop-by-hop headers left out. */
  headers: Array<[string, string]>;
  /** Vary names and the request values this variant was stored for. */
  vary: string[];
  varyValues: Array<string | null>;
  etag: string | null;
  lastModified: string | null;
  /** From the `Cache-Tag` response header, for purge by tag. */
  tags: string[];
  bodyId: string;
  /** Bytes this entry counts against maxBytes: body plus headers plus a fixed overhead. */
  size: number;
  /** ms of the last hit this process persisted (LRU order across restarts and processes). */
  lastAccess: number;
}

export const BYTES_KEY = "s/bytes";
export const ENTRIES_KEY = "s/entries";
/** Bumped by every write transaction that adds, changes or removes an entry (storage.ts). */
export const GENERATION_KEY = "s/generation";
export const ENTRY_PREFIX = "m/";
/** Per-record bytes beyond body and headers (keys, numbers, LMDB page slack). */
export const RECORD_OVERHEAD = 256;

const prefixes = new Map<string, string>();

export function distributionPrefix(distribution: string): string {
  let prefix = prefixes.get(distribution);
  if (prefix === undefined) {
    prefix = `${ENTRY_PREFIX}${encodeURIComponent(distribution)}/`;
    // Distribution ids are few; a bound keeps a stream of odd ones from growing it.
    if (prefixes.size >= 1024) prefixes.clear();
    prefixes.set(distribution, prefix);
  }
  return prefix;
}

/** Prefix of every variant of one key. */
export function keyPrefix(distribution: string, key: string): string {
  return `${distributionPrefix(distribution)}${key}/`;
}

export function entryKey(distribution: string, key: string, variant: string): string {
  return `${keyPrefix(distribution, key)}${variant}`;
}

export function newBodyId(): string {
  return randomUUID();
}

/**
 * Headers that describe one connection (RFC 9110 §7.6.1), the `Age` the cache
 * recomputes, and `Set-Cookie`, which a shared cache must not hand to other
 * viewers (the viewer of the miss still gets it).
 */
const NOT_STORED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "age",
  "set-cookie",
]);

export function storedHeaders(headers: Headers): Array<[string, string]> {
  return [...headers].filter(([name]) => !NOT_STORED.has(name));
}

/** What a new record is made of (see {@link newEntry}). */
export interface NewEntry {
  distribution: string;
  path: string;
  key: string;
  /** The record's key (entryKey()), whose last segment is the variant. */
  entryKey: string;
  status: number;
  statusText: string;
  /** The response's headers: stored as storedHeaders() keeps them; validators and tags read from them. */
  headers: Headers;
  vary: string[];
  varyValues: Array<string | null>;
  bodyBytes: number;
  /** ms */
  at: number;
  timing: Omit<Timing, "storedAt">;
}

/** A record for a response stored now, with a fresh body id. */
export function newEntry(o: NewEntry): CacheEntry {
  const headers = storedHeaders(o.headers);
  return {
    v: 1,
    distribution: o.distribution,
    path: o.path,
    key: o.key,
    variant: o.entryKey.slice(o.entryKey.lastIndexOf("/") + 1),
    status: o.status,
    statusText: o.statusText,
    headers,
    vary: o.vary,
    varyValues: o.varyValues,
    etag: o.headers.get("etag"),
    lastModified: o.headers.get("last-modified"),
    tags: tagsOf(o.headers),
    bodyId: newBodyId(),
    size: sizeOf(o.bodyBytes, headers),
    lastAccess: o.at,
    storedAt: o.at,
    initialAge: o.timing.initialAge,
    ttl: o.timing.ttl,
    noCache: o.timing.noCache,
    staleIfError: o.timing.staleIfError,
  };
}

/**
 * RFC 9111 §3.2: a 304 updates the stored headers, except the ones describing
 * the body it does not carry.
 */
const NOT_UPDATED_BY_304 = new Set(["content-length", "content-encoding", "content-type", "content-range"]);

export function mergeHeaders(stored: Array<[string, string]>, update: Headers): Array<[string, string]> {
  const merged = new Headers(stored);
  for (const [name, value] of storedHeaders(update)) {
    if (!NOT_UPDATED_BY_304.has(name)) merged.set(name, value);
  }
  return [...merged];
}

export function tagsOf(headers: Headers): string[] {
  const raw = headers.get("cache-tag");
  if (raw === null) return [];
  return [...new Set(raw.split(",").map((t) => t.trim()).filter((t) => t !== ""))];
}

export function sizeOf(bodyBytes: number, headers: Array<[string, string]>): number {
  let n = bodyBytes + RECORD_OVERHEAD;
  for (const [k, v] of headers) n += k.length + v.length + 4;
  return n;
}

/**
 * The stored response as the viewer gets it, with `Age` (RFC 9111 §5.1). Made
 * with `partsResponse`, so the pipeline reads its parts back without
 * iterating `Headers` or streaming the body.
 */
export function entryResponse(entry: CacheEntry, headers: Array<[string, string]>, body: Uint8Array | null, age: number): Response {
  const base = servedHeaders(headers);
  const value = String(age);
  const out = withAge(base.list, value);
  if (base.init === null) return partsResponse({ status: entry.status, statusText: entry.statusText, headers: out, body });
  const init = { ...base.init };
  init["age"] = value;
  return partsResponse({ status: entry.status, statusText: entry.statusText, headers: out, body }, init);
}

/** A 206 or 416 from a stored 200 (range.ts): its headers without the whole body's length (and type, for several ranges), then the range's. */
export function partialResponse(entry: CacheEntry, partial: RangeAnswer, age: number): Response {
  const dropped = partial.status === 416 ? ["content-length", "content-type", "content-encoding"] : partial.multipart ? ["content-length", "content-type"] : ["content-length"];
  const headers: HeaderList = servedHeaders(entry.headers).list.filter(([n]) => !dropped.includes(n));
  headers.push(...partial.headers, ["age", String(age)]);
  const statusText = partial.status === 206 ? "Partial Content" : "Range Not Satisfiable";
  return partsResponse({ status: partial.status, statusText, headers, body: partial.body });
}

/**
 * A copy of `list` (a frozen served list) with `Age` last. Copied by hand: V8's
 * `slice` of a frozen array takes a slow path (0.7 µs for six headers here, 0.06 by hand).
 */
export function withAge(list: Readonly<HeaderList>, age: string): HeaderList {
  const out: HeaderList = new Array(list.length + 1);
  for (let i = 0; i < list.length; i++) out[i] = list[i]!;
  out[list.length] = ["age", age];
  return out;
}

/**
 * A stored header list without `Age`, and its `headersInit` (null when that is
 * a `Headers`, which cannot be extended by copying), made once per list:
 * stored entries are shared and frozen while their record is unchanged, so a
 * hot entry's headers are checked and shaped once, not on every hit.
 */
const served = new WeakMap<ReadonlyArray<[string, string]>, { list: HeaderList; init: Record<string, string> | null }>();

export function servedHeaders(headers: Array<[string, string]>): { list: HeaderList; init: Record<string, string> | null } {
  let known = served.get(headers);
  if (known === undefined) {
    const list = headers.filter(([name]) => name !== "age");
    const init = headersInit(list);
    known = { list, init: init instanceof Headers ? null : init };
    if (Object.isFrozen(headers)) {
      Object.freeze(list);
      served.set(headers, known);
    }
  }
  return known;
}

/**
 * The headers a 304 carries (RFC 9110 §15.4.5): the validators and the
 * caching headers, not the content's.
 */
const KEPT_ON_304 = ["cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary", "age"];

export function notModifiedResponse(entry: CacheEntry, age: number): Response {
  const stored = new Headers(entry.headers);
  const out = new Headers();
  for (const name of KEPT_ON_304) {
    const value = stored.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set("age", String(age));
  return new Response(null, { status: 304, headers: out });
}
