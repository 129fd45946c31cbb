/**
 * Compiles and evaluates a function's bundle in a sandbox's context: a classic
 * script (service worker, CommonJS `exports.handler`) or an ES module with the
 * further modules it may import by name, and the runtime's own
 * `cloudflare:workers` (its members come from the guest, see
 * guest/core/cloudflare-workers.ts). Also re-produces a bundle's code cache.
 */
import type ivm from "isolated-vm";
import type { FunctionSource } from "./sandbox.ts";

export interface EvaluateOptions {
  /** Code cache of this bundle produced earlier in this process. */
  codeCache?: ivm.ExternalCopy<ArrayBuffer>;
  /** The backstop of the top level's evaluation (wall ms). */
  timeoutMs: number;
  /**
   * Makes `env` before code that reads it at its top level runs (guest `prepareEnv`):
   * a classic script's bindings as globals (`asGlobals`), or for `cloudflare:workers`.
   */
  prepareEnv(asGlobals: boolean): void;
}

export interface EvaluatedBundle {
  /** The entry's module namespace in the context (undefined for a script). */
  namespace: unknown;
  /** Whether V8 took the given code cache (the pool keeps only a cache that was). */
  cacheAccepted: boolean;
}

/** The built-in module workerd gives Workers. */
const CLOUDFLARE_WORKERS = "cloudflare:workers";
const CLOUDFLARE_WORKERS_SOURCE = `const m = globalThis[Symbol.for("verge.cloudflare:workers")];
export const WorkerEntrypoint = m.WorkerEntrypoint;
export const DurableObject = m.DurableObject;
export const WorkflowEntrypoint = m.WorkflowEntrypoint;
export const RpcTarget = m.RpcTarget;
export const env = m.env;
export const waitUntil = m.waitUntil;
`;

const moduleNames = new WeakMap<ivm.Module, string>();

const accepted = (compiled: unknown, cache: unknown): boolean => cache !== undefined && !(compiled as { cachedDataRejected?: boolean }).cachedDataRejected;

export function evaluateBundle(isolate: ivm.Isolate, context: ivm.Context, source: FunctionSource, options: EvaluateOptions): EvaluatedBundle {
  const filename = source.filename ?? "worker.js";
  const { codeCache, timeoutMs } = options;
  if (source.format === "script") {
    context.evalSync("globalThis.module = { exports: {} }; globalThis.exports = globalThis.module.exports;");
    options.prepareEnv(true);
    const script = isolate.compileScriptSync(source.code, { filename, ...(codeCache ? { cachedData: codeCache } : {}) });
    script.runSync(context, { timeout: timeoutMs });
    return { namespace: undefined, cacheAccepted: accepted(script, codeCache) };
  }
  const modules = new Map((source.modules ?? []).map((m) => [normalizeName(m.name), m.code]));
  const compiled = new Map<string, ivm.Module>();
  const compile = (code: string, name: string, cache?: ivm.ExternalCopy<ArrayBuffer>) => isolate.compileModuleSync(code, { filename: name, ...(cache ? { cachedData: cache } : {}) });
  /** A module's code by resolved name: one given, or the runtime's `cloudflare:workers` (env made first). */
  const codeOf = (name: string): string | undefined => {
    const given = modules.get(name);
    if (given !== undefined || name !== CLOUDFLARE_WORKERS) return given;
    options.prepareEnv(false);
    return CLOUDFLARE_WORKERS_SOURCE;
  };
  const entry = compile(source.code, filename, codeCache);
  entry.instantiateSync(context, (specifier: string, referrer: ivm.Module) => {
    const from = referrer === entry ? filename : (moduleNames.get(referrer) ?? filename);
    const name = resolveSpecifier(specifier, from);
    let m = compiled.get(name);
    if (m !== undefined) return m;
    const code = codeOf(name);
    if (code === undefined) throw new Error(`Cannot resolve module "${specifier}" imported from ${from}: no module named "${name}" was given`);
    m = compile(code, name);
    compiled.set(name, m);
    moduleNames.set(m, name);
    return m;
  });
  entry.evaluateSync({ timeout: timeoutMs });
  return { namespace: entry.namespace.derefInto(), cacheAccepted: accepted(entry, codeCache) };
}

/**
 * The bundle's code cache, compiled again from its own source in this process (DESIGN.md §4).
 * After an invocation V8 hands back the same compiled script, which by then holds the bytecode
 * of every function that request ran.
 */
export function produceCodeCache(isolate: ivm.Isolate, source: FunctionSource): ivm.ExternalCopy<ArrayBuffer> | undefined {
  const filename = source.filename ?? "worker.js";
  const compiled = source.format === "script" ? isolate.compileScriptSync(source.code, { filename, produceCachedData: true }) : isolate.compileModuleSync(source.code, { filename, produceCachedData: true });
  const cache = (compiled as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
  compiled.release();
  return cache;
}

function normalizeName(name: string): string {
  return name.replace(/^\.\//, "").replace(/^\/+/, "");
}

/** Resolves `./x.js` against the importing module's name; bare names are looked up as given. */
function resolveSpecifier(specifier: string, referrer: string): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return normalizeName(specifier);
  const parts = referrer.split("/").slice(0, -1);
  for (const seg of specifier.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return normalizeName(parts.join("/"));
}
