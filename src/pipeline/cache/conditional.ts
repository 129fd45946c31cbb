/**
 * Conditionals: the viewer's own (answered from the cache, RFC 9110 §13.2.2)
 * and the ones the cache sends the origin to revalidate a stale entry.
 */
import { httpDate } from "./cache-control.ts";
import type { HeaderSource } from "./vary.ts";

/** The entity tags of an `If-None-Match` list, without their `W/` prefix. */
function entityTags(list: string): string[] {
  return [...list.matchAll(/(?:W\/)?"([^"]*)"/g)].map((m) => m[1]!);
}

/** Opaque part of one entity tag (weak comparison ignores `W/`). */
function opaque(etag: string): string {
  const m = /^(?:W\/)?"([^"]*)"$/.exec(etag.trim());
  return m === null ? etag.trim() : m[1]!;
}

/**
 * True when the viewer's `If-None-Match` (weak comparison), or, without one,
 * its `If-Modified-Since`, says its copy of a 200 entry is current.
 */
export function viewerNotModified(headers: HeaderSource, entry: { status: number; etag: string | null; lastModified: string | null }): boolean {
  if (entry.status !== 200) return false;
  const inm = headers.get("if-none-match");
  if (inm !== null) {
    if (inm.trim() === "*") return true;
    if (entry.etag === null) return false;
    const mine = opaque(entry.etag);
    return entityTags(inm).includes(mine);
  }
  // The stored date is parsed only when the viewer sent one to compare it with (not on every hit).
  const ims = httpDate(headers.get("if-modified-since"));
  if (ims === undefined) return false;
  const lm = httpDate(entry.lastModified);
  return lm !== undefined && lm <= ims;
}

/** What `fill` gets to revalidate a stale entry: its validators, when it has any. */
export function revalidationHeaders(entry: { etag: string | null; lastModified: string | null }): Record<string, string> {
  const out: Record<string, string> = {};
  if (entry.etag !== null) out["if-none-match"] = entry.etag;
  if (entry.lastModified !== null) out["if-modified-since"] = entry.lastModified;
  return out;
}
