/**
 * Builds the guest prelude into classic scripts the runtime runs in isolates:
 * - `prelude.generated.js`, the eager part (src/runtime/guest/index.ts): what every
 *   new isolate evaluates before the user's bundle;
 * - `prelude-<name>.generated.js`, one per file of src/runtime/guest/lazy/: rarely
 *   used Web APIs (streams, events, Blob/FormData, crypto.subtle, structuredClone,
 *   compression, URLPattern, KV) that an isolate compiles and evaluates only when its
 *   code first reaches them. Each is one function expression,
 *   `(function (__verge_core) { ...; return { exports } })`: the eager part calls it
 *   with its table of the modules the part imports (`verge:core-table`), so the part
 *   shares the eager part's module instances (classes, captured builtins, the bridge)
 *   without any global.
 * Scripts, not ES modules: isolated-vm compiles a module without consuming its code
 * cache (measured: 48 KiB, 1.7 ms with the cache, 1.5 ms without; a script 0.4 ms).
 * An isolate holds only the source of what it loaded (V8 keeps a script's source for
 * lazy compilation), so the eager part is what cold starts and idle isolates pay.
 * The runtime only reads the output files: esbuild lives here, not there.
 */
import * as esbuild from "esbuild";
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PRELUDE_ENTRY = fileURLToPath(new URL("../runtime/guest/index.ts", import.meta.url));
export const PRELUDE_LAZY_DIR = fileURLToPath(new URL("../runtime/guest/lazy/", import.meta.url));
export const PRELUDE_DIR = fileURLToPath(new URL("../runtime/guest/", import.meta.url));
export const PRELUDE_OUTPUT = join(PRELUDE_DIR, "prelude.generated.js");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface PreludeBuildResult {
  path: string;
  /** Bytes of the eager part. */
  bytes: number;
  /** Bytes of everything, lazy parts included. */
  totalBytes: number;
  /** Lazy part name → bytes. */
  lazy: Record<string, number>;
}

export interface PreludeBuildOptions {
  /** Output directory (default: src/runtime/guest). */
  outdir?: string;
  /** Default true; the profile bench builds an unminified copy to read names. */
  minify?: boolean;
}

/**
 * A lazy part evaluates after user code ran, so a library's module top level must not
 * read globals user code may have set. Two do, to detect a host platform; when the
 * prelude was one eager script they always saw an empty global, and these patches keep
 * it so (the build fails if a library update changes the text).
 */
const LIBRARY_PATCHES: Array<{ file: RegExp; from: string; to: string }> = [
  {
    // Reads Global.Event / Global.EventTarget at top level and would re-parent its classes
    // onto them; Global.DOMException is read when an error is made (kept as it was).
    file: /event-target-shim[\\/]index\.mjs$/,
    from: `const Global = typeof window !== "undefined"
    ? window
    : typeof self !== "undefined"
        ? self
        : typeof global !== "undefined"
            ? global
            : typeof globalThis !== "undefined"
                ? globalThis
                : undefined;`,
    to: `const Global = { get DOMException() { return globalThis.DOMException; } };`,
  },
  {
    // Reads globalThis.DOMException at top level (and would call a user's class to test it).
    file: /web-streams-polyfill[\\/]dist[\\/]ponyfill\.mjs$/,
    from: `const dr="undefined"!=typeof globalThis?globalThis:"undefined"!=typeof self?self:"undefined"!=typeof global?global:void 0;`,
    to: `const dr=void 0;`,
  },
];

const patchLibraries: esbuild.Plugin = {
  name: "verge-prelude-patches",
  setup(build) {
    for (const patch of LIBRARY_PATCHES) {
      build.onLoad({ filter: patch.file }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!text.includes(patch.from)) throw new Error(`prelude build: ${args.path} changed; review the patch in src/build/prelude.ts (LIBRARY_PATCHES)`);
        return { contents: text.replace(patch.from, patch.to), loader: "js" };
      });
    }
  },
};

