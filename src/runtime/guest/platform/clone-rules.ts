/**
 * What structuredClone must know about other guest modules' platform objects:
 * hooks that clone a serializable one (CryptoKey) or refuse a forbidden one
 * (URL, EventTarget, ...). Kept apart from the algorithm (structured-clone.ts,
 * a lazy part) so modules register their rules when they install, whether or
 * not the isolate ever clones anything.
 */
import { DOMException } from "./dom-exception.ts";

/** Serializable or forbidden objects of other guest modules (CryptoKey, Blob...). */
export interface CloneHook {
  /** Brand check: does this hook own `value`? */
  test(value: object): boolean;
  /** Returns the clone, or throws (a DataCloneError for a forbidden object). */
  clone(value: object): object;
}

export const cloneHooks: CloneHook[] = [];

/** Lets trusted guest code teach structuredClone about its platform objects. */
export function registerCloneHook(hook: CloneHook): void {
  cloneHooks[cloneHooks.length] = hook; // not push: a lazy part may register after user code replaced it
}

/** Marks objects of `classes` as platform objects that cannot be cloned (URL, EventTarget...). */
export function forbidClone(...classes: Array<abstract new (...args: never[]) => unknown>): void {
  registerCloneHook({
    test: (v) => classes.some((c) => v instanceof c),
    clone: (v) => {
      throw dataCloneError(v);
    },
  });
}

function describe(v: unknown): string {
  if (typeof v === "function") return `${v.name ? `function ${v.name}` : "an anonymous function"}`;
  if (typeof v === "symbol") return v.toString();
  try {
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    return `#<${tag}>`;
  } catch {
    return "the value";
  }
}

export function dataCloneError(v: unknown): DOMException {
  return new DOMException(`${describe(v)} could not be cloned.`, "DataCloneError");
}

