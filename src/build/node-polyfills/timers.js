/**
 * verge's `node:timers` for `nodejs_compat`: the isolate's own timers (the
 * globals, which count against the function's wall-time budget as always),
 * returning Node-shaped Timeout objects (`ref`, `unref`, `hasRef`, `refresh`,
 * and the id as their primitive value, so the global clearTimeout takes them
 * too), plus setImmediate as a zero-delay timeout: the isolate has no check phase.
 */
import * as promises from "./timers-promises.js";
import { validateFunction } from "./node-errors.js";

/** Node's Timeout: ref/unref change nothing here (nothing keeps an isolate alive but its request). */
class Timeout {
  #id;
  #start;
  constructor(start) {
    this.#start = start;
    this.#id = start();
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return true;
  }
  /** Starts the timer again from now, with the same callback and delay. */
  refresh() {
    globalThis.clearTimeout(this.#id);
    this.#id = this.#start();
    return this;
  }
  close() {
    globalThis.clearTimeout(this.#id);
    return this;
  }
  [Symbol.toPrimitive]() {
    return this.#id;
  }
}

export function setTimeout(callback, delay, ...args) {
  validateFunction(callback, "callback");
  return new Timeout(() => globalThis.setTimeout(callback, delay, ...args));
}
export function setInterval(callback, delay, ...args) {
  validateFunction(callback, "callback");
  return new Timeout(() => globalThis.setInterval(callback, delay, ...args));
}
export function setImmediate(callback, ...args) {
  validateFunction(callback, "callback");
  return new Timeout(() => globalThis.setTimeout(callback, 0, ...args));
}
/** Takes a Timeout or a global timer's id. */
export function clearTimeout(timer) {
  if (timer != null) globalThis.clearTimeout(Number(timer));
}
export const clearInterval = clearTimeout;
export const clearImmediate = clearTimeout;
export { promises };

export default { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, promises };