/** `verge:core-table`: the eager part's table of the modules lazy parts import (repo-relative path → namespace). */
function coreTable(modules: string[]): esbuild.Plugin {
  return {
    name: "verge-core-table",
    setup(build) {
      build.onResolve({ filter: /^verge:core-table$/ }, () => ({ path: "core-table", namespace: "verge-core-table" }));
      build.onLoad({ filter: /.*/, namespace: "verge-core-table" }, () => {
        const lines = modules.map((m, i) => `import * as m${i} from ${JSON.stringify(join(ROOT, m))};`);
        const fields = modules.map((m, i) => `${JSON.stringify(m)}: m${i}`).join(", ");
        // A frozen null-prototype record: reading it consults nothing user code can replace.
        lines.push(`export const coreTable = Object.freeze({ __proto__: null, ${fields} });`);
        return { contents: lines.join("\n"), loader: "js", resolveDir: ROOT };
      });
    },
  };
}

/**
 * In a lazy part, an import of a module of the eager part becomes a read of the table the
 * part's function receives: `export const { a, b } = __verge_core["src/..."]`. A destructuring
 * of a frozen null-prototype record of namespaces: nothing user code can replace is consulted
 * (esbuild's CommonJS interop would call Object.defineProperty with getters over the module).
 */
function coreImports(core: Set<string>, exportsOf: Map<string, string[]>, used: Set<string>): esbuild.Plugin {
  return {
    name: "verge-core-imports",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === "verge-inner" || args.kind === "entry-point") return undefined;
        const r = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: "verge-inner" });
        if (r.errors.length > 0 || !core.has(r.path)) return undefined;
        const rel = relative(ROOT, r.path).split("\\").join("/");
        used.add(rel);
        return { path: rel, namespace: "verge-core" };
      });
      build.onLoad({ filter: /.*/, namespace: "verge-core" }, (args) => {
        const names = exportsOf.get(args.path) ?? [];
        if (names.includes("default")) throw new Error(`prelude build: ${args.path} has a default export; lazy parts can only import named ones`);
        return { contents: `export const { ${names.join(", ")} } = __verge_core[${JSON.stringify(args.path)}];`, loader: "js" };
      });
    },
  };
}

/** An ES module bundle's text as a factory script: `(function (__verge_core) { ...; return { exports } })`. */
function asFactory(text: string, name: string): string {
  const m = /export\s*\{([^}]*)\};?\s*$/.exec(text);
  if (m === null) throw new Error(`prelude build: lazy part ${name} exports nothing`);
  const fields = m[1]!
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const [local, exported = local] = s.split(/\s+as\s+/) as [string, string?];
      return `${JSON.stringify(exported.replace(/^"|"$/g, ""))}: ${local}`;
    });
  if (/^\s*(import|export)\s/m.test(text.slice(0, m.index))) throw new Error(`prelude build: lazy part ${name} kept an import or export statement`);
  return `(function (__verge_core) {\n"use strict";\n${text.slice(0, m.index)}\nreturn { __proto__: null, ${fields.join(", ")} };\n})\n`;
}

/**
 * WebAssembly a lazy part needs (`HostBridge.loadWasm(name)`), copied from its package to
 * `prelude-<name>.generated.wasm`: the host compiles it once per process and copies the
 * module into isolates, so it is never a script's source held by each isolate.
 */
const LAZY_WASM: Record<string, string> = {
  "html-rewriter": "html-rewriter-wasm/dist/html_rewriter_bg.wasm",
};

const GENERATED = /^prelude(-[a-z0-9-]+)?\.generated\.(js|wasm)$/;
const BANNER = "/* verge guest prelude (generated by src/build/prelude.ts; do not edit) */";

