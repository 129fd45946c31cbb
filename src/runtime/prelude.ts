/**
 * Loads the built guest prelude once per process and keeps, per script, a V8
 * code cache that this process produced itself (DESIGN.md §4: never accepted
 * from outside).
 *
 * The prelude is classic scripts (src/build/prelude.ts): the eager part every
 * new isolate runs (`prelude.generated.js`), and lazy parts
 * (`prelude-<name>.generated.js`), each a function expression an isolate
 * compiles and runs only when its trusted guest code asks for it
 * (guest/core/lazy.ts → the host bridge's `loadChunk`). V8 keeps a script's
 * source in the isolate, so an isolate holds only the source of what it loaded.
 */
import ivm from "isolated-vm";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VergeError } from "../shared/errors.ts";

const DEFAULT_DIR = fileURLToPath(new URL("./guest/", import.meta.url));
const ENTRY = "prelude.generated.js";
const PART_FILE = /^prelude-([a-z][a-z0-9-]*)\.generated\.js$/;
const WASM_FILE = /^prelude-([a-z][a-z0-9-]*)\.generated\.wasm$/;

export interface Prelude {
  /** The eager part's source (what every isolate compiles and keeps). */
  readonly code: string;
  /**
   * Some isolate of this process ran the request path and re-produced the eager part's code
   * cache from it (PreludeLinker.refreshAfterUse): until then a new isolate compiles that path
   * on its first call, ~2 ms of CPU the call is charged for.
   */
  readonly refreshed: boolean;
  /** Runs the eager part in a new context; the returned linker loads the lazy parts. */
  instantiate(isolate: ivm.Isolate, context: ivm.Context): PreludeLinker;
  /**
   * Lazy part `name`'s WebAssembly module, compiled on first use once per process (in Node's
   * own isolate, ~10 ms for the HTMLRewriter parser), as a new copy to move into one isolate
   * (`copyInto({ release: true })`): V8 shares the compiled code, each isolate makes its own
   * instances. Not one copy kept for good: a process holding an unreleased ExternalCopy of a
   * WebAssembly module does not exit (isolated-vm 7).
   */
  wasm(name: string): ivm.ExternalCopy<WasmModule>;
}

/** One isolate's prelude scripts. */
export interface PreludeLinker {
  /**
   * Runs lazy part `name`'s script in the context (once per isolate) and returns a reference to
   * the function it evaluates to (the guest calls it with the eager part's module table).
   */
  load(name: string): ivm.Reference<unknown>;
  /**
   * After an invocation: re-produces the code cache of each script this isolate ran that no
   * isolate of this process has refreshed yet. V8 hands back the same compiled script, which
   * by now holds the bytecode of every function a request ran, so later isolates skip
   * compiling those lazily (measured on the single-script prelude: run 2.5 → 1.6 ms, first
   * request 1.7 → 0.5 ms). Only bytecode of the prelude's own source is serialized; nothing
   * the user's code did is in it. Costs nothing when there is nothing to refresh.
   */
  refreshAfterUse(): void;
}

interface ScriptSource {
  filename: string;
  code: string;
  cache: ivm.ExternalCopy<ArrayBuffer> | undefined;
  refreshed: boolean;
}

/** A compiled `WebAssembly.Module` (the project's lib settings carry no WebAssembly types). */
export type WasmModule = object & { readonly __wasmModule?: never };
const Wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule } }).WebAssembly;

let shared: Prelude | undefined;

function source(code: string, filename: string): ScriptSource {
  return { filename, code, cache: undefined, refreshed: false };
}

/** Compiles `src` in `isolate`, with its code cache if there is one (producing it otherwise). */
function compile(isolate: ivm.Isolate, src: ScriptSource): ivm.Script {
  if (src.cache !== undefined) {
    const script = isolate.compileScriptSync(src.code, { filename: src.filename, cachedData: src.cache });
    if ((script as ivm.Script & { cachedDataRejected?: boolean }).cachedDataRejected === true) src.cache = undefined;
    return script;
  }
  const script = isolate.compileScriptSync(src.code, { filename: src.filename, produceCachedData: true });
  src.cache = (script as ivm.Script & ivm.CachedDataResult).cachedData;
  return script;
}

