/**
 * HTMLRewriter (https://developers.cloudflare.com/workers/runtime-apis/html-rewriter/), as
 * workerd has it: `on(selector, handlers)` and `onDocument(handlers)` register, and
 * `transform(response)` returns a new Response (same status and headers) whose body is the
 * original's, rewritten chunk by chunk as it is read. One HTMLRewriter may transform many
 * responses; each transform gets a lol-html rewriter of its own (engine.ts, pool.ts), made
 * when its body is first read. A handler that throws, or whose promise rejects, errors the
 * body with that value; a selector that does not parse throws from `on()`.
 *
 * @example
 * return new HTMLRewriter()
 *   .on("a[href]", { element(a) { a.setAttribute("href", a.getAttribute("href").replace("http:", "https:")); } })
 *   .transform(await fetch(request));
 */
import { chunk } from "../core/lazy.ts";
import { cacheSupport } from "../fetch/cache-support.ts";
import type { BodyState } from "../fetch/body.ts";
import type { Response } from "../fetch/response.ts";
import type { ReadableStream, ReadableStreamDefaultController, ReadableStreamDefaultReader } from "../fetch/streams.ts";
import type { Engine } from "./engine.ts";
import { acquire, release, reportMemory } from "./pool.ts";
import { freeUnits, handlerCaller } from "./units.ts";

const TypeErrorCtor = TypeError;
const ErrorCtor = Error;
const StringFn = String;
const MapCtor = Map;
const Uint8ArrayCtor = Uint8Array;

type Record_ = { [field: string]: (unit: unknown) => unknown };
interface Registration {
  /** null for onDocument. */
  selector: string | null;
  record: Record_;
}

const ELEMENT_FIELDS = ["element", "comments", "text"] as const;
const DOCUMENT_FIELDS = ["doctype", "comments", "text", "end"] as const;

/** Selectors that parsed, so a Worker building the same rewriter per request checks each once. */
const validSelectors = new MapCtor<string, true>();
const MAX_REMEMBERED = 256;

function handlerRecord(handlers: unknown, fields: readonly string[], dict: string, method: string): Record_ {
  const record: Record_ = { __proto__: null } as unknown as Record_;
  if (handlers === null) return record;
  if (typeof handlers !== "object" && typeof handlers !== "function") {
    throw new TypeErrorCtor(`Failed to execute '${method}' on 'HTMLRewriter': parameter ${method === "on" ? 2 : 1} is not of type '${dict}'.`);
  }
  for (const field of fields) {
    const fn = (handlers as Record<string, unknown>)[field];
    if (fn === undefined) continue;
    if (typeof fn !== "function") throw new TypeErrorCtor(`Incorrect type for the '${field}' field on '${dict}': the provided value is not of type 'function'.`);
    record[field] = handlerCaller(fn, handlers);
  }
  return record;
}

/** Parses `selector` in a scratch rewriter: lol-html's TypeError if it does not parse. */
function checkSelector(selector: string): void {
  if (validSelectors.has(selector)) return;
  scratch((engine, rw) => register(engine, rw, selector, { __proto__: null } as unknown as Record_));
  if (validSelectors.size >= MAX_REMEMBERED) validSelectors.clear();
  validSelectors.set(selector, true);
}

function newRewriter(engine: Engine, sink: (chunk: Uint8Array) => void): number {
  const idx = engine.give(sink);
  try {
    return engine.call("htmlrewriter_new", idx, 0);
  } finally {
    engine.take(idx);
  }
}

/** Registers handlers on rewriter `rw`: for `selector`'s elements, or (null) for the document. */
function register(engine: Engine, rw: number, selector: string | null, record: Record_): void {
  if (selector === null) {
    engine.call("htmlrewriter_onDocument", rw, engine.give(record));
    return;
  }
  const [ptr, len] = engine.str(selector);
  engine.call("htmlrewriter_on", rw, ptr, len, engine.give(record));
}

