/**
 * Bundles a function's entry (JS or TS, with its imports) into one ES module
 * with a source map, the unit verge runs and publishes.
 */
import * as esbuild from "esbuild";
import { basename, resolve } from "node:path";
import { VergeError } from "../shared/errors.ts";
import { moduleRulesPlugin, type ModuleRule } from "./module-rules.ts";
import { nodeCompatBuildOptions, nodeCompatPlugin, usesAsyncContext } from "./node-compat.ts";

/** Async functions, async generators and `for await` compiled to generators stepped by `.then`. */
const LOWERED_ASYNC: Record<string, boolean> = { "async-await": false, "async-generator": false, "for-await": false };

export type { ModuleRule, ModuleRuleType } from "./module-rules.ts";
export { NODE_COMPAT_MODULES, describeCompatibilityFlags, wantsNodeCompat } from "./node-compat.ts";

export interface BundleOptions {
  /**
   * A wrangler config's `[[rules]]`, tried before Wrangler's default module rules
   * (Text: .txt, .html, .sql; Data: .bin; CompiledWasm: .wasm, .wasm?module).
   * See module-rules.ts.
   */
  rules?: readonly ModuleRule[] | undefined;
  /**
   * Workers' `nodejs_compat` (see node-compat.ts): the Node built-ins NODE_COMPAT_MODULES lists
   * resolve to polyfills bundled into the function, and `Buffer`, `process` and `global` are
   * defined where the code uses them. Without it, any `node:*` import is a build error saying so.
   */
  nodeCompat?: boolean | undefined;
}

export interface BundleResult {
  code: string;
  sourceMap: string;
  filename: string;
  bytes: number;
  /** Absolute paths of every source file the bundle was built from (the import graph), for watching. */
  inputs: string[];
  /**
   * "esm" when the bundle exports something (a module Worker, a Lambda@Edge handler), "script"
   * when it exports nothing (a service worker): it then runs as a classic script, as Workers runs
   * service-worker syntax, with its bindings as globals. The edge node's loader decides the same
   * from the code (edge-nodes/sync/loader.ts formatOf).
   */
  format: "esm" | "script";
}

/** Where a build error is, as esbuild reports it (1-based line, 0-based column). */
export interface BuildProblem {
  text: string;
  file?: string;
  line?: number;
  column?: number;
  length?: number;
  /** The source line the error is on. */
  lineText?: string;
}

/**
 * @example
 * const built = await bundle("src/index.ts", { rules: [{ type: "Text", globs: ["**\/*.md"], fallthrough: true }] });
 * built.code; // one ES module: `import page from "./page.html"` is a string in it
 */
export async function bundle(entry: string, options: BundleOptions = {}): Promise<BundleResult> {
  /** Files the module rules loaded: the metafile lists them under the plugin's namespaces. */
  const ruled = new Set<string>();
  const nodeCompat = options.nodeCompat === true;
  const filename = basename(entry).replace(/\.(ts|mts|tsx|jsx|cjs|mjs)$/, ".js");
  try {
    const build: esbuild.BuildOptions & { write: false; metafile: true } = {
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      mainFields: ["worker", "browser", "module", "main"],
      conditions: ["workerd", "worker", "browser", "import", "default"],
      // Provided by the runtime, as workerd provides it (src/runtime/sandbox.ts).
      external: ["cloudflare:workers"],
      sourcemap: "external",
      metafile: true,
      write: false,
      outfile: filename,
      logLevel: "silent",
      ...nodeCompatBuildOptions(nodeCompat),
      plugins: [nodeCompatPlugin(nodeCompat), moduleRulesPlugin(options.rules ?? [], ruled)],
    };
    let result = await esbuild.build(build);
    // Metafile input keys are relative to esbuild's working directory; some carry a namespace prefix.
    const filesOf = (r: typeof result) => Object.keys(r.metafile.inputs).filter((p) => !/^[a-z-]+:/.test(p)).map((p) => resolve(p));
    let files = filesOf(result);
    // AsyncLocalStorage follows `.then` only: the bundle's awaits must go through it (node-polyfills/async_hooks.js).
    if (usesAsyncContext(files)) {
      result = await esbuild.build({ ...build, supported: LOWERED_ASYNC });
      files = filesOf(result);
    }
    const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
    const map = result.outputFiles.find((f) => f.path.endsWith(".map"));
    if (js === undefined) throw new Error("esbuild produced no JavaScript");
    const inputs = files.concat([...ruled]);
    const exported = Object.values(result.metafile.outputs).some((o) => o.exports.length > 0);
    return { code: js.text, sourceMap: map?.text ?? "", filename, bytes: js.contents.byteLength, inputs, format: exported ? "esm" : "script" };
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors;
    const problems: BuildProblem[] = (errors ?? [{ text: String(err) } as esbuild.Message]).map((e) =>
      e.location
        ? { text: e.text, file: resolve(e.location.file), line: e.location.line, column: e.location.column, length: e.location.length, lineText: e.location.lineText }
        : { text: e.text },
    );
    const detail = errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join("\n  ") ?? String(err);
    throw new VergeError("ERR_BUILD_FAILED", `building ${entry} failed:\n  ${detail}`, { details: { problems } });
  }
}
