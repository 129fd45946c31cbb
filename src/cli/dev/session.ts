/**
 * The `verge dev` loop: build (build.command, then esbuild), load the bundle
 * into a fresh harness instance, swap it in, watch its import graph, and
 * rebuild on change. A failed build or load keeps the previous good version
 * serving and records the problems for the error page.
 */
import { spawn } from "node:child_process";
import { watch as watchFs, type FSWatcher } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { bundle, NODE_COMPAT_MODULES, type BuildProblem } from "../../build/bundle.ts";
import { Verge, type LogSource, type VergeOptions } from "../../harness/index.ts";
import { validateOptions } from "../../harness/options.ts";
import { validateLimits } from "../../shared/limits.ts";
import { entryProblem, type DevSettings } from "./config.ts";
import { formatProblems } from "./pages.ts";
import type { Terminal } from "./terminal.ts";
import { createVersions, type Version, type VersionsHandle } from "./versions.ts";
import { createGraphWatcher } from "./watcher.ts";

export interface DevSessionOptions {
  settings: DevSettings;
  /** Reads the settings again (the wrangler config or its secrets changed); throws a user error. */
  reload?: () => DevSettings;
  term: Terminal;
  /** The origin: with it, requests go through the edge pipeline (see README, `verge dev --upstream`). */
  upstream?: string | undefined;
  allowPrivate: boolean;
  /** Console lines of a version's function (and, with `upstream`, the pipeline's lines), for the request log. */
  onLog: (version: Version, level: string, message: string, from: LogSource) => void;
  /** Runs a request on another Worker of this `verge dev` by name (its service bindings, `settings.services`). */
  callWorker?: (name: string, request: Request) => Promise<Response>;
}

export interface DevSession {
  versions: VersionsHandle;
  /** The problems of the last build when it failed; undefined after a good one. */
  buildError(): BuildProblem[] | undefined;
  /** Whether the harness takes the config's KV bindings. */
  kvSupported: boolean;
  /** Requests go through the edge pipeline (`--upstream`). */
  pipeline: boolean;
  /** Settles after the first build, good or not. */
  firstBuild: Promise<void>;
  close(): Promise<void>;
}