/** Runs `body` on a rewriter of its own (output discarded) in a pooled instance, then frees both. */
function scratch(body: (engine: Engine, rw: number) => void): void {
  const engine = acquire();
  let rw = 0;
  try {
    rw = newRewriter(engine, () => {});
    body(engine, rw);
  } catch (e) {
    // The module threw from inside a call: that instance is not reused.
    engine.broken = true;
    throw e;
  } finally {
    if (rw !== 0 && !engine.broken) engine.call("__wbg_htmlrewriter_free", rw);
    release(engine);
  }
}

export class HTMLRewriter {
  #registrations: Registration[] = [];

  on(selector: string, handlers: ElementHandlers): this {
    if (selector === undefined) throw new TypeErrorCtor("Failed to execute 'on' on 'HTMLRewriter': parameter 1 is not of type 'string'.");
    const s = StringFn(selector);
    if (handlers === undefined) throw new TypeErrorCtor("Failed to execute 'on' on 'HTMLRewriter': parameter 2 is not of type 'ElementContentHandlers'.");
    const record = handlerRecord(handlers, ELEMENT_FIELDS, "ElementContentHandlers", "on");
    checkSelector(s);
    this.#registrations.push({ selector: s, record });
    return this;
  }

  onDocument(handlers: DocumentHandlers): this {
    if (handlers === undefined) throw new TypeErrorCtor("Failed to execute 'onDocument' on 'HTMLRewriter': parameter 1 is not of type 'DocumentContentHandlers'.");
    this.#registrations.push({ selector: null, record: handlerRecord(handlers, DOCUMENT_FIELDS, "DocumentContentHandlers", "onDocument") });
    return this;
  }

