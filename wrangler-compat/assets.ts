/**
 * `[assets]`: a Worker's static assets (https://developers.cloudflare.com/workers/static-assets/binding/):
 * `directory` (required; relative to the config file), `binding`, `html_handling`,
 * `not_found_handling`, `run_worker_first` (a boolean, or path rules such as
 * `["/api/*", "!/api/docs/*"]`). Wrangler's older `experimental_serve_directly`
 * (its inverse) is read too, with a warning naming its replacement.
 */
import { resolve } from "node:path";
import { HTML_HANDLING, NOT_FOUND_HANDLING, validateRunWorkerFirst, type HtmlHandling, type NotFoundHandling } from "../src/shared/assets/index.ts";
import { describe, join, type Diagnostics } from "./diagnostics.ts";

export interface WranglerAssets {
  /** Absolute path of the directory. */
  directory: string;
  binding?: string;
  htmlHandling: HtmlHandling;
  notFoundHandling: NotFoundHandling;
  runWorkerFirst: boolean | string[];
}

const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const KEYS = ["directory", "binding", "html_handling", "not_found_handling", "run_worker_first", "experimental_serve_directly"];

function oneOf<T extends string>(d: Diagnostics, path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  d.error(path, `expected one of ${allowed.map((a) => `"${a}"`).join(", ")}, found ${describe(value)}`);
  return fallback;
}

/** `taken`: names bound in the same table (vars, KV, services), which the binding may not reuse. */
export function readAssets(d: Diagnostics, path: string, value: unknown, dir: string, taken: readonly string[]): WranglerAssets | undefined {
  const t = d.table(path, value);
  if (t === undefined) return undefined;
  for (const key of Object.keys(t)) if (!KEYS.includes(key)) d.warn(join(path, key), `unknown assets key; ignored (expected ${KEYS.slice(0, 5).join(", ")})`);
  const directory = d.string(join(path, "directory"), t.directory, "the directory of the static files, relative to this file");
  if (t.directory === undefined) d.error(join(path, "directory"), 'missing: expected the directory of the static files, such as "./public"');
  else if (directory === "") d.error(join(path, "directory"), 'expected the directory of the static files, such as "./public", found ""');
  const binding = d.string(join(path, "binding"), t.binding, "a binding name (a JavaScript identifier)");
  if (binding !== undefined && !BINDING.test(binding)) d.error(join(path, "binding"), `expected a JavaScript identifier such as "ASSETS", found ${describe(binding)}`);
  else if (binding !== undefined && taken.includes(binding)) d.error(join(path, "binding"), `"${binding}" is also bound in vars, kv_namespaces or services; a name is bound once`);
  const htmlHandling = oneOf(d, join(path, "html_handling"), t.html_handling, HTML_HANDLING, "auto-trailing-slash");
  const notFoundHandling = oneOf(d, join(path, "not_found_handling"), t.not_found_handling, NOT_FOUND_HANDLING, "none");
  let runWorkerFirst: boolean | string[] = false;
  if (t.run_worker_first !== undefined) {
    const problems = validateRunWorkerFirst(t.run_worker_first, "run_worker_first");
    for (const p of problems) d.error(`${path}.${p.path}`, p.message);
    if (problems.length === 0) runWorkerFirst = t.run_worker_first as boolean | string[];
  }
  if (t.experimental_serve_directly !== undefined) {
    if (typeof t.experimental_serve_directly !== "boolean") d.error(join(path, "experimental_serve_directly"), `expected a boolean, found ${describe(t.experimental_serve_directly)}`);
    else if (t.run_worker_first !== undefined) d.error(join(path, "experimental_serve_directly"), "set either run_worker_first or its older inverse experimental_serve_directly, not both");
    else {
      d.warn(join(path, "experimental_serve_directly"), `Wrangler renamed it: write run_worker_first = ${!t.experimental_serve_directly}`);
      runWorkerFirst = !t.experimental_serve_directly;
    }
  }
  if (directory === undefined || directory === "") return undefined;
  return { directory: resolve(dir, directory), ...(binding !== undefined && BINDING.test(binding) ? { binding } : {}), htmlHandling, notFoundHandling, runWorkerFirst };
}
