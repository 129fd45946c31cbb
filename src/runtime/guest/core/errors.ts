/**
 * Reduces any thrown value to plain data inside the isolate (DESIGN.md §4): the
 * host never touches a user object. Runs under the entry's timeout, so a Proxy
 * with looping traps burns the CPU budget here instead of wedging the host.
 */
import type { GuestError } from "../../bridge/protocol.ts";

const StringCtor = String;

function safeString(v: unknown, fallback: string): string {
  try {
    if (typeof v === "string") return v;
    if (v === undefined) return fallback;
    return StringCtor(v);
  } catch {
    return fallback;
  }
}

export function toGuestError(value: unknown): GuestError {
  if (typeof value !== "object" || value === null) {
    if (typeof value === "function") return { name: "Error", message: "a function was thrown", stack: "" };
    // Workers reports a thrown primitive as "Uncaught <value>".
    return { name: "Error", message: `Uncaught ${value === undefined ? "undefined" : safeString(value, "value")}`, stack: "" };
  }
  let name = "Error";
  let message = "";
  let stack = "";
  try {
    const o = value as { name?: unknown; message?: unknown; stack?: unknown };
    name = safeString(o.name, "Error");
    message = safeString(o.message, "");
    const s = o.stack;
    stack = typeof s === "string" ? s : "";
    if (message === "" && stack === "" && !(value instanceof Error)) message = `Uncaught ${safeString(value, "object")}`;
  } catch (e) {
    message = "an object whose properties threw was thrown";
  }
  return { name: name.slice(0, 200), message: message.slice(0, 4096), stack: stack.slice(0, 16384) };
}
