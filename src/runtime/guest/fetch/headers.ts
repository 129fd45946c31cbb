/**
 * Headers (https://fetch.spec.whatwg.org/#headers-class). Names are stored
 * lowercased (as Workers does); iteration is "sort and combine"; set-cookie
 * values are never combined. Guards: "none" or "immutable" — like Workers and
 * undici, no forbidden request/response header names on the server side.
 */
import { isObject, tag, toByteString } from "./webidl.ts";

export type Guard = "none" | "immutable";
export type HeadersInit = Headers | Iterable<Iterable<unknown>> | Record<string, unknown>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Leading and trailing HTTP whitespace (tab, space, CR, LF) is removed from values.
const EDGE_WS = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const BAD_VALUE = /[\0\r\n]/;

function normalizeName(name: unknown): string {
  const s = toByteString(name, "Header name");
  if (!TOKEN.test(s)) throw new TypeError(`Invalid header name: ${JSON.stringify(s)}`);
  return s.toLowerCase();
}

function normalizeValue(value: unknown): string {
  const s = toByteString(value, "Header value").replace(EDGE_WS, "");
  if (BAD_VALUE.test(s)) throw new TypeError(`Invalid header value: ${JSON.stringify(s)}`);
  return s;
}

/** Module-internal access (set in the class's static block). */
export let setGuard: (h: Headers, guard: Guard) => void;
/** The header list as bridge data: sorted, combined, set-cookie split. */
export let headerList: (h: Headers) => Array<[string, string]>;
/** A copy with the same guard (Request/Response clone()). */
export let copyHeaders: (h: Headers) => Headers;
/** Appends without validation or guard (trusted data from the host). */
export let appendTrusted: (h: Headers, name: string, value: string) => void;

export class Headers {
  #map = new Map<string, string[]>();
  #guard: Guard = "none";
  #sorted: Array<[string, string]> | null = null;

  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    if (!isObject(init)) throw new TypeError("Headers constructor: init must be an object");
    if (#map in init) {
      for (const [k, v] of init.#map) this.#map.set(k, v.slice());
      return;
    }
    const iter = (init as { [Symbol.iterator]?: unknown })[Symbol.iterator];
    if (iter !== undefined) {
      if (typeof iter !== "function") throw new TypeError("Headers constructor: init[Symbol.iterator] is not a function");
      for (const pair of init as Iterable<unknown>) {
        if (!isObject(pair) || typeof (pair as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
          throw new TypeError("Headers constructor: each header must be a [name, value] pair");
        }
        const kv = Array.from(pair as Iterable<unknown>);
        if (kv.length !== 2) throw new TypeError(`Headers constructor: a header pair must have 2 items, found ${kv.length}`);
        this.append(kv[0], kv[1]);
      }
      return;
    }
    for (const key of Reflect.ownKeys(init)) {
      const desc = Reflect.getOwnPropertyDescriptor(init, key);
      if (desc === undefined || !desc.enumerable) continue;
      if (typeof key === "symbol") throw new TypeError("Headers constructor: a record key cannot be a Symbol");
      this.append(key, (init as Record<string, unknown>)[key]);
    }
  }

  #check(): void {
    if (this.#guard === "immutable") throw new TypeError("Can't modify immutable headers.");
  }

  append(name: unknown, value: unknown): void {
    const n = normalizeName(name);
    const v = normalizeValue(value);
    this.#check();
    this.#sorted = null;
    const list = this.#map.get(n);
    if (list === undefined) this.#map.set(n, [v]);
    else list.push(v);
  }

  set(name: unknown, value: unknown): void {
    const n = normalizeName(name);
    const v = normalizeValue(value);
    this.#check();
    this.#sorted = null;
    this.#map.set(n, [v]);
  }

  delete(name: unknown): void {
    const n = normalizeName(name);
    this.#check();
    if (this.#map.delete(n)) this.#sorted = null;
  }

  get(name: unknown): string | null {
    const list = this.#map.get(normalizeName(name));
    return list === undefined ? null : list.join(", ");
  }

  has(name: unknown): boolean {
    return this.#map.has(normalizeName(name));
  }

  getSetCookie(): string[] {
    return this.#map.get("set-cookie")?.slice() ?? [];
  }

  /** Workers extension: only "set-cookie" may be asked for. */
  getAll(name: unknown): string[] {
    const n = normalizeName(name);
    if (n !== "set-cookie") throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
    return this.getSetCookie();
  }

  #list(): Array<[string, string]> {
    if (this.#sorted !== null) return this.#sorted;
    const names = [...this.#map.keys()].sort();
    const out: Array<[string, string]> = [];
    for (const n of names) {
      const values = this.#map.get(n)!;
      if (n === "set-cookie") for (const v of values) out.push([n, v]);
      else out.push([n, values.join(", ")]);
    }
    return (this.#sorted = out);
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("Headers.forEach: the callback must be a function");
    // The list is re-read at every step, as WebIDL's pair iterator does.
    for (let i = 0; i < this.#list().length; i++) {
      const [n, v] = this.#list()[i]!;
      callback.call(thisArg, v, n, this);
    }
  }

  entries(): IterableIterator<[string, string]> {
    return iterate(this, (p) => [p[0], p[1]]);
  }
  keys(): IterableIterator<string> {
    return iterate(this, (p) => p[0]);
  }
  values(): IterableIterator<string> {
    return iterate(this, (p) => p[1]);
  }
  declare [Symbol.iterator]: () => IterableIterator<[string, string]>;

  static {
    setGuard = (h, guard) => {
      h.#guard = guard;
    };
    headerList = (h) => h.#list();
    copyHeaders = (h) => {
      const c = new Headers(h);
      c.#guard = h.#guard;
      return c;
    };
    appendTrusted = (h, name, value) => {
      h.#sorted = null;
      const list = h.#map.get(name);
      if (list === undefined) h.#map.set(name, [value]);
      else list.push(value);
    };
  }
}

const IteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

/** WebIDL pair iterator: re-reads the sorted list at each step, so changes made while iterating are seen. */
class HeadersIterator<T> {
  #h: Headers;
  #pick: (pair: [string, string]) => T;
  #i = 0;
  constructor(h: Headers, pick: (pair: [string, string]) => T) {
    this.#h = h;
    this.#pick = pick;
  }
  next(): IteratorResult<T, undefined> {
    const list = headerList(this.#h);
    if (this.#i >= list.length) return { done: true, value: undefined };
    return { done: false, value: this.#pick(list[this.#i++]!) };
  }
  [Symbol.iterator](): this {
    return this;
  }
}
Object.setPrototypeOf(HeadersIterator.prototype, IteratorProto);
tag(HeadersIterator, "Headers Iterator");

function iterate<T>(h: Headers, pick: (pair: [string, string]) => T): IterableIterator<T> {
  return new HeadersIterator(h, pick) as unknown as IterableIterator<T>;
}

// WebIDL: @@iterator is the same function as entries().
Object.defineProperty(Headers.prototype, Symbol.iterator, { value: Headers.prototype.entries, writable: true, configurable: true });
tag(Headers, "Headers");
