/**
 * Watches the bundle's whole import graph (esbuild's metafile inputs) and
 * calls `onChange` once per burst of edits (debounced). Directories are
 * watched rather than files, so an editor that saves by rename is seen too.
 * After a failed build, any change in a watched directory triggers a rebuild
 * (the fix may be a file the failed build never reached), except files no
 * build reads: logs (`verge dev > dev.log` in the project would otherwise
 * rebuild on each line it writes) and editors' swap, backup and lock files.
 */
import { watch, type FSWatcher } from "node:fs";
import { dirname, join } from "node:path";

export interface GraphWatcher {
  /** Replaces the watched files; `failed` widens the trigger to any file of their directories. */
  update(files: string[], failed: boolean, extraDirs?: string[]): void;
  close(): void;
}

/** Names a build never reads, ignored outside the import graph. */
const NOT_SOURCE = /\.(?:log|swp|swx|swo|tmp)$|~$|^\.#|^#.*#$|^4913$/;

export function createGraphWatcher(onChange: (files: string[]) => void, debounceMs = 80): GraphWatcher {
  const watchers = new Map<string, FSWatcher>();
  let files = new Set<string>();
  let wide = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();

  const fire = (path: string): void => {
    changed.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const list = [...changed];
      changed = new Set();
      onChange(list);
    }, debounceMs);
  };

  return {
    update(next, failed, extraDirs = []) {
      files = new Set(next.filter((f) => !f.includes("/node_modules/")));
      const dirs = new Set([...files].map((f) => dirname(f)));
      wide = new Set(extraDirs);
      if (failed) for (const d of dirs) wide.add(d);
      for (const d of extraDirs) dirs.add(d);
      for (const [d, w] of watchers) {
        if (!dirs.has(d)) {
          w.close();
          watchers.delete(d);
        }
      }
      for (const d of dirs) {
        if (watchers.has(d)) continue;
        try {
          const w = watch(d, { persistent: false }, (_event, name) => {
            if (name === null) return;
            const path = join(d, name.toString());
            if (files.has(path) || (wide.has(d) && !NOT_SOURCE.test(name.toString()))) fire(path);
          });
          w.on("error", () => {});
          watchers.set(d, w);
        } catch {
          // a directory that vanished: the next build reports the missing file
        }
      }
    },
    close() {
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
