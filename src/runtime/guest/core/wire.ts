/**
 * JSON for the primitive-argument bridge calls (`host.respond`, `host.idle`,
 * `dispatchFetch`). Written by hand over values trusted code built: only string
 * primitives go through the captured `JSON.stringify`, so no user-replaceable
 * `toJSON` or prototype getter is consulted.
 */
import type { GuestError } from "../../bridge/protocol.ts";
import { primordials } from "./host.ts";

const { JSONStringify } = primordials;

/** `[name, value][]` as JSON. */
export function headersJson(list: ReadonlyArray<readonly [string, string]>): string {
  let s = "[";
  for (let i = 0; i < list.length; i++) {
    const pair = list[i]!;
    s += (i === 0 ? "[" : ",[") + JSONStringify(pair[0]) + "," + JSONStringify(pair[1]) + "]";
  }
  return s + "]";
}

/** `GuestError[]` as JSON; "" for none. */
export function errorsJson(list: readonly GuestError[]): string {
  if (list.length === 0) return "";
  let s = "[";
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    s += (i === 0 ? "" : ",") + `{"name":${JSONStringify(e.name)},"message":${JSONStringify(e.message)},"stack":${JSONStringify(e.stack)}}`;
  }
  return s + "]";
}
