/** Installs a Web global the way browsers do: writable, configurable, not enumerable. */
export function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

/** Makes `fn.toString()` look native, so user code cannot read trusted prelude source through it. */
export function markNative<T extends Function>(fn: T, name = fn.name): T {
  const text = `function ${name}() { [native code] }`;
  Object.defineProperty(fn, "toString", { value: () => text, writable: true, configurable: true, enumerable: false });
  return fn;
}