export function createDevSession(o: DevSessionOptions): DevSession {
  const { term } = o;
  let settings = o.settings;
  const shownEntry = relative(process.cwd(), settings.entry) || settings.entry;
  const kvNames = Object.keys(settings.kv);
  const kvSupported = kvNames.length > 0 && supportsKv();
  let problems: BuildProblem[] | undefined;
  let inputs: string[] = [settings.entry];
  let building = false;
  let dirty = false;
  let closed = false;
  /**
   * Whether the next build runs build.command: at start, and after a change under
   * build.watch_dir or to the config, as wrangler dev does. A change elsewhere in the
   * import graph only bundles again: that is where the command's own output (main =
   * "dist/worker.js") lives, and running the command for it would rebuild forever.
   */
  let commandDue = true;
  /** What the serving version was built from: an identical build (the command's output seen again) is not swapped in. */
  let served: { code: string; sourceMap: string; settings: DevSettings } | undefined;
  const versions = createVersions((v) => term.line(term.paint("dim", `version ${v.number} retired (its requests are done)`)));
  const watcher = createGraphWatcher((files) => {
    const names = files.map((f) => relative(process.cwd(), f) || f).join(", ");
    term.line(term.paint("dim", `changed: ${names}`));
    if (o.reload && files.some((f) => settings.configFiles.includes(f))) {
      try {
        settings = o.reload();
        for (const w of settings.warnings) term.line(term.paint("yellow", `warning: ${w}`));
        term.line(term.paint("dim", "config reloaded"));
      } catch (err) {
        problems = [{ text: (err as Error).message }];
        term.line(term.paint("red", `config error; version ${versions.current()?.number ?? "none"} keeps serving:`) + "\n" + (err as Error).message);
        return;
      }
    }
    const under = (f: string, d: string): boolean => f === d || f.startsWith(d.endsWith(sep) ? d : d + sep);
    if (files.some((f) => settings.configFiles.includes(f) || settings.watchDirs.some((d) => under(f, d)))) commandDue = true;
    void rebuild();
  });
  const watch = (files: string[], failed: boolean): void => {
    watcher.update([...files, ...settings.configFiles], failed, settings.watchDirs);
    watchAssets();
  };
  /** A change under the assets directory: the next build serves a new manifest even when the bundle is the same. */
  let assetsChanged = false;
  let assetsWatch: { dir: string; watcher: FSWatcher } | undefined;
  let assetsTimer: NodeJS.Timeout | undefined;
  function watchAssets(): void {
    const dir = settings.assets?.directory;
    if (assetsWatch?.dir === dir) return;
    assetsWatch?.watcher.close();
    assetsWatch = undefined;
    if (dir === undefined) return;
    try {
      const w = watchFs(dir, { recursive: true, persistent: false }, () => {
        clearTimeout(assetsTimer);
        assetsTimer = setTimeout(() => {
          term.line(term.paint("dim", `changed: assets in ${relative(process.cwd(), dir) || dir}`));
          assetsChanged = true;
          void rebuild();
        }, 80);
      });
      w.on("error", () => {});
      assetsWatch = { dir, watcher: w };
    } catch {
      // No such directory yet: the build reports it (ERR_ASSETS), and the next build watches again.
    }
  }

  async function buildOnce(): Promise<void> {
    const started = performance.now();
    const assetsDue = assetsChanged;
    assetsChanged = false;
    term.progress(term.paint("dim", `building ${shownEntry}...`));
    let next: Verge | undefined;
    let version: Version | undefined;
    try {
      if (settings.build && commandDue) {
        commandDue = false;
        term.line(term.paint("dim", `running build.command: ${settings.build.command}`));
        await runCommand(settings.build.command, settings.build.cwd).catch((err: unknown) => {
          commandDue = true; // a failed command runs again on the next change, whatever it is
          throw err;
        });
        const problem = entryProblem(settings.entry);
        if (problem !== undefined) throw buildProblem(`main: ${problem} after build.command "${settings.build.command}" ran; expected the command to write the Worker's entry module there`);
      }
      const built = await bundle(settings.entry, { rules: settings.rules, nodeCompat: settings.nodeCompat });
      inputs = built.inputs;
      if (served !== undefined && versions.current() !== undefined && served.code === built.code && served.sourceMap === built.sourceMap && served.settings === settings && !assetsDue) {
        problems = undefined;
        watch(inputs, false);
        term.line(term.paint("dim", `bundle unchanged: version ${versions.current()!.number} keeps serving`));
        return;
      }
      next = new Verge(vergeOptions(built.code, built.sourceMap, built.format));
      next.onLog((e, from) => version !== undefined && o.onLog(version, e.level, e.message, from));
      await next.ready;
      if (closed) return void (await next.dispose());
      version = versions.swap(next, validateLimits(settings.limits, settings.events[0] ?? "viewer-request").config);
      served = { code: built.code, sourceMap: built.sourceMap, settings };
      problems = undefined;
      watch(inputs, false);
      const ms = Math.round(performance.now() - started);
      term.line(term.paint("green", `built ${shownEntry} (${built.bytes} bytes) in ${ms} ms: version ${version.number} serving`));
    } catch (err) {
      await next?.dispose().catch(() => {});
      problems = toProblems(err);
      const files = problems.flatMap((p) => (p.file ? [p.file] : []));
      watch([...inputs, ...files, settings.entry], true);
      const keep = versions.current() ? `; version ${versions.current()!.number} keeps serving` : "";
      term.line(term.paint("red", `build failed${keep}:`) + "\n" + formatProblems(problems));
    }
  }

  async function rebuild(): Promise<void> {
    if (closed) return;
    if (building) {
      dirty = true;
      return;
    }
    building = true;
    try {
      do {
        dirty = false;
        await buildOnce();
      } while (dirty && !closed);
    } finally {
      building = false;
    }
  }

  function vergeOptions(code: string, sourceMap: string, format: "esm" | "script"): VergeOptions {
    const options: VergeOptions = {
      modules: format === "esm",
      script: code,
      sourceMap,
      // As in wrangler dev, a .dev.vars value replaces a [vars] one of the same name.
      bindings: Object.fromEntries(Object.entries(settings.vars).filter(([name]) => !Object.hasOwn(settings.secrets, name))),
      secrets: settings.secrets,
      limits: settings.limits,
      outbound: { allowPrivateAddresses: o.allowPrivate },
      ...(settings.name ? { name: settings.name } : {}),
      ...(settings.events.length === 1 ? { event: settings.events[0] } : settings.events.length > 1 ? { event: settings.events } : {}),
      ...(o.upstream ? { upstream: o.upstream } : {}),
      ...(settings.compatibilityDate ? { compatibilityDate: settings.compatibilityDate } : {}),
      ...(settings.compatibilityFlags.length ? { compatibilityFlags: settings.compatibilityFlags } : {}),
      ...(settings.assets ? { assets: settings.assets } : {}),
    };
    // Service bindings to the other Workers this verge dev runs (several --config), as functions that dispatch to them.
    const call = o.callWorker;
    const bound = Object.entries(settings.services);
    if (call !== undefined && bound.length > 0) options.serviceBindings = Object.fromEntries(bound.map(([binding, name]) => [binding, (request: Request) => call(name, request)]));
    // Persisted, so KV data outlives each rebuild's harness instance (and the dev session).
    if (kvSupported) Object.assign(options, { kvNamespaces: settings.kv, kvPersist: settings.kvPersist });
    if (Object.keys(settings.d1).length > 0) Object.assign(options, { d1Databases: settings.d1, d1Persist: settings.d1Persist });
    // R2 objects persist beside KV's (`.verge/r2`), for the same reason.
    if (settings.r2 !== undefined && Object.keys(settings.r2).length > 0) Object.assign(options, { r2Buckets: settings.r2, r2Persist: join(dirname(settings.kvPersist), "r2") });
    return options;
  }

  const firstBuild = rebuild();
  return {
    versions,
    buildError: () => problems,
    kvSupported,
    pipeline: o.upstream !== undefined,
    firstBuild,
    async close() {
      closed = true;
      watcher.close();
      clearTimeout(assetsTimer);
      assetsWatch?.watcher.close();
      await versions.close();
    },
  };
}