export async function buildPrelude(options: PreludeBuildOptions = {}): Promise<PreludeBuildResult> {
  const outdir = options.outdir ?? PRELUDE_DIR;
  const common: esbuild.BuildOptions = {
    bundle: true,
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["worker", "browser", "import", "default"],
    target: "es2022",
    minify: options.minify ?? true,
    legalComments: "none",
    // ASCII (non-ASCII escaped): V8 keeps a script's source in every isolate that loaded it,
    // and one character above U+00FF makes the whole string two-byte.
    charset: "ascii",
    metafile: true,
    write: false,
    logLevel: "silent",
    absWorkingDir: ROOT,
  };
  const eagerBuild = (modules: string[]) =>
    esbuild.build({ ...common, entryPoints: [PRELUDE_ENTRY], outfile: join(outdir, "prelude.generated.js"), format: "iife", banner: { js: BANNER }, plugins: [patchLibraries, coreTable(modules)] });

  // 1. Which modules the eager part bundles.
  const first = await eagerBuild([]);
  const core = new Set(Object.keys(first.metafile!.inputs).filter((p) => !p.includes(":")).map((p) => resolve(ROOT, p)));
  // 2. Their export names (what a lazy part's import of one can bind).
  const names = await esbuild.build({ entryPoints: [...core], bundle: false, format: "esm", metafile: true, write: false, outdir: "/verge-exports", outbase: ROOT, logLevel: "silent", absWorkingDir: ROOT });
  const exportsOf = new Map<string, string[]>();
  for (const o of Object.values(names.metafile.outputs)) if (o.entryPoint !== undefined) exportsOf.set(relative(ROOT, resolve(ROOT, o.entryPoint)).split("\\").join("/"), o.exports);
  // 3. Each lazy part as a factory script over the eager part's modules.
  const used = new Set<string>();
  const owner = new Map<string, string>();
  const files = new Map<string, string>();
  const lazy: Record<string, number> = {};
  for (const f of readdirSync(PRELUDE_LAZY_DIR).filter((x) => x.endsWith(".ts") && !x.endsWith(".test.ts")).sort()) {
    const name = basename(f, ".ts");
    const r = await esbuild.build({ ...common, entryPoints: [join(PRELUDE_LAZY_DIR, f)], outfile: join(outdir, `prelude-${name}.generated.js`), format: "esm", plugins: [patchLibraries, coreImports(core, exportsOf, used)] });
    for (const input of Object.keys(r.metafile!.inputs)) {
      if (input.includes(":") || input.endsWith(`lazy/${f}`)) continue;
      // A module bundled into two parts would exist twice (two classes of one name): share it through the eager part.
      const other = owner.get(input);
      if (other !== undefined && other !== name) throw new Error(`prelude build: ${input} is bundled into lazy parts ${other} and ${name}; have one load the other (core/lazy.ts) or import it from the eager part`);
      owner.set(input, name);
    }
    const text = `${BANNER}\n${asFactory(r.outputFiles![0]!.text, name)}`;
    files.set(`prelude-${name}.generated.js`, text);
    lazy[name] = Buffer.byteLength(text);
  }
  // 4. The eager part, with the table of the modules the lazy parts import.
  const eager = await eagerBuild([...used].sort());
  const eagerText = eager.outputFiles![0]!.text;
  files.set("prelude.generated.js", eagerText);

  // Replace the previous build's files.
  for (const f of readdirSync(outdir)) if (GENERATED.test(f) || /^prelude-shared-/.test(f)) rmSync(join(outdir, f));
  for (const [f, text] of files) writeFileSync(join(outdir, f), text);
  const require = createRequire(import.meta.url);
  for (const [name, spec] of Object.entries(LAZY_WASM)) {
    if (!files.has(`prelude-${name}.generated.js`)) throw new Error(`prelude build: ${spec} belongs to lazy part ${name}, which does not exist`);
    copyFileSync(require.resolve(spec), join(outdir, `prelude-${name}.generated.wasm`));
  }
  const bytes = Buffer.byteLength(eagerText);
  return { path: join(outdir, "prelude.generated.js"), bytes, totalBytes: bytes + Object.values(lazy).reduce((a, b) => a + b, 0), lazy };
}
