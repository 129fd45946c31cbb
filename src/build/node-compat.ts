/**
 * Workers' `nodejs_compat`, the way Wrangler's legacy `node_compat` did it:
 * imports of Node built-ins resolve at bundle time to pure-JS polyfills,
 * bundled into the function (workers-sdk
 * `packages/wrangler/src/deployment-bundle/esbuild-plugins/nodejs-compat.ts`
 * before v4 used the same packages through `@esbuild-plugins/node-modules-polyfill`).
 * Nothing is added to the runtime: the isolate still has no Node APIs, and a
 * function that does not import them gets nothing.
 *
 * - `node:buffer` / `buffer`          → node-polyfills/buffer.js: buffer (feross), plus base64url
 * - `node:events` / `events`          → events
 * - `node:util` / `util`              → util (browserify)
 * - `node:path` / `path`              → path-browserify (POSIX)
 * - `node:string_decoder` / `string_decoder` → string_decoder
 * - `node:assert` / `assert`          → assert (browserify; it bundles util)
 * - `node:crypto` / `crypto`          → node-polyfills/crypto.js, verge's own over @noble/hashes:
 *   hashes, HMAC, pbkdf2, hkdf, random, timingSafeEqual, webcrypto; the rest throws when called
 * - `node:stream` / `stream`, `node:stream/promises` → readable-stream (v4, Node's streams)
 * - `node:url` / `url`                → node-polyfills/url.js (the url package's legacy API, the URL globals)
 * - `node:querystring` / `querystring` → querystring-es3
 * - `node:timers`, `node:timers/promises` → node-polyfills/timers.js (the isolate's timers)
 * - `node:process` / `process`        → node-polyfills/process.js
 * - the globals `Buffer`, `process` (the node:process object: `env` is `{}`,
 *   `nextTick` queues a microtask) and `global` (= `globalThis`), added only
 *   where code uses them.
 * - `node:async_hooks`                 → node-polyfills/async_hooks.js: AsyncLocalStorage and
 *   AsyncResource, the context carried through `then` and timers; a bundle that imports it
 *   is built with async functions lowered to generators (bundle.ts)
 * - `node:zlib` / `zlib`              → node-polyfills/zlib.js, verge's own: an inflater of its own
 *   and fflate's DEFLATE, gzip/deflate/raw/unzip in the Sync, callback and stream forms, crc32;
 *   Brotli and Zstandard throw when called
 *
 * Any other `node:*` import (node:fs, node:net, node:http...) is a build error naming what is supported, with the flag or without it.
 */
import { builtinModules, createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";

/**
 * The Node built-ins `nodejs_compat` gives a verge function, and what stands for each:
 * an npm package (its main entry), a file in a package, or (`./`) a polyfill of verge's own beside this file.
 */
export const NODE_COMPAT_MODULES: Readonly<Record<string, string>> = {
  buffer: "./node-polyfills/buffer.js",
  events: "events",
  util: "util",
  path: "path-browserify",
  string_decoder: "string_decoder",
  assert: "assert",
  crypto: "./node-polyfills/crypto.js",
  // The browser entry (readable-stream's package.json maps its main to it for bundlers; a resolved path skips that map).
  stream: "readable-stream/lib/ours/browser.js",
  "stream/promises": "readable-stream/lib/stream/promises.js",
  url: "./node-polyfills/url.js",
  querystring: "querystring-es3",
  timers: "./node-polyfills/timers.js",
  "timers/promises": "./node-polyfills/timers-promises.js",
  process: "./node-polyfills/process.js",
  async_hooks: "./node-polyfills/async_hooks.js",
  zlib: "./node-polyfills/zlib.js",
};

/** Whether a bundle's inputs (absolute paths) include verge's async context: it must then be built with async functions lowered (node-polyfills/async_hooks.js). */
export function usesAsyncContext(inputs: readonly string[]): boolean {
  return inputs.includes(polyfillPath("async_hooks"));
}

/** The compatibility flags that turn the polyfills on (Workers' `nodejs_compat` and its former `nodejs_compat_v2`). */
export const NODE_COMPAT_FLAGS: readonly string[] = ["nodejs_compat", "nodejs_compat_v2"];

/**
 * Whether a wrangler config's `compatibility_flags` ask for Node.js compatibility.
 *
 * @example
 * wantsNodeCompat(["nodejs_compat"]); // true
 */
export function wantsNodeCompat(flags: readonly string[]): boolean {
  return flags.some((f) => NODE_COMPAT_FLAGS.includes(f));
}

/** The supported modules as a user reads them in a message. */
export const SUPPORTED_TEXT = Object.keys(NODE_COMPAT_MODULES).map((m) => `node:${m}`).join(", ");

const NAMESPACE = "verge-node-compat";
/** The globals, each in a module of its own so esbuild injects only the ones the code names. */
const GLOBALS: Record<string, string> = {
  buffer: `export { Buffer } from "node:buffer";\n`,
  // The same object as `import process from "node:process"` (node-polyfills/process.js).
  process: `export { default as process } from "node:process";\n`,
};
/** Resolved from verge's own install, not the user's project: the polyfills are verge's dependencies. */
const require = createRequire(import.meta.url);

/** The absolute path of one of verge's own polyfills (`./node-polyfills/...`, beside this file). */
const ownPath = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** The absolute path a supported built-in resolves to. */
function polyfillPath(name: string): string {
  const target = NODE_COMPAT_MODULES[name]!;
  if (target.startsWith("./")) return ownPath(target);
  // "buffer/" (not "buffer"): the package, not Node's own built-in of that name.
  return require.resolve(target.includes("/") ? target : `${target}/`);
}

/** The esbuild options `nodejs_compat` adds beside the plugin: injected globals and `global`. */
export function nodeCompatBuildOptions(enabled: boolean): { inject: string[]; define: Record<string, string> } {
  if (!enabled) return { inject: [], define: {} };
  return { inject: Object.keys(GLOBALS).map((g) => `${NAMESPACE}:global-${g}`), define: { global: "globalThis" } };
}

/** Node's built-in module names (without `node:`). */
const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));
/** Marks the resolution the bare-name check asks esbuild for, so that it does not ask itself again. */
const BARE_TRY = Symbol("verge-node-compat-bare");

