/**
 * `node:async_hooks` for nodejs_compat: AsyncLocalStorage and AsyncResource,
 * the subset workerd gives (run, exit, getStore, name, bind, snapshot;
 * AsyncResource bind and runInAsyncScope; enterWith and disable throw, as there).
 *
 * The isolate has no async context of its own (V8 keeps it for embedders, and
 * isolated-vm does not expose it), so this module carries it in JavaScript:
 * `current` is the context (a Map from storage to store, never changed in
 * place), and every way a callback is scheduled for later captures the context
 * of the moment it was scheduled and restores it around the call:
 * `Promise.prototype.then` (which `catch`, `finally` and `Promise.resolve(x)`
 * chains go through), `setTimeout`, `setInterval` and `queueMicrotask`.
 *
 * A native `await` resumes without calling `then`, so it would lose the
 * context: the bundler (src/build/bundle.ts) compiles a function that imports
 * this module with async functions, async generators and `for await` lowered
 * to generators stepped by `.then`. That covers the function's own code and
 * every library bundled with it.
 *
 * Loaded only into functions that import node:async_hooks.
 */

const EMPTY = new Map();
let current = EMPTY;

/** Calls `fn` with `context` current, then puts the previous one back. */
function within(context, fn, self, args) {
  const previous = current;
  current = context;
  try {
    return Reflect.apply(fn, self, args);
  } finally {
    current = previous;
  }
}

/** `fn` bound to `context`: it runs in that context wherever it is called from. */
function bound(context, fn) {
  return function (...args) {
    return within(context, fn, this, args);
  };
}

/** `fn` bound to the current context, or `fn` itself when it is not a function. */
function capture(fn) {
  return typeof fn === "function" ? bound(current, fn) : fn;
}

const nativeThen = Promise.prototype.then;
Object.defineProperty(Promise.prototype, "then", {
  value: function then(onFulfilled, onRejected) {
    return Reflect.apply(nativeThen, this, [capture(onFulfilled), capture(onRejected)]);
  },
  writable: true,
  configurable: true,
});

for (const name of ["setTimeout", "setInterval"]) {
  const native = globalThis[name];
  if (typeof native !== "function") continue;
  Object.defineProperty(globalThis, name, {
    value: { [name](callback, ...rest) { return Reflect.apply(native, this, [capture(callback), ...rest]); } }[name],
    writable: true,
    configurable: true,
  });
}
{
  const native = globalThis.queueMicrotask;
  Object.defineProperty(globalThis, "queueMicrotask", {
    value: function queueMicrotask(callback) {
      return Reflect.apply(native, this, [capture(callback)]);
    },
    writable: true,
    configurable: true,
  });
}

function requireFunction(fn, name) {
  if (typeof fn !== "function") throw new TypeError(`The "${name}" argument must be of type function. Received ${fn === null ? "null" : typeof fn}`);
}

export class AsyncLocalStorage {
  #name;
  #defaultValue;

  /** Options as Node 24's: `name` and `defaultValue` (what getStore gives outside a run). */
  constructor(options = {}) {
    if (options === null || typeof options !== "object") throw new TypeError(`The "options" argument must be of type object. Received ${options === null ? "null" : typeof options}`);
    this.#name = options.name === undefined ? "" : String(options.name);
    this.#defaultValue = options.defaultValue;
  }

  get name() {
    return this.#name;
  }

  /** The store of this storage in the current context (the default value outside `run`). */
  getStore() {
    return current.has(this) ? current.get(this) : this.#defaultValue;
  }

  /** Runs `callback(...args)` synchronously with `store` as this storage's store, in it and in everything it schedules. */
  run(store, callback, ...args) {
    requireFunction(callback, "callback");
    const next = new Map(current);
    next.set(this, store);
    return within(next, callback, undefined, args);
  }

  /** Not in workerd, nor here: a store must be given with `run`. */
  enterWith() {
    throw new Error("asyncLocalStorage.enterWith() is not implemented");
  }

  /** Not in workerd, nor here. */
  disable() {
    throw new Error("asyncLocalStorage.disable() is not implemented");
  }

  /** Runs `callback(...args)` synchronously outside this storage's context. */
  exit(callback, ...args) {
    requireFunction(callback, "callback");
    if (!current.has(this)) return Reflect.apply(callback, undefined, args);
    const next = new Map(current);
    next.delete(this);
    return within(next, callback, undefined, args);
  }

  /** `fn` bound to the context current now. */
  static bind(fn) {
    requireFunction(fn, "fn");
    return bound(current, fn);
  }

  /** A function that runs any function given to it in the context current now. */
  static snapshot() {
    const context = current;
    return (fn, ...args) => {
      requireFunction(fn, "fn");
      return within(context, fn, undefined, args);
    };
  }
}

export class AsyncResource {
  #context = current;

  constructor(type) {
    if (typeof type !== "string") throw new TypeError(`The "type" argument must be of type string. Received ${type === null ? "null" : typeof type}`);
  }

  /** Calls `fn` with `thisArg` and `args` in the context the resource was made in. */
  runInAsyncScope(fn, thisArg, ...args) {
    requireFunction(fn, "fn");
    return within(this.#context, fn, thisArg, args);
  }

  /** `fn` bound to the context the resource was made in. */
  bind(fn, thisArg) {
    requireFunction(fn, "fn");
    const context = this.#context;
    return thisArg === undefined ? bound(context, fn) : (...args) => within(context, fn, thisArg, args);
  }

  static bind(fn, type, thisArg) {
    return new AsyncResource(type ?? "bound-anonymous-fn").bind(fn, thisArg);
  }
}

export default { AsyncLocalStorage, AsyncResource };
