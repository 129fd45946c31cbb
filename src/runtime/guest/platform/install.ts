/**
 * Installs the Web platform globals other than fetch (DESIGN.md §4), after
 * console and timers and before the fetch API, which uses them at call time.
 * Each interface gets its WebIDL name (the prelude is minified) and a native-
 * looking `toString`, and is defined like a browser global: writable,
 * configurable, not enumerable. Interfaces of lazy parts (core/lazy.ts) are
 * accessors until first read; their names and clone rules are set when the
 * part loads, however it loads (a global read or trusted code that needs it).
 */
import { defineGlobal, defineLazyGlobal, markNative } from "../core/globals.ts";
import { toGuestError } from "../core/errors.ts";
import { host } from "../core/host.ts";
import { chunk, whenLoaded, type ChunkName, type Chunks } from "../core/lazy.ts";
import { atob, btoa } from "./base64.ts";
import { forbidClone } from "./clone-rules.ts";
import { Crypto, createCrypto } from "./crypto.ts";
import { DOMException } from "./dom-exception.ts";
import { TextDecoder, TextEncoder } from "./encoding.ts";
import { Navigator, Performance, createNavigator, createPerformance } from "./performance.ts";
import { URL, URLSearchParams } from "./url.ts";

type Ctor = abstract new (...args: never[]) => unknown;

// Captured before user code runs: a lazy part's interfaces are named when it loads.
const defineProperty = Object.defineProperty;
const hasOwn = Object.hasOwn;

/** Gives an interface object its WebIDL name, its prototype's tag and a native-looking toString. */
export function asInterface(name: string, ctor: Function): Function {
  defineProperty(ctor, "name", { value: name, configurable: true });
  const proto = (ctor as { prototype?: object }).prototype;
  if (proto !== undefined && !hasOwn(proto, Symbol.toStringTag)) {
    defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
  }
  return markNative(ctor, name);
}

/** Exposes an interface object under its WebIDL name. */
function exposeInterface(name: string, ctor: Function): void {
  defineGlobal(name, asInterface(name, ctor));
}

function exposeFunction(name: string, fn: Function): void {
  Object.defineProperty(fn, "name", { value: name, configurable: true });
  defineGlobal(name, markNative(fn, name));
}

/**
 * Exposes the interfaces `names` of lazy part `part` as lazy globals; `decorate`
 * (default: the WebIDL name and toString of `asInterface`) runs on each when the part loads.
 */
export function exposeLazyInterfaces<K extends ChunkName>(part: K, names: ReadonlyArray<keyof Chunks[K] & string>, decorate: (name: string, ctor: Function) => void = asInterface): void {
  whenLoaded(part, (ns) => {
    for (const name of names) decorate(name, ns[name] as Function);
  });
  for (const name of names) defineLazyGlobal(name, () => chunk(part)[name]);
}

export function installPlatform(): void {
  const interfaces: Record<string, Function> = {
    DOMException,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    Crypto,
    Performance,
    Navigator,
  };
  for (const [name, ctor] of Object.entries(interfaces)) exposeInterface(name, ctor);

  // Platform objects without a serialization steps are not cloneable (HTML §2.7.3).
  forbidClone(...([URL, URLSearchParams, TextEncoder, TextDecoder, Crypto, Performance, Navigator] as unknown as Ctor[]));

  exposeLazyInterfaces("events", ["Event", "EventTarget", "CustomEvent", "AbortController", "AbortSignal"]);
  whenLoaded("events", (ns) => forbidClone(...([ns.EventTarget, ns.Event, ns.AbortController] as unknown as Ctor[])));
  exposeLazyInterfaces("subtle", ["SubtleCrypto", "CryptoKey"]);
  whenLoaded("subtle", (ns) => forbidClone(ns.SubtleCrypto as unknown as Ctor));
  exposeLazyInterfaces("url-pattern", ["URLPattern"]);
  whenLoaded("url-pattern", (ns) => forbidClone(ns.URLPattern as unknown as Ctor));
  exposeLazyInterfaces("html-rewriter", ["HTMLRewriter"]);
  exposeLazyInterfaces("websocket", ["WebSocket", "WebSocketPair", "MessageEvent", "CloseEvent", "ErrorEvent"]);
  whenLoaded("websocket", (ns) => forbidClone(...([ns.WebSocket, ns.WebSocketPair, ns.MessageEvent, ns.CloseEvent, ns.ErrorEvent] as unknown as Ctor[])));
  whenLoaded("html-rewriter", (ns) => forbidClone(ns.HTMLRewriter as unknown as Ctor));

  exposeFunction("atob", atob);
  exposeFunction("btoa", btoa);
  // The algorithm is a lazy part; the global is a plain function from the start.
  exposeFunction("structuredClone", function structuredClone(value: unknown, options?: { transfer?: Iterable<unknown> } | null) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
    return chunk("clone").structuredClone(value, options);
  });
  defineGlobal("crypto", createCrypto());
  defineGlobal("performance", createPerformance());
  defineGlobal("navigator", createNavigator());
  // As in workerd: `self` is the global scope, and reportError(e) reports e as uncaught without throwing.
  defineGlobal("self", globalThis);
  exposeFunction("reportError", function reportError(error: unknown) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
    const g = toGuestError(error);
    host.log("error", `Uncaught ${g.stack || `${g.name}: ${g.message}`}`);
  });
}
