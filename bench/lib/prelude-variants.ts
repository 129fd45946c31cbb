/**
 * Prelude variants for bench/profile.ts: an unminified build (readable names,
 * esbuild's `// path` module markers), one with a timestamp at each module of
 * its eager part, and a stub that installs no Web API. Module builds go to temp
 * dirs (removed by `cleanup()`) through the project's own build function, so
 * they match `npm run build:prelude` except for `minify`; the runtime is given
 * them through the public `prelude` option of `Sandbox`.
 */
import { mkdtempSync as mkdtempRaw, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Sandbox } from "../../src/runtime/index.ts";
import { loadPrelude, scriptPrelude } from "../../src/runtime/index.ts";
import { buildPrelude } from "../../src/build/prelude.ts";

export type Prelude = NonNullable<ConstructorParameters<typeof Sandbox>[0]["prelude"]>;

/** A prelude the RSS child process can rebuild: a module build's directory, or one classic script. */
export type PreludeSpec = { kind: "dir"; path: string } | { kind: "script"; code: string };

export function preludeOf(spec: PreludeSpec): Prelude {
  return spec.kind === "dir" ? loadPrelude(spec.path) : scriptPrelude(spec.code, "verge:prelude");
}

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

/** The prelude built unminified into a temp dir; returns the dir. */
export async function buildReadablePrelude(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-prelude-"));
  await buildPrelude({ outdir: dir, minify: false });
  return dir;
}

/** The source of the eager part's shared module of a build (where the eager code is). */
function eagerModule(dir: string): string {
  const entry = readFileSync(join(dir, "prelude.generated.js"), "utf8");
  const m = /"\.\/(prelude-shared-[A-Z0-9]+\.generated\.js)"/.exec(entry);
  return m === null ? "prelude.generated.js" : m[1]!;
}

/**
 * A copy of the build in `dir` with a timestamp at each esbuild module marker of its eager
 * module; the marks end up in `globalThis.__verge_marks`. Returns the new dir.
 */
export function markedPrelude(dir: string): string {
  const out = mkdtempSync(join(tmpdir(), "verge-bench-marked-"));
  for (const f of readdirSync(dir)) writeFileSync(join(out, f), readFileSync(join(dir, f)));
  const file = eagerModule(dir);
  const head = `var __verge_h = globalThis.__verge_host, __verge_m = []; globalThis.__verge_marks = __verge_m;\n`;
  let code = readFileSync(join(dir, file), "utf8");
  code = code.replace(/^(\s*)\/\/ ((?:src|node_modules)\/\S+)$/gm, (_m, ws: string, p: string) => `${ws}__verge_m.push([${JSON.stringify(p)}, __verge_h.now()]);`);
  code = code.replace(/^(\s*)(install\w+\(\);)$/gm, (_m, ws: string, call: string) => `${ws}__verge_m.push([${JSON.stringify(`call ${call}`)}, __verge_h.now()]);${call}`);
  // End mark before the prelude publishes its API (the last statement of the entry).
  code = code.replace(/^(\s*)(Object\.defineProperty\(globalThis, "__verge_guest")/m, (_m, ws: string, rest: string) => `${ws}__verge_m.push(["(end)", __verge_h.now()]);${rest}`);
  // After the banner comment, before the first module's code.
  const at = code.indexOf("*/") + 2;
  writeFileSync(join(out, file), code.slice(0, at) + "\n" + head + code.slice(at));
  return out;
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
    dispatchFetch(id) { api.dispatch(id); },
    settle() {}, fireTimer() {}, pull() {}, cancelStream() {}, finish() {}, warm() {},
  };
  Object.defineProperty(globalThis, "__verge_guest", { value: api, configurable: true });
})();`;
