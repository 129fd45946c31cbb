/**
 * URLSearchParams (WHATWG URL Standard §6.2) and the
 * application/x-www-form-urlencoded parser and serializer (§5). Written here
 * rather than bundled: the spec is short, and a library's version costs every
 * new isolate its setup time.
 *
 * @example
 * const p = new URLSearchParams("?a=1&b=x+y");
 * p.append("c", "é"); p.toString() // "a=1&b=x+y&c=%C3%A9"
 */
import { createUtf8Decoder, utf8Encode } from "./encoding-codecs.ts";

type Pair = [string, string];

const HEX = "0123456789ABCDEF";
const ITERATOR_PROTOTYPE = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

function toUSV(v: unknown): string {
  if (typeof v === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  return String(v).toWellFormed();
}

/** §5.1 percent-decode + UTF-8 decode without BOM, after "+" became a space. */
function decodeComponent(s: string): string {
  const plus = s.includes("+") ? s.replaceAll("+", " ") : s;
  if (!plus.includes("%")) return plus;
  const bytes = utf8Encode(plus);
  const out = new Uint8Array(bytes.length);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && isHex(bytes[i + 1]!) && isHex(bytes[i + 2]!)) {
      out[j++] = (hexValue(bytes[i + 1]!) << 4) | hexValue(bytes[i + 2]!);
      i += 2;
    } else out[j++] = b;
  }
  return createUtf8Decoder().decode(out.subarray(0, j), true, false)!;
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

function hexValue(b: number): number {
  return b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x61 + 10;
}

/** §5.1 application/x-www-form-urlencoded parser. */
export function parseForm(input: string): Pair[] {
  const out: Pair[] = [];
  for (const seq of input.split("&")) {
    if (seq === "") continue;
    const eq = seq.indexOf("=");
    const name = eq === -1 ? seq : seq.slice(0, eq);
    const value = eq === -1 ? "" : seq.slice(eq + 1);
    out.push([decodeComponent(name), decodeComponent(value)]);
  }
  return out;
}

/** True for the bytes the urlencoded serializer leaves as they are: *-._ and ASCII alphanumerics. */
function isSafe(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2a || c === 0x2d || c === 0x2e || c === 0x5f;
}

/** §5.2 urlencoded byte serializer over the UTF-8 encoding of `s` (a USVString). */
function encodeComponent(s: string): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isSafe(c)) continue;
    out += s.slice(start, i);
    if (c === 0x20) out += "+";
    else if (c < 0x80) out += "%" + HEX[c >> 4] + HEX[c & 15];
    else {
      let end = i + 1;
      while (end < s.length && s.charCodeAt(end) >= 0x80) end++;
      for (const b of utf8Encode(s.slice(i, end))) out += "%" + HEX[b >> 4] + HEX[b & 15];
      i = end - 1;
    }
    start = i + 1;
  }
  return start === 0 ? s : out + s.slice(start);
}

/** §5.2 application/x-www-form-urlencoded serializer. */
export function serializeForm(list: readonly Pair[]): string {
  let out = "";
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += "&";
    out += encodeComponent(list[i]![0]) + "=" + encodeComponent(list[i]![1]);
  }
  return out;
}

/** Links a URLSearchParams to its URL: called with the new query after every change (§6.2 "update"). */
export type QueryUpdate = (serialized: string) => void;

// Assigned in the static block: trusted code (URL) creates and refreshes linked instances.
export let linkedSearchParams: (query: string, update: QueryUpdate) => URLSearchParams;
export let resetSearchParams: (params: URLSearchParams, query: string) => void;

type IterKind = "entries" | "keys" | "values";

export class URLSearchParams {
  #list: Pair[] = [];
  #update: QueryUpdate | null = null;

  static {
    linkedSearchParams = (query, update) => {
      const p = new URLSearchParams();
      p.#list = parseForm(query);
      p.#update = update;
      return p;
    };
    resetSearchParams = (p, query) => {
      p.#list = parseForm(query);
    };
  }

