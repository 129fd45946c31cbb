/**
 * The host half of the guest's URL (guest/platform/url.ts): Node's WHATWG URL
 * parser behind two synchronous calls. Arguments come from user code, so each
 * is type-checked here; only strings go back.
 */
import type { UrlParts } from "./bridge/protocol.ts";

const SETTERS = new Set(["protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"]);

/** The parts joined by "\n", which no serialized URL part contains (the parser strips newlines, the serializer percent-encodes them): one string crosses faster than an array. */
function partsOf(u: URL): UrlParts {
  return `${u.href}\n${u.protocol}\n${u.username}\n${u.password}\n${u.host}\n${u.hostname}\n${u.port}\n${u.pathname}\n${u.search}\n${u.hash}\n${u.origin}`;
}

export function urlParse(input: unknown, base: unknown): UrlParts | null {
  if (typeof input !== "string" || (base !== undefined && typeof base !== "string")) throw new TypeError("urlParse: expected strings");
  const u = URL.parse(input, base);
  return u === null ? null : partsOf(u);
}

export function urlSet(href: unknown, name: unknown, value: unknown): UrlParts {
  if (typeof href !== "string" || typeof name !== "string" || typeof value !== "string" || !SETTERS.has(name)) {
    throw new TypeError("urlSet: expected a URL, a settable part name and a string");
  }
  const u = new URL(href);
  (u as unknown as Record<string, string>)[name] = value;
  return partsOf(u);
}
