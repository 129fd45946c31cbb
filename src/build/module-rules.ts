/**
 * Wrangler's module rules for the bundler: which imports become a string
 * (Text), an ArrayBuffer (Data) or a `WebAssembly.Module` (CompiledWasm)
 * instead of JavaScript. Wrangler uploads such a file as a module of its own;
 * verge publishes one bundle, so the file is inlined into it (text as a string
 * literal, bytes as base64) and the value is made when the bundle is evaluated.
 *
 * The semantics follow Wrangler's `parseRules` and module collector
 * (workers-sdk `packages/wrangler/src/deployment-bundle/rules.ts` and
 * `module-collection.ts`; docs: https://developers.cloudflare.com/workers/wrangler/bundling/):
 * - the config's rules come first, then the defaults;
 * - a rule without `fallthrough = true` completes its type: later rules of
 *   the same type (the defaults included) are dropped, and importing a file
 *   only a dropped rule matches is a build error;
 * - `ESModule` and `CommonJS` rules change nothing when bundling (esbuild
 *   bundles JavaScript); they still complete their type;
 * - a glob is matched against the import specifier as written
 *   (`./page.html`), with only `*` special.
 */
import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";

export type ModuleRuleType = "Text" | "Data" | "CompiledWasm" | "ESModule" | "CommonJS";

/** One `[[rules]]` entry of a wrangler config (and of Wrangler's defaults). */
export interface ModuleRule {
  type: ModuleRuleType;
  globs: string[];
  fallthrough?: boolean | undefined;
}

/**
 * Wrangler's default rules (`DEFAULT_MODULE_RULES`; `.sql` since workers-sdk#11738).
 * `.json` is not among them: esbuild's JSON loader imports it, as in Wrangler.
 */
export const DEFAULT_MODULE_RULES: readonly ModuleRule[] = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", globs: ["**/*.bin"] },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"] },
];

export interface ParsedRules {
  /** The rules in force, in the order they are tried. */
  rules: ModuleRule[];
  /** Rules dropped because an earlier rule of their type has no `fallthrough = true`. */
  removed: ModuleRule[];
}

/**
 * The config's rules then the defaults, with the rules a non-fallthrough rule
 * of the same type shadows dropped, as Wrangler's `parseRules` does.
 *
 * @example
 * parseModuleRules([{ type: "Text", globs: ["**\/*.md"] }]).removed; // [the default Text rule]
 */
export function parseModuleRules(userRules: readonly ModuleRule[] = []): ParsedRules {
  const completed = new Set<ModuleRuleType>();
  const rules: ModuleRule[] = [];
  const removed: ModuleRule[] = [];
  for (const rule of [...userRules, ...DEFAULT_MODULE_RULES]) {
    if (completed.has(rule.type)) {
      removed.push(rule);
      continue;
    }
    rules.push(rule);
    if (rule.fallthrough !== true) completed.add(rule.type);
  }
  return { rules, removed };
}

/**
 * A glob as Wrangler matches it (the glob-to-regexp package without its
 * `globstar` or `extended` options): `*` (or `**`) is any run of characters,
 * `/` included; every other character stands for itself. So `**\/*.html`
 * matches `./page.html` and `../views/page.html`, and `?` in
 * `**\/*.wasm?module` is a literal question mark. The source is valid both as
 * a JavaScript and as a Go (esbuild filter) regular expression.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split(/\*+/)
    .map((part) => part.replace(/[\\^$.|?+()[\]{}/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

/** What a rule turns an import into: the namespace its module lives in while bundling. */
const NAMESPACE: Partial<Record<ModuleRuleType, string>> = { Text: "verge-text", Data: "verge-data", CompiledWasm: "verge-wasm" };
/** The raw bytes of a Data or CompiledWasm file, as esbuild's binary loader gives them (a Uint8Array). */
const BYTES = "verge-bytes";
/** Marks the plugin's own `build.resolve` calls, so they resolve the file as esbuild would. */
const RESOLVING = Symbol("verge-module-rules");

/**
 * An esbuild plugin applying `rules` (the config's; Wrangler's defaults are
 * added). `loaded` collects the absolute paths of the files the rules loaded,
 * which esbuild's metafile lists under the plugin's namespaces, for watching.
 */
export function moduleRulesPlugin(userRules: readonly ModuleRule[], loaded: Set<string>): Plugin {
  const { rules, removed } = parseModuleRules(userRules);
  return {
    name: "verge-module-rules",
    setup(build) {
      // First, so no rule glob (`**/*.bin`) catches the data module's own import of its bytes.
      build.onResolve({ filter: new RegExp(`^${BYTES}:`) }, (args) => ({ path: args.path.slice(BYTES.length + 1), namespace: BYTES }));
      build.onLoad({ filter: /.*/, namespace: BYTES }, async (args) => ({ contents: await readFile(args.path), loader: "binary" }));

      for (const rule of rules) {
        const namespace = NAMESPACE[rule.type];
        if (namespace === undefined) continue; // ESModule, CommonJS: esbuild bundles them
        for (const glob of rule.globs) {
          build.onResolve({ filter: globToRegExp(glob) }, async (args) => {
            if (args.pluginData === RESOLVING || args.kind === "entry-point") return undefined;
            // `./add.wasm?module` (Wrangler's CompiledWasm glob) names the file ./add.wasm.
            const specifier = args.path.endsWith("?module") ? args.path.slice(0, -"?module".length) : args.path;
            const found = await build.resolve(specifier, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: RESOLVING });
            if (found.errors.length > 0) return { errors: found.errors };
            return { path: found.path, namespace };
          });
        }
      }
      for (const rule of removed) {
        for (const glob of rule.globs) {
          build.onResolve({ filter: globToRegExp(glob) }, (args) => {
            if (args.pluginData === RESOLVING || args.kind === "entry-point") return undefined;
            const text = `${args.path} matches the module rule ${JSON.stringify({ type: rule.type, globs: rule.globs })}, which is ignored because an earlier ${rule.type} rule does not set fallthrough = true (as in Wrangler); add fallthrough = true to that rule to keep this one`;
            return { errors: [{ text }] };
          });
        }
      }

      build.onLoad({ filter: /.*/, namespace: "verge-text" }, async (args) => {
        loaded.add(args.path);
        return { contents: await readFile(args.path), loader: "text" };
      });
      // Workers gives a Data module's default export as an ArrayBuffer; the binary loader's Uint8Array has one of its own, exactly as long.
      build.onLoad({ filter: /.*/, namespace: "verge-data" }, (args) => {
        loaded.add(args.path);
        return { contents: `import bytes from ${JSON.stringify(`${BYTES}:${args.path}`)};\nexport default bytes.buffer;\n`, loader: "js" };
      });
      // Compiled when the bundle is evaluated, as workerd compiles a CompiledWasm module at load.
      build.onLoad({ filter: /.*/, namespace: "verge-wasm" }, (args) => {
        loaded.add(args.path);
        return { contents: `import bytes from ${JSON.stringify(`${BYTES}:${args.path}`)};\nexport default new WebAssembly.Module(bytes);\n`, loader: "js" };
      });
    },
  };
}
