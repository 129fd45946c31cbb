/**
 * FormData (https://xhr.spec.whatwg.org/#interface-formdata): an ordered list
 * of (name, string | File) entries.
 */
import { Blob, File, fileFrom } from "./blob.ts";
import { tag, toUSVString } from "./webidl.ts";

export type FormDataEntryValue = string | File;
type Entry = [string, FormDataEntryValue];

/** The entry list (module-internal: serialization reads it). */
export let formEntries: (f: FormData) => Entry[];

function makeEntry(name: unknown, value: unknown, filename: unknown, argc: number): Entry {
  const n = toUSVString(name);
  if (value instanceof Blob) {
    const fname =
      filename !== undefined ? toUSVString(filename) : value instanceof File ? value.name : "blob";
    if (value instanceof File && filename === undefined) return [n, value];
    return [n, fileFrom(value, fname, value.type, value instanceof File ? value.lastModified : undefined)];
  }
  if (argc > 2) throw new TypeError("FormData: a filename is only allowed when the value is a Blob");
  return [n, toUSVString(value)];
}

export class FormData {
  #entries: Entry[] = [];

  constructor(form?: unknown) {
    if (form !== undefined) throw new TypeError("FormData constructor: an HTMLFormElement is not supported here");
  }

  append(name: string, value: string | Blob, filename?: string): void {
    if (arguments.length < 2) throw new TypeError("FormData.append: 2 arguments required");
    this.#entries.push(makeEntry(name, value, filename, arguments.length));
  }

  set(name: string, value: string | Blob, filename?: string): void {
    if (arguments.length < 2) throw new TypeError("FormData.set: 2 arguments required");
    const entry = makeEntry(name, value, filename, arguments.length);
    const i = this.#entries.findIndex((e) => e[0] === entry[0]);
    if (i < 0) {
      this.#entries.push(entry);
      return;
    }
    this.#entries[i] = entry;
    this.#entries = this.#entries.filter((e, j) => j <= i || e[0] !== entry[0]);
  }

  delete(name: string): void {
    const n = toUSVString(name);
    this.#entries = this.#entries.filter((e) => e[0] !== n);
  }

  get(name: string): FormDataEntryValue | null {
    const n = toUSVString(name);
    return this.#entries.find((e) => e[0] === n)?.[1] ?? null;
  }

  getAll(name: string): FormDataEntryValue[] {
    const n = toUSVString(name);
    return this.#entries.filter((e) => e[0] === n).map((e) => e[1]);
  }

  has(name: string): boolean {
    const n = toUSVString(name);
    return this.#entries.some((e) => e[0] === n);
  }

  forEach(callback: (value: FormDataEntryValue, name: string, parent: FormData) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("FormData.forEach: the callback must be a function");
    for (let i = 0; i < this.#entries.length; i++) callback.call(thisArg, this.#entries[i]![1], this.#entries[i]![0], this);
  }

  *entries(): IterableIterator<[string, FormDataEntryValue]> {
    for (let i = 0; i < this.#entries.length; i++) yield [this.#entries[i]![0], this.#entries[i]![1]];
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<FormDataEntryValue> {
    for (const [, v] of this.entries()) yield v;
  }
  declare [Symbol.iterator]: () => IterableIterator<[string, FormDataEntryValue]>;

  static {
    formEntries = (f) => f.#entries;
  }
}
// WebIDL: @@iterator is the same function as entries().
Object.defineProperty(FormData.prototype, Symbol.iterator, { value: FormData.prototype.entries, writable: true, configurable: true });
tag(FormData, "FormData");
