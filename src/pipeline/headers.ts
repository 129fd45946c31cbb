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
