/**
 * Where a `Verge` instance keeps its KV namespaces that are not persisted
 * (`kvPersist` absent or false): an LMDB directory of its own under the
 * system's temporary directory, made on first need and removed by `dispose()`
 * (or when the process exits, for an instance never disposed). This is what
 * Miniflare does with data it does not persist.
 *
 * Not the child process's memory: the child is the process a hostile function
 * may abort (a memory bomb), and the harness starts a new one for the next
 * call. Data a test stored before that call, through `getKVNamespace` or the
 * function, must still be there after it; a child that changes with
 * `setOptions` (a new `outbound` policy) opens the same directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BindingDecl } from "../runtime/index.ts";

/** Directories of live instances, removed at exit when their instance was not disposed. */
const live = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

export class ScratchKv {
  #dir: string | undefined;

  /**
   * `bindings` with every KV namespace that has no `persist` directory placed in this
   * instance's scratch directory (made on the first one); other bindings as they are.
   */
  place(bindings: Record<string, BindingDecl>): Record<string, BindingDecl> {
    const out: Record<string, BindingDecl> = {};
    for (const [name, b] of Object.entries(bindings)) {
      const value = b.value as { id?: unknown; persist?: unknown };
      out[name] = (b.type === "kv" || b.type === "d1" || b.type === "r2") && value.persist === undefined ? { ...b, value: { ...value, persist: this.#path() } } : b;
    }
    return out;
  }

  /** Removes the directory and what is in it (the instance is disposed: its children are gone). */
  remove(): void {
    if (this.#dir === undefined) return;
    rmSync(this.#dir, { recursive: true, force: true });
    live.delete(this.#dir);
    this.#dir = undefined;
  }

  #path(): string {
    if (this.#dir === undefined) {
      this.#dir = mkdtempSync(join(tmpdir(), "verge-kv-"));
      live.add(this.#dir);
      if (!hooked) {
        hooked = true;
        process.once("exit", removeAll);
      }
    }
    return this.#dir;
  }
}
