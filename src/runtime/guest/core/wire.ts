/**
 * JSON for the primitive-argument bridge calls (`host.respond`, `host.idle`,
 * `dispatchFetch`). Written by hand over values trusted code built: only string
 * primitives go through the captured `JSON.stringify`, so no user-replaceable
 * `toJSON` or prototype getter is consulted.
 */
import { MAILBOX_BODY, type GuestError } from "../../bridge/protocol.ts";
import { host, primordials } from "./host.ts";

const { JSONStringify } = primordials;
const ReflectApply = Reflect.apply;
const setBytes = Uint8Array.prototype.set;
/** The mailbox's layout (HostBridge.mailbox): idle id, posted result's invocation and length, then the body area. */
const words = new Int32Array(host.mailbox, 0, 3);
const inlineBody = new Uint8Array(host.mailbox, MAILBOX_BODY);
const resultUnits = new Uint16Array(host.mailbox, MAILBOX_BODY);
const charCodeAt = Function.prototype.call.bind(String.prototype.charCodeAt) as (s: string, i: number) => number;

/** Tells the host that `invocation` went idle with every waitUntil fulfilled (read after the entry). */
export function postIdle(invocation: number): void {
  words[0] = invocation;
}

/**
 * Posts a Lambda@Edge result's JSON text for the host to read after the entry, instead of a
 * `host.result` Callback (a crossing): its UTF-16 code units into the mailbox, if they fit.
 * The invocation id goes last: the host reads nothing until it is set. False when it does not fit.
 */
export function postResult(invocation: number, json: string): boolean {
  const n = json.length;
  if (n > resultUnits.length) return false;
  for (let i = 0; i < n; i++) resultUnits[i] = charCodeAt(json, i);
  words[2] = n;
  words[1] = invocation;
  return true;
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
