// Captured before user code runs: lazy parts install their globals later (core/lazy.ts).
const defineProperty = Object.defineProperty;

/** Installs a Web global the way browsers do: writable, configurable, not enumerable. */
export function defineGlobal(name: string, value: unknown): void {
  defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/** Makes `fn.toString()` look native, so user code cannot read trusted prelude source through it. */
export function markNative<T extends Function>(fn: T, name = fn.name): T {
  const text = `function ${name}() { [native code] }`;
  defineProperty(fn, "toString", { value: () => text, writable: true, configurable: true, enumerable: false });
  return fn;
}

/**
 * Installs a global whose value is made on first read: the module behind it is
 * evaluated only by isolates that use it (a new isolate's setup time and heap
 * are paid per global otherwise). Reading or assigning it turns it into the
 * ordinary data property `defineGlobal` makes.
 */
export function defineLazyGlobal(name: string, load: () => unknown): void {
  defineProperty(globalThis, name, {
    get() {
      const value = load();
      defineGlobal(name, value);
      return value;
    },
    set(value: unknown) {
      defineGlobal(name, value);
    },
    configurable: true,
    enumerable: false,
  });
}