/** Why an import of built-in `name` (`node:x`) does not bundle, and what would make it. */
function refusal(name: string, enabled: boolean): string {
  if (enabled) return `${name} is not available in verge: with nodejs_compat, verge bundles polyfills for ${SUPPORTED_TEXT} only (there is no Node.js runtime in the isolate); use a Web API instead (fetch, ReadableStream, CompressionStream, caches)`;
  if (Object.hasOwn(NODE_COMPAT_MODULES, name.slice("node:".length))) {
    return `${name} needs compatibility_flags = ["nodejs_compat"] in the wrangler config, or --node-compat with an entry (verge then bundles a polyfill for it; supported: ${SUPPORTED_TEXT})`;
  }
  return `${name} is not available in verge: there is no Node.js runtime in the isolate (with compatibility_flags = ["nodejs_compat"] or --node-compat, verge bundles polyfills for ${SUPPORTED_TEXT} only)`;
}

/**
 * Resolves the supported built-ins to their polyfills when `enabled`, and turns
 * every other `node:*` import (every one, when not enabled) into an error that
 * says what verge supports and how to turn it on.
 */
export function nodeCompatPlugin(enabled: boolean): Plugin {
  return {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${NAMESPACE}:global-`) }, (args) => ({ path: args.path, namespace: NAMESPACE, sideEffects: false }));
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: GLOBALS[args.path.slice(`${NAMESPACE}:global-`.length)]!,
        loader: "js",
        resolveDir: process.cwd(),
      }));
      const names = Object.keys(NODE_COMPAT_MODULES).join("|");
      if (enabled) {
        // Bare `buffer` too: npm packages written for browserify (safe-buffer, readable-stream) require it so.
        build.onResolve({ filter: new RegExp(`^(node:)?(${names})/?$`) }, (args) => {
          const name = args.path.replace(/^node:/, "").replace(/\/$/, "");
          // async_hooks changes globals (Promise.prototype.then, timers) as it loads: it has side effects.
          return { path: polyfillPath(name), sideEffects: name === "async_hooks" };
        });
        // The url package asks for qs where Node's url uses querystring (node-polyfills/url-qs.js).
        build.onResolve({ filter: /^qs$/ }, (args) =>
          /[\\/]node_modules[\\/]url[\\/]/.test(args.importer) ? { path: ownPath("./node-polyfills/url-qs.js"), sideEffects: false } : undefined,
        );
      }
      build.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: refusal(args.path, enabled) }] }));
      // A bare built-in name (`require("querystring")`, as code written for Node has it) that is not
      // an npm package of the project: esbuild's own "Could not resolve" would not say why.
      build.onResolve({ filter: /^[a-z_]+(\/[a-z_]+)?$/ }, async (args) => {
        if (args.pluginData === BARE_TRY || !NODE_BUILTINS.has(args.path)) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: BARE_TRY });
        if (found.errors.length === 0) return { path: found.path, namespace: found.namespace, external: found.external, sideEffects: found.sideEffects };
        return { errors: [{ text: `"${args.path}" is no installed package but Node's built-in: ${refusal(`node:${args.path}`, enabled)}` }] };
      });
    },
  };
}

/**
 * What verge makes of a wrangler config's `compatibility_flags`, as one warning
 * (undefined without flags): `nodejs_compat` is applied in part, the rest not.
 *
 * @example
 * describeCompatibilityFlags(["nodejs_compat"]); // "compatibility_flags: nodejs_compat is applied in part: ..."
 */
export function describeCompatibilityFlags(flags: readonly string[]): string | undefined {
  if (flags.length === 0) return undefined;
  const node = flags.filter((f) => NODE_COMPAT_FLAGS.includes(f));
  const other = flags.filter((f) => !NODE_COMPAT_FLAGS.includes(f));
  const parts: string[] = [];
  if (node.length > 0) {
    parts.push(
      `${node.join(", ")} is applied in part: imports of ${SUPPORTED_TEXT} and the Buffer and process globals are bundled into the function as pure-JS polyfills; other node:* modules (node:fs, node:net, node:http, ...) fail to bundle, as verge has no Node.js runtime`,
    );
  }
  if (other.length > 0) parts.push(`${other.join(", ")} ${other.length === 1 ? "is" : "are"} read but not applied by verge`);
  return `compatibility_flags: ${parts.join("; ")}`;
}