  transform(response: Response): Response {
    const { bodyForBridge, bodyHeaders, bodyState, copyHeaders, isResponse, makeResponse, responseState } = cacheSupport;
    if (!isResponse(response)) throw new TypeErrorCtor("Failed to execute 'transform' on 'HTMLRewriter': parameter 1 is not of type 'Response'.");
    const state = { ...responseState(response) };
    const headers = copyHeaders(bodyHeaders(response));
    // Whole bytes (taken), or the body's stream (read from here on): a used body is a TypeError.
    const input = bodyForBridge(bodyState(response));
    if (input === null) return makeResponse(state, headers, null);
    const Readable = chunk("streams").ReadableStream;
    const output = new Readable(transformSource(this.#registrations.slice(), input), { highWaterMark: 0 });
    const body: BodyState = { bytes: null, shared: false, stream: output, host: null, used: false };
    return makeResponse(state, headers, body);
  }
}

export interface ElementHandlers {
  element?(element: unknown): void | Promise<void>;
  comments?(comment: unknown): void | Promise<void>;
  text?(text: unknown): void | Promise<void>;
}

export interface DocumentHandlers {
  doctype?(doctype: unknown): void | Promise<void>;
  comments?(comment: unknown): void | Promise<void>;
  text?(text: unknown): void | Promise<void>;
  end?(end: unknown): void | Promise<void>;
}

/** workerd errors the body with what the handler threw; a primitive becomes an Error of its text. */
function asBodyError(e: unknown): unknown {
  return (typeof e === "object" && e !== null) || typeof e === "function" ? e : new ErrorCtor(StringFn(e));
}

/**
 * The output body's source: each pull reads one input chunk and writes it to the rewriter,
 * whose output chunks are enqueued as lol-html emits them (nothing is buffered whole).
 */
function transformSource(registrations: Registration[], input: Uint8Array | ReadableStream<unknown>) {
  // A body of whole bytes is one chunk; a stream is read as the output is.
  let bytes = input instanceof Uint8ArrayCtor ? input : null;
  const stream = input instanceof Uint8ArrayCtor ? null : input;
  let engine: Engine | null = null;
  let rw = 0;
  let stackPtr = 0;
  let reader: ReadableStreamDefaultReader<unknown> | null = null;
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  let busy = false;

  let enqueued = 0;
  const sink = (out: Uint8Array) => {
    if (cancelled || out.byteLength === 0) return;
    controller.enqueue(out);
    enqueued++;
  };
  const begin = (e: Engine) => {
    rw = newRewriter(e, sink);
    for (const r of registrations) register(e, rw, r.selector, r.record);
    stackPtr = e.call("htmlrewriter_asyncify_stack_ptr", rw);
  };
  /** The rewriter is done (ended, failed or cancelled): free it and give the instance back. */
  const finish = () => {
    const e = engine;
    engine = null;
    if (e === null) return;
    if (!e.broken && rw !== 0) e.call("__wbg_htmlrewriter_free", rw);
    rw = 0;
    release(e);
  };

  return {
    start(c: ReadableStreamDefaultController<Uint8Array>) {
      controller = c;
    },
    // A pull must enqueue or close: the stream calls it again only if a read arrives meanwhile
    // (Streams §4.5.9), so input chunks lol-html only buffers (half a tag) are read in a loop.
    async pull(): Promise<void> {
      if (engine === null) {
        engine = acquire();
        try {
          begin(engine);
        } catch (e) {
          engine.broken = true;
          finish();
          throw e;
        }
      }
      const e = engine;
      const before = enqueued;
      while (enqueued === before) {
        let next: { done: boolean; value?: unknown };
        try {
          if (stream === null) {
            next = bytes === null || bytes.byteLength === 0 ? { done: true } : { done: false, value: bytes };
            bytes = null;
          } else next = await (reader ??= stream.getReader()).read();
        } catch (err) {
          finish();
          throw err;
        }
        if (cancelled) return;
        busy = true;
        try {
          if (next.done) {
            await e.run(stackPtr, "htmlrewriter_end", [rw]);
            freeUnits(e);
            // end() consumed the native rewriter; its wrapper is freed with it.
            finish();
            reportMemory();
            if (!cancelled) controller.close();
            return;
          }
          const [ptr, len] = e.bytes(chunk("streams").chunkBytes(next.value));
          await e.run(stackPtr, "htmlrewriter_write", [rw, ptr, len]);
          freeUnits(e);
          reportMemory();
        } catch (err) {
          e.broken = true;
          finish();
          reader?.cancel(err).catch(() => {});
          throw asBodyError(err);
        } finally {
          busy = false;
          if (cancelled) finish();
        }
        if (cancelled) return;
      }
    },
    cancel(reason: unknown): Promise<void> | undefined {
      cancelled = true;
      if (!busy) finish();
      bytes = null;
      if (stream === null) return undefined;
      return reader !== null ? reader.cancel(reason) : stream.cancel(reason);
    },
  };
}

/**
 * Runs the parser once over a small page with the common handlers, while the part loads (the
 * platform's CPU, not the function's): V8 compiles a WebAssembly function on its first call,
 * into code every isolate of the process shares, and the glue's functions get their bytecode
 * (kept by the prelude's code cache). Measured: a function's first transform in a new isolate
 * was charged ~2x its later ones without this.
 */
function warmUp(): void {
  const touch = (u: { before?: (c: string, o?: object) => unknown }) => void u.before?.("<!---->", { html: true });
  const element = (e: { getAttribute(n: string): unknown; setAttribute(n: string, v: string): unknown; tagName: string; append(c: string): unknown; onEndTag(h: Function): void }) => {
    e.setAttribute("x", String(e.getAttribute("href")) + e.tagName);
    e.append("&");
    e.onEndTag(touch);
  };
  try {
    scratch((engine, rw) => {
      register(engine, rw, "a[href], p", handlerRecord({ element, text: touch, comments: touch }, ELEMENT_FIELDS, "", ""));
      register(engine, rw, null, handlerRecord({ doctype: () => {}, text: touch, end: (e: { append(c: string): unknown }) => e.append("") }, DOCUMENT_FIELDS, "", ""));
      const [ptr, len] = engine.bytes(new Uint8Array([...'<!DOCTYPE html><p class="a">t<a href="/h">l</a><!--c--></p>'].map((c) => c.charCodeAt(0))));
      engine.call("htmlrewriter_write", rw, ptr, len);
      engine.call("htmlrewriter_end", rw);
      freeUnits(engine);
    });
  } catch {
    // Not reachable with this module; a failed warm-up only costs the first transform its compile.
  }
}

warmUp();