/** Whether this harness accepts `kvNamespaces` (another part of verge adds KV). */
function supportsKv(): boolean {
  const { diagnostics } = validateOptions({ script: "export default {}", kvNamespaces: ["KV"] } as VergeOptions & { kvNamespaces: string[] });
  return !diagnostics.some((d) => d.path.startsWith("kvNamespaces"));
}

function buildProblem(text: string): Error {
  return Object.assign(new Error(text), { details: { problems: [{ text }] } });
}

/**
 * What a wrangler user needs to know beside an esbuild message: a Node.js
 * built-in imported by its bare name without nodejs_compat, or a file type no module
 * rule names (Wrangler gives the same esbuild error; a `[[rules]]` entry fixes it).
 */
export function hintFor(text: string): string | undefined {
  // Without nodejs_compat a bare built-in name is looked for in node_modules (node:* names get the bundler's own message).
  const builtin = /^Could not resolve "([a-z_]+)"/.exec(text)?.[1];
  if (builtin !== undefined && Object.hasOwn(NODE_COMPAT_MODULES, builtin)) {
    return `${builtin} is a Node.js built-in: with compatibility_flags = ["nodejs_compat"] in the wrangler config, verge bundles a polyfill for it (${Object.keys(NODE_COMPAT_MODULES).map((m) => `node:${m}`).join(", ")}); or add the npm package to the project`;
  }
  const ext = /^No loader is configured for "(\.[^"]+)" files/.exec(text)?.[1];
  if (ext !== undefined) {
    return `no module rule names ${ext} files (Wrangler's defaults: Text for .txt, .html and .sql, Data for .bin, CompiledWasm for .wasm; .json imports as JSON): add one to the wrangler config, such as [[rules]] type = "Text" (a string; or "Data" for an ArrayBuffer) globs = ["**/*${ext}"], with fallthrough = true to keep the default rule of that type`;
  }
  return undefined;
}

function toProblems(err: unknown): BuildProblem[] {
  const e = err as { code?: string; message?: string; guestStack?: string; details?: { problems?: BuildProblem[] } };
  if (Array.isArray(e.details?.problems)) {
    return e.details.problems.map((p) => {
      const hint = hintFor(p.text);
      return hint === undefined ? p : { ...p, text: `${p.text}\n  hint: ${hint}` };
    });
  }
  // A bundle that built but did not load (syntax V8 refused, a top-level throw, no handler).
  const text = `${e.code ? `${e.code}: ` : ""}${e.message ?? String(err)}`;
  // The runtime keeps only the function's own frames (src/runtime/source-map.ts).
  return [{ text: e.guestStack ? `${text}\n${e.guestStack}` : text }];
}

function runCommand(command: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, cwd, stdio: ["ignore", 2, 2] });
    child.once("error", (err) => reject(Object.assign(new Error(`build.command "${command}" could not start: ${err.message}`), { details: { problems: [{ text: `build.command "${command}" could not start: ${err.message}` }] } })));
    child.once("exit", (code, signal) => {
      if (code === 0) return resolve();
      const text = `build.command "${command}" (in ${cwd}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`;
      reject(Object.assign(new Error(text), { details: { problems: [{ text }] } }));
    });
  });
}
