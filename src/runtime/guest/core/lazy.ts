/**
 * The lazy parts of the prelude (guest/lazy/*.ts, each built as one script):
 * an isolate compiles and evaluates one only when trusted code first asks for
 * it. The host bridge's `loadChunk` runs the part's script in this context and
 * returns what it evaluates to, a function; called with the eager part's module
 * table (`verge:core-table`, built by src/build/prelude.ts) it runs the part's
 * modules and returns their exports. A new isolate then pays, in time and in
 * memory (V8 keeps each script's source), only for the eager part.
 *
 * User code never holds a namespace: only trusted code calls `chunk`, and the
 * globals that need a lazy part (ReadableStream, Blob, AbortController...) are
 * accessors installed by trusted code (see `defineLazyGlobal`).
 */
import type * as Caches from "../lazy/caches.ts";
import type * as Clone from "../lazy/clone.ts";
import type * as D1 from "../lazy/d1.ts";
import type * as Events from "../lazy/events.ts";
import type * as Fflate from "../lazy/fflate.ts";
import type * as Form from "../lazy/form.ts";
import type * as HtmlRewriter from "../lazy/html-rewriter.ts";
import type * as Kv from "../lazy/kv.ts";
import type * as R2 from "../lazy/r2.ts";
import type * as Streams from "../lazy/streams.ts";
import type * as Subtle from "../lazy/subtle.ts";
import type * as UrlPattern from "../lazy/url-pattern.ts";
import type * as WasmBinary from "../lazy/wasm-binary.ts";
import type * as Websocket from "../lazy/websocket.ts";
import { coreTable } from "verge:core-table";
import { host } from "./host.ts";

export interface Chunks {
  caches: typeof Caches;
  clone: typeof Clone;
  d1: typeof D1;
  events: typeof Events;
  fflate: typeof Fflate;
  form: typeof Form;
  "html-rewriter": typeof HtmlRewriter;
  kv: typeof Kv;
  r2: typeof R2;
  streams: typeof Streams;
  subtle: typeof Subtle;
  "url-pattern": typeof UrlPattern;
  "wasm-binary": typeof WasmBinary;
  websocket: typeof Websocket;
}

export type ChunkName = keyof Chunks;

// A null-prototype record: reading it consults nothing user code can replace.
const loaded: Partial<Chunks> = Object.create(null) as Partial<Chunks>;
const onLoad: Partial<{ [K in ChunkName]: Array<(ns: Chunks[K]) => void> }> = Object.create(null) as object;

/** The lazy part `name`, loaded on first use. */
export function chunk<K extends ChunkName>(name: K): Chunks[K] {
  return loaded[name] ?? load(name);
}

/** The lazy part `name` if this isolate has loaded it already (nothing of it can exist otherwise). */
export function loadedChunk<K extends ChunkName>(name: K): Chunks[K] | undefined {
  return loaded[name];
}

/** Runs `fn` when `name` loads, before anyone uses it (install steps: WebIDL names, clone rules). */
export function whenLoaded<K extends ChunkName>(name: K, fn: (ns: Chunks[K]) => void): void {
  const list = (onLoad[name] ??= []) as Array<(ns: Chunks[K]) => void>;
  list[list.length] = fn;
}

const loading: Partial<Record<ChunkName, true>> = Object.create(null) as object;

function load<K extends ChunkName>(name: K): Chunks[K] {
  // A part's module is evaluating: code it runs (a user getter it reads) must not ask for it again.
  if (loading[name] === true) throw new TypeError(`${name} is not available while it is being set up`);
  loading[name] = true;
  let ns: Chunks[K];
  try {
    const factory = host.loadChunk(name) as (core: typeof coreTable) => Chunks[K];
    ns = factory(coreTable);
  } finally {
    // The host stops counting this as platform CPU (not the function's).
    host.chunkLoaded();
    loading[name] = undefined;
  }
  // Recorded first: a step that reaches user code (a replaced builtin) must not load it again.
  loaded[name] = ns;
  const steps = onLoad[name] as Array<(ns: Chunks[K]) => void> | undefined;
  if (steps !== undefined) for (let i = 0; i < steps.length; i++) steps[i]!(ns);
  return ns;
}
