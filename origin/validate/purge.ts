/**
 * Purge requests (`POST …/distributions/:d/purge`): exactly one of a path
 * prefix or a `Cache-Tag` tag, both printable ASCII without spaces.
 */
import type { PurgeInput } from "../../src/shared/protocol.ts";
import { describe, Diagnostics } from "./fields.ts";

/** A path prefix: starts with `/`, visible ASCII (URL-encoded as on the wire). CloudFront allows 4000-byte paths. */
const PREFIX = /^\/[\x21-\x7e]{0,4095}$/;
/** A cache tag as `Cache-Tag` lists them (comma-separated): visible ASCII but the comma, at most 1024 (Cloudflare's limit). */
const TAG = /^[\x21-\x2b\x2d-\x7e]{1,1024}$/;

export function validatePurge(raw: unknown): { purge: PurgeInput; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  const obj = d.object("body", raw);
  if (obj === undefined) return { purge: {}, diagnostics: d };
  d.known("", obj, ["prefix", "tag"]);
  const purge: PurgeInput = {};
  if (obj.prefix !== undefined) {
    const prefix = d.string("prefix", obj.prefix, PREFIX, 'a path prefix starting with "/" ("/" purges everything), visible ASCII, at most 4096 characters');
    if (prefix !== undefined) purge.prefix = prefix;
  }
  if (obj.tag !== undefined) {
    const tag = d.string("tag", obj.tag, TAG, "a cache tag: 1–1024 visible ASCII characters, no comma");
    if (tag !== undefined) purge.tag = tag;
  }
  if (obj.prefix === undefined && obj.tag === undefined) d.add("prefix", `expected exactly one of prefix or tag, found neither (body ${describe(obj)} with fields [${Object.keys(obj).join(", ")}])`);
  else if (obj.prefix !== undefined && obj.tag !== undefined) d.add("tag", "expected exactly one of prefix or tag, found both: send one purge per prefix or tag");
  return { purge, diagnostics: d };
}