/** See PreludeLinker.refreshAfterUse. */
function refresh(isolate: ivm.Isolate, src: ScriptSource): void {
  if (src.refreshed || isolate.isDisposed) return;
  src.refreshed = true;
  const again = isolate.compileScriptSync(src.code, { filename: src.filename, produceCachedData: true });
  const produced = (again as ivm.Script & ivm.CachedDataResult).cachedData;
  again.release();
  if (produced !== undefined) src.cache = produced;
}

/** The prelude built into `dir` (default: src/runtime/guest), read once per process for the default. */
export function loadPrelude(dir: string = DEFAULT_DIR): Prelude {
  if (dir === DEFAULT_DIR && shared !== undefined) return shared;
  let entry: ScriptSource;
  const parts = new Map<string, ScriptSource>();
  const wasmFiles = new Map<string, string>();
  const wasmModules = new Map<string, WasmModule>();
  try {
    entry = source(readFileSync(join(dir, ENTRY), "utf8"), "verge:prelude");
    for (const file of readdirSync(dir)) {
      const m = PART_FILE.exec(file);
      if (m !== null) parts.set(m[1]!, source(readFileSync(join(dir, file), "utf8"), `verge:prelude:${m[1]!}`));
      const w = WASM_FILE.exec(file);
      if (w !== null) wasmFiles.set(w[1]!, join(dir, file));
    }
  } catch (cause) {
    throw new VergeError(
      "ERR_PRELUDE_MISSING",
      `the guest prelude was not found at ${join(dir, ENTRY)}; build it with \`npm run build:prelude\` (npm test and npm start do this)`,
      { cause },
    );
  }
  const prelude: Prelude = {
    code: entry.code,
    get refreshed() {
      return entry.refreshed;
    },
    instantiate(isolate, context) {
      compile(isolate, entry).runSync(context, { timeout: 2_000 });
      const loaded = new Map<string, ivm.Reference<unknown>>();
      let pending = !entry.refreshed;
      return {
        load(name) {
          let ref = loaded.get(name);
          if (ref !== undefined) return ref;
          const src = typeof name === "string" ? parts.get(name) : undefined;
          if (src === undefined) throw new TypeError(`verge prelude: no lazy part ${JSON.stringify(name)}`);
          // Defines the part's function only: its modules run when the guest calls it.
          ref = compile(isolate, src).runSync(context, { reference: true }) as ivm.Reference<unknown>;
          loaded.set(name, ref);
          if (!src.refreshed) pending = true;
          return ref;
        },
        refreshAfterUse() {
          if (!pending) return;
          pending = false;
          refresh(isolate, entry);
          for (const name of loaded.keys()) refresh(isolate, parts.get(name)!);
        },
      };
    },
    wasm(name) {
      // `name` comes from the guest: a Map lookup of anything but a known string finds nothing.
      let module = wasmModules.get(name);
      if (module === undefined) {
        const file = wasmFiles.get(name);
        if (file === undefined) throw new TypeError(`verge prelude: no WebAssembly module ${JSON.stringify(name)}`);
        module = new Wasm.Module(readFileSync(file));
        wasmModules.set(name, module);
      }
      return new ivm.ExternalCopy(module);
    },
  };
  if (dir === DEFAULT_DIR) shared = prelude;
  return prelude;
}

/**
 * A prelude that is one classic script without lazy parts (benchmarks' what-if
 * preludes: a stub with no Web APIs). `loadChunk` fails.
 */
export function scriptPrelude(code: string, filename = "verge:prelude"): Prelude {
  const src = source(code, filename);
  return {
    code,
    get refreshed() {
      return src.refreshed;
    },
    instantiate(isolate, context) {
      compile(isolate, src).runSync(context, { timeout: 2_000 });
      return {
        load: (name) => {
          throw new TypeError(`verge prelude: no lazy part ${JSON.stringify(name)}`);
        },
        refreshAfterUse: () => refresh(isolate, src),
      };
    },
    wasm(name) {
      throw new TypeError(`verge prelude: no WebAssembly module ${JSON.stringify(name)}`);
    },
  };
}
