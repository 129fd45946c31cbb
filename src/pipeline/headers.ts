/**
 * Header handling at the proxy's two edges (RFC 9110 §7.6.1, RFC 9112 §9.6):
 * hop-by-hop headers never cross the node in either direction, `Via` names the
 * node, `X-Forwarded-For` carries the client address to the origin.
 */
import type { HeaderList } from "../shared/http.ts";

/** Hop-by-hop by definition, whatever `Connection` says (`proxy-*` handled by prefix). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]);

/** True for a header that must not be forwarded: hop-by-hop, `proxy-*`, or named in `Connection`. */
export function isHopByHop(name: string, connectionNamed: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith("proxy-") || connectionNamed.has(name);
}

/** Header names listed in the message's `Connection` header(s), lowercase. */
export function connectionTokens(headers: HeaderList): Set<string> {
  const out = new Set<string>();
  for (const [name, value] of headers) {
    if (name !== "connection") continue;
    for (const token of value.split(",")) {
      const t = token.trim().toLowerCase();
      if (t !== "") out.add(t);
    }
  }
  return out;
}

/** The list without hop-by-hop headers (names lowercase). */
export function stripHopByHop(headers: HeaderList): HeaderList {
  const named = connectionTokens(headers);
  return headers.filter(([name]) => !isHopByHop(name, named));
}

/** Removes hop-by-hop headers from a `Headers` object in place. */
export function stripHopByHopHeaders(headers: Headers): void {
  const named = new Set<string>();
  const connection = headers.get("connection");
  if (connection !== null) for (const t of connection.split(",")) if (t.trim() !== "") named.add(t.trim().toLowerCase());
  const drop: string[] = [];
  for (const [name] of headers) if (isHopByHop(name, named)) drop.push(name);
  for (const name of drop) headers.delete(name);
}

/** A `Headers` object as a list: lowercase names, `set-cookie` one line per cookie. */
export function headersToList(headers: Headers): HeaderList {
  const out: HeaderList = [];
  headers.forEach((value, name) => {
    if (name !== "set-cookie") out.push([name, value]);
  });
  for (const cookie of headers.getSetCookie()) out.push(["set-cookie", cookie]);
  return out;
}

export function listToHeaders(list: HeaderList): Headers {
  const h = new Headers();
  for (const [name, value] of list) h.append(name, value);
  return h;
}

/** Sets one header in a list: drops every line of `name`, appends the new one. */
export function setHeader(list: HeaderList, name: string, value: string): HeaderList {
  const out = list.filter(([n]) => n !== name);
  out.push([name, value]);
  return out;
}

export function deleteHeader(list: HeaderList, name: string): HeaderList {
  return list.filter(([n]) => n !== name);
}

/** Normalised `Accept-Encoding` values seen (viewers send few distinct ones); bounded. */
const ENCODINGS = new Map<string, string | null>();

/**
 * `Accept-Encoding` as CloudFront normalises it when a cache policy lets the
 * cache keep compressed objects: `br,gzip`, `br` or `gzip`, the codings of the
 * two the viewer accepts (q above 0; `*` accepts each one it does not name),
 * or null for neither. Other codings (deflate, zstd) are never asked of the
 * origin, so a `Vary: Accept-Encoding` response has at most four variants.
 */
export function normalizeAcceptEncoding(value: string): string | null {
  const known = ENCODINGS.get(value);
  if (known !== undefined) return known;
  const q = new Map<string, number>();
  for (const part of value.split(",")) {
    const [coding = "", ...params] = part.split(";");
    const name = coding.trim().toLowerCase();
    if (name === "") continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m !== null) weight = Number(m[1]);
    }
    q.set(name === "x-gzip" ? "gzip" : name, Number.isFinite(weight) ? weight : 0);
  }
  const accepts = (name: string): boolean => (q.get(name) ?? q.get("*") ?? 0) > 0;
  const out = [accepts("br") ? "br" : "", accepts("gzip") ? "gzip" : ""].filter((c) => c !== "").join(",") || null;
  if (ENCODINGS.size >= 256) ENCODINGS.clear();
  ENCODINGS.set(value, out);
  return out;
}

/** `list` with its `Accept-Encoding` normalised ({@link normalizeAcceptEncoding}); the same list when there is nothing to change. */
export function withNormalizedEncoding(list: HeaderList): HeaderList {
  let value: string | null = null;
  let lines = 0;
  for (const [name, v] of list) {
    if (name !== "accept-encoding") continue;
    value = value === null ? v : `${value}, ${v}`;
    lines++;
  }
  if (value === null) return list;
  const normalized = normalizeAcceptEncoding(value);
  if (lines === 1 && normalized === value) return list;
  return normalized === null ? deleteHeader(list, "accept-encoding") : setHeader(list, "accept-encoding", normalized);
}

/** `X-Forwarded-For` with the client address appended to what the client sent (as CloudFront does). */
export function appendForwardedFor(list: HeaderList, clientIp: string): HeaderList {
  const prior = list.filter(([n]) => n === "x-forwarded-for").map(([, v]) => v.trim()).filter((v) => v !== "");
  return setHeader(list, "x-forwarded-for", [...prior, clientIp].join(", "));
}

/** The node's own `Via` entry (RFC 9110 §7.6.3). */
export function viaEntry(nodeId: string): string {
  return `1.1 ${nodeId} (verge)`;
}

/** `Via` with this node appended to the entries already there. */
export function appendVia(list: HeaderList, nodeId: string): HeaderList {
  const prior = list.filter(([n]) => n === "via").map(([, v]) => v.trim()).filter((v) => v !== "");
  return setHeader(list, "via", [...prior, viaEntry(nodeId)].join(", "));
}

/**
 * The headers that go to the viewer, in one pass: hop-by-hop ones dropped,
 * then `x-verge-cache` (when there is a cache result), `x-verge-request-id`
 * and `Via` (the entries already there, then `via`), each replacing any line
 * of its name. The same as `stripHopByHop`, `deleteHeader`, `setHeader` and
 * `appendVia` in turn.
 */
export function viewerHeaders(list: HeaderList, cache: string | null, requestId: string, via: string): HeaderList {
  let named: ReadonlySet<string> = NONE;
  for (const [name] of list) {
    if (name === "connection") {
      named = connectionTokens(list);
      break;
    }
  }
  const out: HeaderList = [];
  let prior = "";
  for (const line of list) {
    const name = line[0];
    if (name === "x-verge-cache" || name === "x-verge-request-id" || isHopByHop(name, named)) continue;
    if (name === "via") {
      const v = line[1].trim();
      if (v !== "") prior = prior === "" ? v : `${prior}, ${v}`;
      continue;
    }
    out.push(line);
  }
  if (cache !== null) out.push(["x-verge-cache", cache]);
  out.push(["x-verge-request-id", requestId]);
  out.push(["via", prior === "" ? via : `${prior}, ${via}`]);
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Total size of a header block as sent on HTTP/1.1: `name: value\r\n` per
 * line. Header text is Latin-1 on the wire (as Node decodes it), one byte per
 * character.
 */
export function headerBlockBytes(list: HeaderList): number {
  let total = 0;
  for (const [name, value] of list) total += name.length + value.length + 4;
  return total;
}
