/**
 * Prelude variants for bench/profile.ts: an unminified build (readable names,
 * esbuild's `// path` module markers), one with a timestamp at each module, one
 * without fflate's module top level, and a stub that installs no Web API. Built
 * with the esbuild CLI into temp dirs (removed by `cleanup()`); the runtime is
 * given them through the public `prelude` option of `Sandbox`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync as mkdtempRaw, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sandbox } from "../../src/runtime/index.ts";
import { BENCH_DIR } from "./rounds.ts";

const ROOT = join(BENCH_DIR, "..");
export type Prelude = NonNullable<ConstructorParameters<typeof Sandbox>[0]["prelude"]>;

const tempDirs: string[] = [];
export function mkdtempSync(prefix: string): string {
  const d = mkdtempRaw(prefix);
  tempDirs.push(d);
  return d;
}
/** Removes every temp dir made through this module. */
export function cleanup(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function buildReadablePrelude(): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-prelude-"));
  const out = join(dir, "prelude.js");
  // Mirrors src/build/prelude.ts, without minify.
  execFileSync(join(ROOT, "node_modules", ".bin", "esbuild"), [
    join(ROOT, "src", "runtime", "guest", "index.ts"),
    "--bundle", "--format=iife", "--platform=neutral", "--main-fields=module,main",
    "--conditions=worker,browser,import,default", "--target=es2022", "--charset=utf8",
    "--legal-comments=none", `--outfile=${out}`, "--log-level=error",
  ]);
  return readFileSync(out, "utf8");
}

export function minify(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-min-"));
  writeFileSync(join(dir, "in.js"), code);
  execFileSync(join(ROOT, "node_modules", ".bin", "esbuild"), [join(dir, "in.js"), "--minify", "--target=es2022", "--charset=utf8", `--outfile=${join(dir, "out.js")}`, "--log-level=error"]);
  return readFileSync(join(dir, "out.js"), "utf8");
}

export function preludeFrom(code: string, filename = "verge:prelude"): Prelude {
  type Iso = Parameters<Prelude["compile"]>[0];
  let cache: unknown;
  return {
    code,
    compile(isolate: Iso) {
      if (cache === undefined) {
        const s = isolate.compileScriptSync(code, { filename, produceCachedData: true });
        cache = (s as unknown as { cachedData: unknown }).cachedData;
        return s;
      }
      return isolate.compileScriptSync(code, { filename, cachedData: cache as never });
    },
  } as Prelude;
}

/** Inserts a timestamp at each esbuild module marker; the marks end up in `globalThis.__verge_marks`. */
export function markedPrelude(readable: string): string {
  const head = `var __verge_h = globalThis.__verge_host, __verge_m = []; globalThis.__verge_marks = __verge_m;\n`;
  let code = readable.replace(/^(\s*)\/\/ ((?:src|node_modules)\/\S+)$/gm, (_m, ws: string, p: string) => `${ws}__verge_m.push([${JSON.stringify(p)}, __verge_h.now()]);`);
  code = code.replace(/^(\s*)(install\w+\(\);)$/gm, (_m, ws: string, call: string) => `${ws}__verge_m.push([${JSON.stringify(`call ${call}`)}, __verge_h.now()]);${call}`);
  // End mark before the prelude publishes its API (the last statement of the entry).
  code = code.replace(/^(\s*)(Object\.defineProperty\(globalThis, "__verge_guest")/m, (_m, ws: string, rest: string) => `${ws}__verge_m.push(["(end)", __verge_h.now()]);${rest}`);
  return head + code;
}

/**
 * The least a prelude must do for a Sandbox to work: take the host bridge,
 * publish the guest entry points, answer every fetch with an empty 200.
 * It measures what an isolate costs before any Web API is installed.
 */
export const STUB_PRELUDE = `(() => {
  const h = globalThis.__verge_host; delete globalThis.__verge_host;
  const api = {
    init: () => ({ dialect: "module", exports: ["default.fetch"] }),
    dispatch(id) {
      h.emit({ type: "response", invocation: id, head: { status: 200, statusText: "", headers: [] }, body: new Uint8Array(0) });
      h.emit({ type: "idle", invocation: id, waitUntilErrors: [] });
    },
    settle() {}, fireTimer() {}, pull() {}, cancelStream() {}, finish() {},
  };
  Object.defineProperty(globalThis, "__verge_guest", { value: api, configurable: true });
})();`;

export function withoutFflate(readable: string): string {
  const start = readable.indexOf("// node_modules/fflate/");
  if (start < 0) return readable;
  const afterStart = readable.indexOf("\n", start);
  const next = readable.slice(afterStart).search(/\n\s*\/\/ (src|node_modules)\//);
  if (next < 0) return readable;
  const section = readable.slice(afterStart, afterStart + next);
  // Keep the names the rest of the prelude imports from fflate; make them inert.
  const names = [...section.matchAll(/^\s*var (\w+) = /gm)].map((m) => m[1]!);
  return readable.slice(0, start) + `var ${[...new Set(names)].join(", ")};\n` + readable.slice(afterStart + next);
}