  constructor(init: unknown = "") {
    if ((typeof init === "object" && init !== null) || typeof init === "function") {
      const iter = (init as { [Symbol.iterator]?: unknown })[Symbol.iterator];
      if (iter !== undefined && iter !== null) {
        if (typeof iter !== "function") throw new TypeError("Failed to construct 'URLSearchParams': The object's @@iterator is not callable");
        for (const pair of init as Iterable<unknown>) {
          if (((typeof pair !== "object" || pair === null) && typeof pair !== "function") || typeof (pair as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
            throw new TypeError("Failed to construct 'URLSearchParams': each pair must be an iterable [name, value]");
          }
          const parts = Array.from(pair as Iterable<unknown>, toUSV);
          if (parts.length !== 2) throw new TypeError(`Failed to construct 'URLSearchParams': a pair must have exactly 2 items, found ${parts.length}`);
          this.#list.push([parts[0]!, parts[1]!]);
        }
        return;
      }
      for (const key of Reflect.ownKeys(init)) {
        const desc = Reflect.getOwnPropertyDescriptor(init, key);
        if (desc === undefined || !desc.enumerable) continue;
        this.#list.push([toUSV(key), toUSV((init as Record<PropertyKey, unknown>)[key])]);
      }
      return;
    }
    const s = toUSV(init);
    this.#list = parseForm(s.startsWith("?") ? s.slice(1) : s);
  }

  get size(): number {
    return this.#list.length;
  }

  append(name: unknown, value: unknown): void {
    need(arguments.length, 2, "append");
    this.#list.push([toUSV(name), toUSV(value)]);
    this.#changed();
  }

  delete(name: unknown, value?: unknown): void {
    need(arguments.length, 1, "delete");
    const n = toUSV(name);
    const v = value === undefined ? undefined : toUSV(value);
    this.#list = this.#list.filter(([k, x]) => !(k === n && (v === undefined || x === v)));
    this.#changed();
  }

  get(name: unknown): string | null {
    need(arguments.length, 1, "get");
    const n = toUSV(name);
    for (const [k, v] of this.#list) if (k === n) return v;
    return null;
  }

  getAll(name: unknown): string[] {
    need(arguments.length, 1, "getAll");
    const n = toUSV(name);
    return this.#list.filter(([k]) => k === n).map(([, v]) => v);
  }

  has(name: unknown, value?: unknown): boolean {
    need(arguments.length, 1, "has");
    const n = toUSV(name);
    const v = value === undefined ? undefined : toUSV(value);
    return this.#list.some(([k, x]) => k === n && (v === undefined || x === v));
  }

  set(name: unknown, value: unknown): void {
    need(arguments.length, 2, "set");
    const n = toUSV(name);
    const v = toUSV(value);
    const i = this.#list.findIndex(([k]) => k === n);
    if (i === -1) this.#list.push([n, v]);
    else {
      this.#list[i] = [n, v];
      this.#list = this.#list.filter(([k], j) => j <= i || k !== n);
    }
    this.#changed();
  }

  /** Stable sort by name, comparing UTF-16 code units (§6.2). */
  sort(): void {
    this.#list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.#changed();
  }

  forEach(callback: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: callback is not a function");
    for (let i = 0; i < this.#list.length; i++) {
      const [k, v] = this.#list[i]!;
      callback.call(thisArg, v, k, this);
    }
  }

  entries(): IterableIterator<Pair> {
    void this.#list; // brand check now, not at the first next()
    return makeIterator(() => this.#list, "entries") as IterableIterator<Pair>;
  }
  keys(): IterableIterator<string> {
    void this.#list; // brand check now, not at the first next()
    return makeIterator(() => this.#list, "keys") as IterableIterator<string>;
  }
  values(): IterableIterator<string> {
    void this.#list; // brand check now, not at the first next()
    return makeIterator(() => this.#list, "values") as IterableIterator<string>;
  }

  toString(): string {
    return serializeForm(this.#list);
  }

  #changed(): void {
    this.#update?.(serializeForm(this.#list));
  }
}

Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
  value: URLSearchParams.prototype.entries,
  writable: true,
  configurable: true,
  enumerable: false,
});

function need(got: number, want: number, method: string): void {
  if (got < want) throw new TypeError(`Failed to execute '${method}' on 'URLSearchParams': ${want} argument${want > 1 ? "s" : ""} required, but only ${got} present.`);
}

/** The live pair iterator of WebIDL §3.7.10.1: it reads the list at each step, so changes show. */
interface IterState {
  list: () => Pair[];
  index: number;
  kind: IterKind;
}

const iterState = new WeakMap<object, IterState>();

const IteratorProto = Object.create(ITERATOR_PROTOTYPE, {
  next: {
    value: function next(this: object) {
      const st = iterState.get(this);
      if (st === undefined) throw new TypeError("next called on an object that is not a URLSearchParams Iterator");
      const list = st.list();
      if (st.index >= list.length) return { value: undefined, done: true };
      const [k, v] = list[st.index++]!;
      return { value: st.kind === "keys" ? k : st.kind === "values" ? v : [k, v], done: false };
    },
    writable: true,
    configurable: true,
    enumerable: true,
  },
  [Symbol.toStringTag]: { value: "URLSearchParams Iterator", configurable: true },
}) as object;

function makeIterator(list: () => Pair[], kind: IterKind): object {
  const it = Object.create(IteratorProto) as object;
  iterState.set(it, { list, index: 0, kind });
  return it;
}
