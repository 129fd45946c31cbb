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
  /**
   * Once per process, after an isolate served its first invocation: re-produces
   * the code cache from that isolate. V8 hands back the same compiled script,
   * which by now holds the bytecode of every prelude function a request ran, so
   * later isolates skip compiling those lazily (measured: prelude run 2.5 → 1.6 ms,
   * first request 1.7 → 0.5 ms). Only bytecode of the prelude's own source is
   * serialized; nothing the user's code did is in it.
   */
  refreshAfterUse(isolate: ivm.Isolate): void;
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
  let refreshed = false;
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
    refreshAfterUse(isolate) {
      if (refreshed || isolate.isDisposed) return;
      refreshed = true;
      const script = isolate.compileScriptSync(code, { filename: "verge:prelude", produceCachedData: true });
      const produced = (script as ivm.Script & ivm.CachedDataResult).cachedData;
      script.release();
      if (produced !== undefined) cache = produced;
    },
  };
  if (path === DEFAULT_PATH) shared = prelude;
  return prelude;
}
