/**
 * Builds the guest prelude into ES modules the runtime runs in every new isolate:
 * - `prelude.generated.js`, the eager part (src/runtime/guest/index.ts): what every
 *   isolate evaluates before the user's bundle;
 * - `prelude-<name>.generated.js`, one per file of src/runtime/guest/lazy/: rarely
 *   used Web APIs (streams, events, Blob/FormData, crypto.subtle, structuredClone,
 *   compression, URLPattern, KV) that an isolate compiles and evaluates only when
 *   its code first reaches them;
 * - `prelude-shared-<hash>.generated.js`: modules esbuild splits out because more
 *   than one of the above imports them (ESM imports link them; nothing is duplicated).
 * An isolate holds only the source of what it loaded (V8 keeps a script's source
 * for lazy compilation), so the eager part is what cold starts and idle isolates pay.
 * The runtime only reads the output files: esbuild lives here, not there.
 */
import * as esbuild from "esbuild";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PRELUDE_ENTRY = fileURLToPath(new URL("../runtime/guest/index.ts", import.meta.url));
export const PRELUDE_LAZY_DIR = fileURLToPath(new URL("../runtime/guest/lazy/", import.meta.url));
export const PRELUDE_DIR = fileURLToPath(new URL("../runtime/guest/", import.meta.url));
export const PRELUDE_OUTPUT = join(PRELUDE_DIR, "prelude.generated.js");

export interface PreludeBuildResult {
  path: string;
  /** Bytes of the eager part: the entry and the shared modules it imports. */
  bytes: number;
  /** Bytes of everything, lazy parts included. */
  totalBytes: number;
  /** Lazy part name → bytes of its own module. */
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
    file: /event-target-shim[\/]index\.mjs$/,
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
    file: /web-streams-polyfill[\/]dist[\/]ponyfill\.mjs$/,
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

const GENERATED = /^prelude(-[a-z0-9-]+)?(-[A-Z0-9]+)?\.generated\.js$/;

export async function buildPrelude(options: PreludeBuildOptions = {}): Promise<PreludeBuildResult> {
  const outdir = options.outdir ?? PRELUDE_DIR;
  const lazy = readdirSync(PRELUDE_LAZY_DIR).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  const entryPoints: Record<string, string> = { prelude: PRELUDE_ENTRY };
  for (const f of lazy) entryPoints[`prelude-${basename(f, ".ts")}`] = join(PRELUDE_LAZY_DIR, f);
  const result = await esbuild.build({
    entryPoints,
    outdir,
    entryNames: "[name].generated",
    chunkNames: "prelude-shared-[hash].generated",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["worker", "browser", "import", "default"],
    target: "es2022",
    minify: options.minify ?? true,
    legalComments: "none",
    // ASCII (non-ASCII escaped): V8 keeps a module's source in every isolate that loaded it,
    // and one character above U+00FF makes the whole string two-byte.
    charset: "ascii",
    metafile: true,
    write: false,
    logLevel: "silent",
    plugins: [patchLibraries],
    banner: { js: "/* verge guest prelude (generated by src/build/prelude.ts; do not edit) */" },
  });
  // Replace the previous build's files (shared modules are named by hash).
  for (const f of readdirSync(outdir)) if (GENERATED.test(f)) rmSync(join(outdir, f));
  for (const file of result.outputFiles) writeFileSync(file.path, file.contents);

  const outputs = result.metafile.outputs;
  const byName = new Map(Object.entries(outputs).map(([path, o]) => [basename(path), o]));
  const eager = new Set<string>();
  const visit = (name: string) => {
    if (eager.has(name)) return;
    eager.add(name);
    for (const imp of byName.get(name)?.imports ?? []) if (imp.kind === "import-statement") visit(basename(imp.path));
  };
  visit("prelude.generated.js");
  let bytes = 0;
  let totalBytes = 0;
  const lazyBytes: Record<string, number> = {};
  for (const [name, o] of byName) {
    totalBytes += o.bytes;
    if (eager.has(name)) bytes += o.bytes;
    const m = /^prelude-([a-z0-9-]+)\.generated\.js$/.exec(name);
    if (m !== null) lazyBytes[m[1]!] = o.bytes;
  }
  return { path: join(outdir, "prelude.generated.js"), bytes, totalBytes, lazy: lazyBytes };
}
