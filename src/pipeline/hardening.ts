/**
 * What the proxy refuses or repairs before a request reaches a function, the
 * cache or an origin. Requests arrive as web `Request`s from @hono/node-server,
 * behind Node's HTTP parser: Node already refuses a Content-Length with a
 * Transfer-Encoding and header blocks over its 16 KiB default, and the adapter
 * resolves most dot segments through `new URL`. What is left is checked here,
 * so the rules hold whatever server sits in front:
 *
 * - an absolute-form target (`GET http://other/ HTTP/1.1`) naming another host
 *   than `Host`, a missing `Host`, or more than one: 400 (RFC 9112 §3.2: "a
 *   server MUST respond with a 400 to any request message that lacks a Host
 *   header field and to any request message that contains more than one");
 * - dot segments (`..`, `.`, and their `%2e` spellings) are resolved (RFC 3986
 *   §5.2.4); a path that climbs above `/`, or a segment that decodes to a `..`
 *   between `/` or `\` (`..%2f`), is refused with 400, so no origin that decodes
 *   the path can be walked out of its root;
 * - Content-Length with Transfer-Encoding, several differing Content-Lengths, a
 *   Transfer-Encoding that does not end in chunked: 400 (RFC 9112 §6.1, §6.3);
 * - a header block over 16 KiB: 431 (RFC 6585 §5);
 * - methods CloudFront does not forward (CONNECT, TRACE, ...): 405.
 */
import type { HeaderList } from "../shared/http.ts";
import type { ViewerRequest } from "./types.ts";

export const MAX_HEADER_BYTES = 16 * 1024;

/** The methods a CloudFront distribution accepts (GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE). */
const METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]);

const HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
const ABSOLUTE = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i;

/** The parts of a viewer's request the pipeline works from, after the checks. */
export interface RequestHead {
  method: string;
  scheme: "http" | "https";
  /** The Host header as sent (for the `host` the functions see). */
  hostHeader: string;
  /** Lowercase, without port: what distributions are matched by. */
  host: string;
  /** Normalised path, starting with "/". */
  path: string;
  /** Raw query string, without "?". */
  querystring: string;
  headers: HeaderList;
}

export type Inspection = { ok: true; head: RequestHead } | { ok: false; code: string; message: string };

function refuse(code: string, message: string): Inspection {
  return { ok: false, code, message };
}

export function inspectRequest(request: ViewerRequest): Inspection {
  // One entry per line as received; a list made from a Headers object has
  // repeated lines joined with ", ", so a second Host shows as a comma.
  // One pass gathers what the checks below read, which then run in order.
  const headers = request.headers;
  let bytes = 0;
  let hosts = 0;
  let hostLine = "";
  let lengths: string[] | null = null;
  let te: string[] | null = null;
  for (const [name, value] of headers) {
    bytes += name.length + value.length + 4;
    if (name === "host") {
      if (hosts++ === 0) hostLine = value;
    } else if (name === "content-length") (lengths ??= []).push(value);
    else if (name === "transfer-encoding") (te ??= []).push(value);
  }
  if (bytes > MAX_HEADER_BYTES) return refuse("ERR_HEADERS_TOO_LARGE", `request headers take ${bytes} bytes, over the limit of ${MAX_HEADER_BYTES}`);

  const method = request.method.toUpperCase();
  if (!METHODS.has(method)) return refuse("ERR_METHOD_NOT_ALLOWED", `method ${JSON.stringify(request.method)} is not forwarded; expected one of ${[...METHODS].join(", ")}`);

  if (hosts === 0) return refuse("ERR_BAD_REQUEST", "the request has no Host header");
  const hostHeader = hostLine.trim();
  if (hosts > 1 || hostHeader.includes(",")) return refuse("ERR_BAD_REQUEST", "the request has more than one Host header");
  if (!HOST.test(hostHeader.toLowerCase())) return refuse("ERR_BAD_REQUEST", `the Host header ${JSON.stringify(hostHeader.slice(0, 80))} is not a host name`);

  const target = ABSOLUTE.exec(request.url);
  if (target === null) return refuse("ERR_BAD_REQUEST", "the request target is not a URL path");
  const scheme = target[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "https") return refuse("ERR_BAD_REQUEST", `the request target's scheme ${JSON.stringify(scheme)} is not http or https`);
  // The adapter builds the URL from Host, or from an absolute-form target as sent: they must agree.
  if (authority(target[2]!, scheme) !== authority(hostHeader, scheme)) {
    return refuse("ERR_BAD_REQUEST", "the absolute-form request target names another host than the Host header");
  }

  if (lengths !== null || te !== null) {
    const framing = checkFraming(lengths ?? [], te ?? []);
    if (framing !== null) return refuse("ERR_BAD_REQUEST", framing);
  }

  const path = normalizePath(target[3] === "" ? "/" : target[3]!);
  if (!path.ok) return refuse("ERR_BAD_REQUEST", path.message);

  return {
    ok: true,
    head: { method, scheme, hostHeader, host: hostName(hostHeader), path: path.path, querystring: target[4] ?? "", headers },
  };
}

