/**
 * What HTMLRewriter's handlers receive (https://developers.cloudflare.com/workers/runtime-apis/html-rewriter/):
 * Element, EndTag, Comment, Text (a text chunk), Doctype and DocumentEnd, as workerd names
 * and checks them. Each wraps a pointer to its native unit in the instance's linear memory.
 * A unit is a *content token*: valid only while its handler runs (until the promise an async
 * handler returned settles); later use throws workerd's TypeError. The native side is freed
 * when the rewriter's current write ends (engine.ts `units`).
 */
import { loadedChunk } from "../core/lazy.ts";
import { cacheSupport } from "../fetch/cache-support.ts";
import type { Engine, Wrappers } from "./engine.ts";

const TypeErrorCtor = TypeError;
const StringFn = String;
const RuntimeErrorCtor = WebAssembly.RuntimeError;
const values = Array.prototype.values;
const apply = Reflect.apply;
const freeze = Object.freeze;

const STALE = "This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler.";
const TOKEN = Symbol("verge.unit");

class Unit {
  #engine: Engine;
  #ptr: number;
  #valid = true;
  readonly #kind: string;

  constructor(token: symbol, engine: Engine, ptr: number, kind: string) {
    if (token !== TOKEN) throw new TypeErrorCtor("Illegal constructor");
    this.#engine = engine;
    this.#ptr = ptr;
    this.#kind = kind;
  }

