/**
 * Loads the built guest prelude once per process and keeps, per module, a V8
 * code cache that this process produced itself (DESIGN.md §4: never accepted
 * from outside).
 *
 * The prelude is ES modules (src/build/prelude.ts): the eager part every new
 * isolate evaluates (`prelude.generated.js` and the shared module it imports),
 * and lazy parts (`prelude-<name>.generated.js`) that an isolate links and
 * evaluates only when its trusted guest code asks for them (guest/core/lazy.ts
 * → the host bridge's `loadChunk`). V8 keeps a module's source in the isolate,
 * so an isolate holds only the source of what it loaded.
 */
import ivm from "isolated-vm";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VergeError } from "../shared/errors.ts";

const DEFAULT_DIR = fileURLToPath(new URL("./guest/", import.meta.url));
const ENTRY = "prelude.generated.js";
const FILE = /^prelude(-[a-z0-9-]+)?(-[A-Z0-9]+)?\.generated\.js$/;
const PART = /^[a-z][a-z0-9-]*$/;

export interface Prelude {
  /** The eager part's source (what every isolate compiles and keeps). */
  readonly code: string;
  /** Evaluates the eager part in a new context; the returned linker loads the lazy parts. */
  instantiate(isolate: ivm.Isolate, context: ivm.Context): PreludeLinker;
}

/** One isolate's prelude modules. */
export interface PreludeLinker {
  /** Links and evaluates lazy part `name` (once per isolate) and returns its module namespace. */
  load(name: string): ivm.Reference<unknown>;
  /**
   * After an invocation: re-produces the code cache of each module this isolate ran that no
   * isolate of this process has refreshed yet. V8 hands back the same compiled script, which
   * by now holds the bytecode of every function a request ran, so later isolates skip
   * compiling those lazily (measured on the single-script prelude: run 2.5 → 1.6 ms, first
   * request 1.7 → 0.5 ms). Only bytecode of the prelude's own source is serialized; nothing
   * the user's code did is in it. Costs nothing when there is nothing to refresh.
   */
  refreshAfterUse(): void;
}

interface ModuleSource {
  file: string;
  filename: string;
  code: string;
  cache: ivm.ExternalCopy<ArrayBuffer> | undefined;
  refreshed: boolean;
}

let shared: Prelude | undefined;

/** The prelude built into `dir` (default: src/runtime/guest), read once per process for the default. */
export function loadPrelude(dir: string = DEFAULT_DIR): Prelude {
  if (dir === DEFAULT_DIR && shared !== undefined) return shared;
  const sources = new Map<string, ModuleSource>();
  try {
    for (const file of readdirSync(dir)) {
      if (!FILE.test(file)) continue;
      const name = file.slice("prelude".length, -".generated.js".length);
      sources.set(file, { file, filename: `verge:prelude${name.replace(/^-/, ":")}`, code: readFileSync(join(dir, file), "utf8"), cache: undefined, refreshed: false });
    }
  } catch {
    // reported below
  }
  const entry = sources.get(ENTRY);
  if (entry === undefined) {
    throw new VergeError(
      "ERR_PRELUDE_MISSING",
      `the guest prelude was not found at ${join(dir, ENTRY)}; build it with \`npm run build:prelude\` (npm test and npm start do this)`,
    );
  }
  const eager = new Set<string>();
  const visit = (file: string) => {
    if (eager.has(file)) return;
    eager.add(file);
    for (const dep of importsOf(sources.get(file)?.code ?? "")) visit(dep);
  };
  visit(ENTRY);
  const prelude: Prelude = {
    code: [...eager].map((f) => sources.get(f)?.code ?? "").join("\n"),
    instantiate: (isolate, context) => link(sources, isolate, context),
  };
  if (dir === DEFAULT_DIR) shared = prelude;
  return prelude;
}