/** `Example.COM:443` → `example.com` for https: lowercase, default port dropped. */
function authority(value: string, scheme: string): string {
  const lower = value.toLowerCase();
  const dflt = scheme === "https" ? ":443" : ":80";
  return lower.endsWith(dflt) ? lower.slice(0, -dflt.length) : lower;
}

/** Lowercase host without port (`[::1]:8080` → `[::1]`). */
export function hostName(hostHeader: string): string {
  const lower = hostHeader.trim().toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  const colon = lower.lastIndexOf(":");
  const name = colon === -1 ? lower : lower.slice(0, colon);
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** A message when the body framing is ambiguous, else null (`lengthLines`, `te`: the lines of each header). */
function checkFraming(lengthLines: readonly string[], te: readonly string[]): string | null {
  const lengths = lengthLines.flatMap((v) => v.split(",").map((s) => s.trim()));
  if (lengths.length > 0 && te.length > 0) return "the request has both Content-Length and Transfer-Encoding";
  if (lengths.some((l) => !/^\d{1,15}$/.test(l))) return "the request's Content-Length is not a number";
  if (new Set(lengths).size > 1) return "the request has several different Content-Length values";
  if (te.length > 0) {
    const codings = te.join(",").split(",").map((s) => s.trim().toLowerCase());
    if (codings[codings.length - 1] !== "chunked") return "the request's Transfer-Encoding does not end in chunked";
  }
  return null;
}

/** No dot, percent or backslash: no segment to resolve, nothing encoded. */
const PLAIN_PATH = /^[^.%\\]*$/;

/** `.` and `..` segments in any of their spellings (`%2e`, `.%2E`, ...). */
function dotKind(segment: string): "." | ".." | null {
  if (segment.length > 6) return null;
  const s = segment.toLowerCase().replaceAll("%2e", ".");
  return s === "." ? "." : s === ".." ? ".." : null;
}

/** Percent-decoding that leaves malformed escapes as they are. */
function decode(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Resolves dot segments (RFC 3986 §5.2.4 remove_dot_segments). The path is
 * left byte for byte as it was when it has none.
 *
 * @example
 * normalizePath("/a/b/../%2E/c") // { ok: true, path: "/a/c" }
 * normalizePath("/a/../../etc")  // { ok: false, ... } climbs above "/"
 */
export function normalizePath(raw: string): { ok: true; path: string } | { ok: false; message: string } {
  if (!raw.startsWith("/")) return { ok: false, message: "the request path does not start with /" };
  // Most paths hold nothing to resolve or decode.
  if (PLAIN_PATH.test(raw)) return { ok: true, path: raw };
  const segments = raw.slice(1).split("/");
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    const kind = dotKind(segment);
    if (kind === null) {
      // A segment that decodes to a path holding ".." would walk an origin that decodes before resolving.
      const decoded = decode(segment);
      if (decoded !== segment || segment.includes("\\")) {
        if (decoded.split(/[/\\]/).some((part) => part === "..")) return { ok: false, message: "the request path holds an encoded \"..\" segment" };
      }
      out.push(segment);
      continue;
    }
    changed = true;
    if (kind === "..") {
      if (out.length === 0) return { ok: false, message: "the request path climbs above /" };
      out.pop();
    }
    // "/a/." and "/a/b/.." end in a directory: keep the trailing slash.
    if (last) out.push("");
  }
  return { ok: true, path: changed ? `/${out.join("/")}` : raw };
}
