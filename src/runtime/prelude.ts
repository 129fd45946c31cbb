/**
 * Loads the built guest prelude once per process and keeps a V8 code cache that
 * this process produced itself (DESIGN.md §4: never accepted from outside).
 */
import ivm from "isolated-vm";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VergeError } from "../shared/errors.ts";

const DEFAULT_PATH = fileURLToPath(new URL("./guest/prelude.generated.js", import.meta.url));

export interface Prelude {
  code: string;
  /** Compiles the prelude for `isolate`, using and refreshing the in-process code cache. */
  compile(isolate: ivm.Isolate): ivm.Script;
}

let shared: Prelude | undefined;

export function loadPrelude(path: string = DEFAULT_PATH): Prelude {
  if (path === DEFAULT_PATH && shared !== undefined) return shared;
  let code: string;
  try {
    code = readFileSync(path, "utf8");
  } catch (cause) {
    throw new VergeError(
      "ERR_PRELUDE_MISSING",
      `the guest prelude was not found at ${path}; build it with \`npm run build:prelude\` (npm test and npm start do this)`,
      { cause },
    );
  }
  let cache: ivm.ExternalCopy<ArrayBuffer> | undefined;
  const prelude: Prelude = {
    code,
    compile(isolate) {
      if (cache === undefined) {
        const script = isolate.compileScriptSync(code, { filename: "verge:prelude", produceCachedData: true });
        cache = (script as ivm.Script & ivm.CachedDataResult).cachedData;
        return script;
      }
      const script = isolate.compileScriptSync(code, { filename: "verge:prelude", cachedData: cache });
      if ((script as ivm.Script & { cachedDataRejected?: boolean }).cachedDataRejected === true) cache = undefined;
      return script;
    },
  };
  if (path === DEFAULT_PATH) shared = prelude;
  return prelude;
}