/** The relative imports of a built module (`import ... from "./x.js"`, `import "./x.js"`). */
function importsOf(code: string): string[] {
  return [...code.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[^"';]*?from\s*)?"\.\/([^"]+)"/g)].map((m) => m[1]!);
}

function link(sources: Map<string, ModuleSource>, isolate: ivm.Isolate, context: ivm.Context): PreludeLinker {
  const modules = new Map<string, ivm.Module>();
  const evaluating = new Set<string>();
  let pending = false;

  const compile = (src: ModuleSource): ivm.Module => {
    if (src.cache !== undefined) {
      const m = isolate.compileModuleSync(src.code, { filename: src.filename, cachedData: src.cache });
      if ((m as ivm.Module & { cachedDataRejected?: boolean }).cachedDataRejected === true) src.cache = undefined;
      return m;
    }
    const m = isolate.compileModuleSync(src.code, { filename: src.filename, produceCachedData: true });
    src.cache = (m as ivm.Module & ivm.CachedDataResult).cachedData;
    return m;
  };

  const moduleOf = (file: string): ivm.Module => {
    let m = modules.get(file);
    if (m !== undefined) return m;
    const src = sources.get(file);
    if (src === undefined) throw new Error(`verge prelude: no module ${file}`);
    m = compile(src);
    modules.set(file, m);
    if (!src.refreshed) pending = true;
    m.instantiateSync(context, (specifier) => moduleOf(specifier.replace(/^\.\//, "")));
    return m;
  };

  const entry = moduleOf(ENTRY);
  entry.evaluateSync({ timeout: 2_000 });

  return {
    load(name) {
      if (!PART.test(name) || name.startsWith("shared-")) throw new TypeError(`verge prelude: no lazy part ${JSON.stringify(name)}`);
      const file = `prelude-${name}.generated.js`;
      if (!sources.has(file)) throw new TypeError(`verge prelude: no lazy part ${JSON.stringify(name)}`);
      // V8 aborts the process if a module is evaluated while it is evaluating (code the part runs
      // at its top level, a user getter, asking for it again): refuse that here as well as in the guest.
      if (evaluating.has(file)) throw new TypeError(`verge prelude: lazy part ${name} is still being set up`);
      const m = moduleOf(file);
      evaluating.add(file);
      try {
        // Already evaluated modules (the eager part, a part loaded before) are not run again.
        m.evaluateSync();
      } finally {
        evaluating.delete(file);
      }
      return m.namespace;
    },
    refreshAfterUse() {
      if (!pending || isolate.isDisposed) return;
      pending = false;
      for (const file of modules.keys()) {
        const src = sources.get(file)!;
        if (src.refreshed) continue;
        src.refreshed = true;
        const again = isolate.compileModuleSync(src.code, { filename: src.filename, produceCachedData: true });
        const produced = (again as ivm.Module & ivm.CachedDataResult).cachedData;
        again.release();
        if (produced !== undefined) src.cache = produced;
      }
    },
  };
}

/**
 * A prelude that is one classic script without lazy parts (benchmarks' what-if
 * preludes: a stub with no Web APIs, an experimental build). `loadChunk` fails.
 */
export function scriptPrelude(code: string, filename = "verge:prelude"): Prelude {
  let cache: ivm.ExternalCopy<ArrayBuffer> | undefined;
  let refreshed = false;
  return {
    code,
    instantiate(isolate, context) {
      const script =
        cache === undefined
          ? isolate.compileScriptSync(code, { filename, produceCachedData: true })
          : isolate.compileScriptSync(code, { filename, cachedData: cache });
      cache ??= (script as ivm.Script & ivm.CachedDataResult).cachedData;
      script.runSync(context, { timeout: 2_000 });
      return {
        load: (name) => {
          throw new TypeError(`verge prelude: no lazy part ${JSON.stringify(name)}`);
        },
        refreshAfterUse() {
          if (refreshed || isolate.isDisposed) return;
          refreshed = true;
          const again = isolate.compileScriptSync(code, { filename, produceCachedData: true });
          const produced = (again as ivm.Script & ivm.CachedDataResult).cachedData;
          again.release();
          if (produced !== undefined) cache = produced;
        },
      };
    },
  };
}
