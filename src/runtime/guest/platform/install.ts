/**
 * Installs the Web platform globals other than fetch (DESIGN.md §4), after
 * console and timers and before the fetch API, which uses them at call time.
 * Each interface gets its WebIDL name (the prelude is minified) and a native-
 * looking `toString`, and is defined like a browser global: writable,
 * configurable, not enumerable.
 */
import { defineGlobal, markNative } from "../core/globals.ts";
import { AbortController, AbortSignal, captureTimers } from "./abort.ts";
import { atob, btoa } from "./base64.ts";
import { Crypto, createCrypto } from "./crypto.ts";
import { CryptoKey } from "./crypto-key.ts";
import { DOMException } from "./dom-exception.ts";
import { TextDecoder, TextEncoder } from "./encoding.ts";
import { CustomEvent, Event, EventTarget } from "./events.ts";
import { Navigator, Performance, createNavigator, createPerformance } from "./performance.ts";
import { forbidClone, structuredClone } from "./structured-clone.ts";
import { SubtleCrypto } from "./subtle.ts";
import { URL, URLPattern, URLSearchParams, hideCoreJsShared } from "./url.ts";

type Ctor = abstract new (...args: never[]) => unknown;

/** Exposes an interface object under its WebIDL name. */
function exposeInterface(name: string, ctor: Function): void {
  Object.defineProperty(ctor, "name", { value: name, configurable: true });
  const proto = (ctor as { prototype?: object }).prototype;
  if (proto !== undefined && !Object.hasOwn(proto, Symbol.toStringTag)) {
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
  }
  defineGlobal(name, markNative(ctor, name));
}

function exposeFunction(name: string, fn: Function): void {
  Object.defineProperty(fn, "name", { value: name, configurable: true });
  defineGlobal(name, markNative(fn, name));
}

export function installPlatform(): void {
  captureTimers();
  hideCoreJsShared();

  const interfaces: Record<string, Function> = {
    DOMException,
    Event,
    EventTarget,
    CustomEvent,
    AbortController,
    AbortSignal,
    URL,
    URLSearchParams,
    URLPattern,
    TextEncoder,
    TextDecoder,
    Crypto,
    SubtleCrypto,
    CryptoKey,
    Performance,
    Navigator,
  };
  for (const [name, ctor] of Object.entries(interfaces)) exposeInterface(name, ctor);

  // Platform objects without a serialization steps are not cloneable (HTML §2.7.3).
  forbidClone(
    ...([URL, URLSearchParams, URLPattern, EventTarget, Event, AbortController, TextEncoder, TextDecoder, Crypto, SubtleCrypto, Performance, Navigator] as unknown as Ctor[]),
  );

  exposeFunction("atob", atob);
  exposeFunction("btoa", btoa);
  exposeFunction("structuredClone", structuredClone);
  defineGlobal("crypto", createCrypto());
  defineGlobal("performance", createPerformance());
  defineGlobal("navigator", createNavigator());
}
