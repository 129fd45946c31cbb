/**
 * JSON for the primitive-argument bridge calls (`host.respond`, `host.idle`,
 * `dispatchFetch`). Written by hand over values trusted code built: only string
 * primitives go through the captured `JSON.stringify`, so no user-replaceable
 * `toJSON` or prototype getter is consulted.
 */
import type { GuestError } from "../../bridge/protocol.ts";
import { host, primordials } from "./host.ts";

const { JSONStringify } = primordials;
const ReflectApply = Reflect.apply;
const setBytes = Uint8Array.prototype.set;
const idleWord = new Int32Array(host.mailbox, 0, 1);
const inlineBody = new Uint8Array(host.mailbox, 8);

/** Tells the host that `invocation` went idle with every waitUntil fulfilled (read after the entry). */
export function postIdle(invocation: number): void {
  idleWord[0] = invocation;
}

/** Copies a response body into the shared mailbox if it fits: its length, or -1. */
export function postBody(body: Uint8Array): number {
  if (body.byteLength > inlineBody.length) return -1;
  ReflectApply(setBytes, inlineBody, [body]);
  return body.byteLength;
}

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
