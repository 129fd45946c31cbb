/** Types for the core-js-pure entry points bundled into the prelude (core-js-pure ships no .d.ts). */
declare module "core-js-pure/actual/url/index.js" {
  const URL: URLConstructor;
  export default URL;
  export interface URLConstructor {
    new (url: string | { toString(): string }, base?: string | { toString(): string }): URLInstance;
    readonly prototype: URLInstance;
    canParse(url: string, base?: string): boolean;
    parse(url: string, base?: string): URLInstance | null;
  }
  export interface URLInstance {
    href: string;
    readonly origin: string;
    protocol: string;
    username: string;
    password: string;
    host: string;
    hostname: string;
    port: string;
    pathname: string;
    search: string;
    readonly searchParams: URLSearchParamsInstance;
    hash: string;
    toString(): string;
    toJSON(): string;
  }
  export interface URLSearchParamsConstructor {
    new (init?: string | Record<string, string> | Iterable<[string, string]> | URLSearchParamsInstance): URLSearchParamsInstance;
    readonly prototype: URLSearchParamsInstance;
  }
  export interface URLSearchParamsInstance extends Iterable<[string, string]> {
    readonly size: number;
    append(name: string, value: string): void;
    delete(name: string, value?: string): void;
    get(name: string): string | null;
    getAll(name: string): string[];
    has(name: string, value?: string): boolean;
    set(name: string, value: string): void;
    sort(): void;
    forEach(fn: (value: string, key: string, parent: URLSearchParamsInstance) => void, thisArg?: unknown): void;
    entries(): IterableIterator<[string, string]>;
    keys(): IterableIterator<string>;
    values(): IterableIterator<string>;
    toString(): string;
  }
}
declare module "core-js-pure/actual/url-search-params/index.js" {
  import type { URLSearchParamsConstructor } from "core-js-pure/actual/url/index.js";
  const URLSearchParams: URLSearchParamsConstructor;
  export default URLSearchParams;
}

/** The part of event-target-shim v6 verge uses (its own .d.ts is not reachable through its "exports" map). */
declare module "event-target-shim" {
  export class Event {
    constructor(type: string, eventInitDict?: { bubbles?: boolean; cancelable?: boolean; composed?: boolean });
    readonly type: string;
    readonly target: EventTarget | null;
    readonly currentTarget: EventTarget | null;
    readonly defaultPrevented: boolean;
    readonly isTrusted: boolean;
    readonly timeStamp: number;
    preventDefault(): void;
    stopPropagation(): void;
    stopImmediatePropagation(): void;
  }
  export class EventTarget {
    addEventListener(type: string, callback: unknown, options?: unknown): void;
    removeEventListener(type: string, callback: unknown, options?: unknown): void;
    dispatchEvent(event: Event): boolean;
  }
  export function defineEventAttribute(target: object, type: string): void;
  export function setWarningHandler(handler: ((warning: unknown) => void) | undefined): void;
}
