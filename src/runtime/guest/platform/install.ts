/**
 * Installs the Web platform globals other than fetch (DESIGN.md §4), after
 * console and timers and before the fetch API, which uses them at call time.
 * Each interface gets its WebIDL name (the prelude is minified) and a native-
 * looking `toString`, and is defined like a browser global: writable,
 * configurable, not enumerable.
 */
import { defineGlobal, defineLazyGlobal, markNative } from "../core/globals.ts";
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
import { URL, URLSearchParams } from "./url.ts";
import { loadURLPattern } from "./url-pattern.ts";

type Ctor = abstract new (...args: never[]) => unknown;

/** Gives an interface object its WebIDL name, its prototype's tag and a native-looking toString. */
function asInterface(name: string, ctor: Function): Function {
  Object.defineProperty(ctor, "name", { value: name, configurable: true });
  const proto = (ctor as { prototype?: object }).prototype;
  if (proto !== undefined && !Object.hasOwn(proto, Symbol.toStringTag)) {
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
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

export function installPlatform(): void {
  captureTimers();

  const interfaces: Record<string, Function> = {
    DOMException,
    Event,
    EventTarget,
    CustomEvent,
    AbortController,
    AbortSignal,
    URL,
    URLSearchParams,
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
    ...([URL, URLSearchParams, EventTarget, Event, AbortController, TextEncoder, TextDecoder, Crypto, SubtleCrypto, Performance, Navigator] as unknown as Ctor[]),
  );

  defineLazyGlobal("URLPattern", () => {
    const ctor = loadURLPattern();
    forbidClone(ctor as unknown as Ctor);
    return asInterface("URLPattern", ctor);
  });

  exposeFunction("atob", atob);
  exposeFunction("btoa", btoa);
  exposeFunction("structuredClone", structuredClone);
  defineGlobal("crypto", createCrypto());
  defineGlobal("performance", createPerformance());
  defineGlobal("navigator", createNavigator());
}