  /** Calls `<kind>_<method>(ptr, ...args)`; a trap leaves the instance unusable for later transforms. */
  static call(u: Unit, method: string, ...args: number[]): number {
    if (!u.#valid) throw new TypeErrorCtor(STALE);
    try {
      return u.#engine.call(`${u.#kind}_${method}`, u.#ptr, ...args);
    } catch (e) {
      throw Unit.fail(u, e);
    }
  }

  static string(u: Unit, method: string): string {
    if (!u.#valid) throw new TypeErrorCtor(STALE);
    try {
      return u.#engine.readString(`${u.#kind}_${method}`, u.#ptr);
    } catch (e) {
      throw Unit.fail(u, e);
    }
  }

  static take(u: Unit, method: string, ...args: number[]): unknown {
    return u.#engine.take(Unit.call(u, method, ...args));
  }

  /** `content` and its `{ html }` option as the module takes them: string pointer, length, options (0 = none). */
  static content(u: Unit, who: string, content: unknown, options: unknown): [number, number, number] {
    if (!u.#valid) throw new TypeErrorCtor(STALE);
    if (typeof content === "object" && content !== null && (cacheSupport.isResponse(content) || loadedChunk("streams")?.isReadableStream(content) === true)) {
      // workerd streams such content in; this lol-html build inserts strings only (README, Known divergences).
      throw new TypeErrorCtor(`Failed to execute '${who}' on '${u.#name()}': verge inserts string content only, not a Response or ReadableStream; read it first (await response.text()).`);
    }
    const s = StringFn(content);
    let type = 0;
    if (options !== undefined && options !== null) {
      if (typeof options !== "object" && typeof options !== "function") {
        throw new TypeErrorCtor(`Failed to execute '${who}' on '${u.#name()}': parameter 2 is not of type 'ContentOptions'.`);
      }
      type = u.#engine.give({ html: !!(options as { html?: unknown }).html });
    }
    const [ptr, len] = u.#engine.str(s);
    return [ptr, len, type];
  }

  static str(u: Unit, value: unknown): [number, number] {
    if (!u.#valid) throw new TypeErrorCtor(STALE);
    return u.#engine.str(StringFn(value));
  }

  /** A JS value handed to the module (a heap index it owns). */
  static give(u: Unit, v: unknown): number {
    if (!u.#valid) throw new TypeErrorCtor(STALE);
    return u.#engine.give(v);
  }

  /** Ends the token's validity (its handler finished). */
  static invalidate(u: Unit): void {
    u.#valid = false;
  }

  /** Frees the native unit (the write that made it ended). */
  static free(u: Unit): void {
    u.#valid = false;
    if (u.#ptr === 0) return;
    const ptr = u.#ptr;
    u.#ptr = 0;
    if (!u.#engine.broken) u.#engine.call(`__wbg_${u.#kind}_free`, ptr);
  }

  static fail(u: Unit, e: unknown): unknown {
    if (e instanceof RuntimeErrorCtor) u.#engine.broken = true;
    // lol-html's own errors cross as strings; workerd throws them as TypeErrors.
    return typeof e === "string" ? new TypeErrorCtor(e) : e;
  }

  #name(): string {
    return NAMES[this.#kind] ?? "Element";
  }
}

const NAMES: Record<string, string> = { element: "Element", endtag: "EndTag", comment: "Comment", textchunk: "Text", doctype: "Doctype", documentend: "DocumentEnd" };

/** Calls `method` with string content: the method's name is also the `who` in its error messages. */
function insert(u: Unit, method: string, content: unknown, options: unknown): void {
  const [ptr, len, type] = Unit.content(u, method, content, options);
  Unit.call(u, method, ptr, len, type);
}

/** A unit in the document's flow: content goes before or after it, and it can go (EndTag, and below). */
class Placed extends Unit {
  before(content: string, options?: ContentOptions): this {
    insert(this, "before", content, options);
    return this;
  }
  after(content: string, options?: ContentOptions): this {
    insert(this, "after", content, options);
    return this;
  }
  remove(): this {
    Unit.call(this, "remove");
    return this;
  }
}

/** A unit that can also be replaced and says whether it was removed: Element, Comment, Text. */
class Replaceable extends Placed {
  get removed(): boolean {
    return Unit.call(this, "removed") !== 0;
  }
  replace(content: string, options?: ContentOptions): this {
    insert(this, "replace", content, options);
    return this;
  }
}

export class Element extends Replaceable {
  get tagName(): string {
    return Unit.string(this, "tag_name");
  }
  set tagName(name: string) {
    const [ptr, len] = Unit.str(this, name);
    Unit.call(this, "set_tag_name", ptr, len);
  }
  get namespaceURI(): string {
    return Unit.take(this, "namespace_uri") as string;
  }
  /** An iterator of [name, value] pairs (workerd: an iterator, not an array). */
  get attributes(): IterableIterator<[string, string]> {
    return apply(values, Unit.take(this, "attributes") as Array<[string, string]>, []) as IterableIterator<[string, string]>;
  }
  getAttribute(name: string): string | null {
    const [ptr, len] = Unit.str(this, name);
    return Unit.take(this, "getAttribute", ptr, len) as string | null;
  }
  hasAttribute(name: string): boolean {
    const [ptr, len] = Unit.str(this, name);
    return Unit.call(this, "hasAttribute", ptr, len) !== 0;
  }
  setAttribute(name: string, value: string): this {
    const [p1, l1] = Unit.str(this, name);
    const [p2, l2] = Unit.str(this, value);
    Unit.call(this, "setAttribute", p1, l1, p2, l2);
    return this;
  }
  removeAttribute(name: string): this {
    const [ptr, len] = Unit.str(this, name);
    Unit.call(this, "removeAttribute", ptr, len);
    return this;
  }
  prepend(content: string, options?: ContentOptions): this {
    insert(this, "prepend", content, options);
    return this;
  }
  append(content: string, options?: ContentOptions): this {
    insert(this, "append", content, options);
    return this;
  }
  setInnerContent(content: string, options?: ContentOptions): this {
    insert(this, "setInnerContent", content, options);
    return this;
  }
  removeAndKeepContent(): this {
    Unit.call(this, "removeAndKeepContent");
    return this;
  }
  /** Registers a handler for this element's end tag (called with `this` the global scope, as workerd does). */
  onEndTag(handler: (end: EndTag) => void | Promise<void>): void {
    if (typeof handler !== "function") throw new TypeErrorCtor("Failed to execute 'onEndTag' on 'Element': parameter 1 is not of type 'Function'.");
    Unit.call(this, "onEndTag", Unit.give(this, handlerCaller(handler, globalThis)));
  }
}

export class EndTag extends Placed {
  get name(): string {
    return Unit.string(this, "name");
  }
  set name(name: string) {
    const [ptr, len] = Unit.str(this, name);
    Unit.call(this, "set_name", ptr, len);
  }
}

export class Comment extends Replaceable {
  get text(): string {
    return Unit.string(this, "text");
  }
  set text(text: string) {
    const [ptr, len] = Unit.str(this, text);
    Unit.call(this, "set_text", ptr, len);
  }
}

/** A text chunk: workerd's class is named `Text`. */
export class Text extends Replaceable {
  get text(): string {
    return Unit.string(this, "text");
  }
  get lastInTextNode(): boolean {
    return Unit.call(this, "last_in_text_node") !== 0;
  }
}

export class Doctype extends Unit {
  get name(): string | null {
    return Unit.take(this, "name") as string | null;
  }
  get publicId(): string | null {
    return Unit.take(this, "public_id") as string | null;
  }
  get systemId(): string | null {
    return Unit.take(this, "system_id") as string | null;
  }
}

export class DocumentEnd extends Unit {
  append(content: string, options?: ContentOptions): this {
    insert(this, "append", content, options);
    return this;
  }
}

export interface ContentOptions {
  html?: boolean;
}

/** A handler as the module calls it (`fn.call(this, unit)`): the user's function, its `this`, the token's validity. */
export function handlerCaller(fn: Function, self: unknown): (unit: unknown) => unknown {
  return function (unit: unknown) {
    return settle(apply(fn, self, [unit]), unit as Unit);
  };
}

const PromiseCtor = Promise;
const resolve = Promise.resolve.bind(Promise);
const then = Promise.prototype.then;

/** The handler's result: a thenable becomes a native promise the module awaits; the token ends when it settles. */
function settle(result: unknown, unit: Unit): unknown {
  if (result !== null && (typeof result === "object" || typeof result === "function") && typeof (result as { then?: unknown }).then === "function") {
    const p = result instanceof PromiseCtor ? result : resolve(result);
    const end = () => Unit.invalidate(unit);
    return apply(then, p, [
      end,
      (e: unknown) => {
        end();
        throw e;
      },
    ]);
  }
  Unit.invalidate(unit);
  return result;
}

/** The constructors the engine uses to wrap what the module hands a handler. */
export function unitWrappers(): Wrappers {
  const make = (Ctor: typeof Unit, kind: string) => (engine: Engine, ptr: number) => new Ctor(TOKEN, engine, ptr, kind);
  return freeze({
    element: make(Element, "element"),
    comment: make(Comment, "comment"),
    textchunk: make(Text, "textchunk"),
    doctype: make(Doctype, "doctype"),
    endtag: make(EndTag, "endtag"),
    documentend: make(DocumentEnd, "documentend"),
  });
}

/** Frees the units a write made (engine.ts `units`). */
export function freeUnits(engine: Engine): void {
  const list = engine.units;
  for (let i = 0; i < list.length; i++) Unit.free(list[i] as unknown as Unit);
  list.length = 0;
}

export { Unit };
