/**
 * verge's `node:timers` for `nodejs_compat`: the isolate's own timers (the
 * globals, which count against the function's wall-time budget as always),
 * plus setImmediate as a zero-delay timeout: the isolate has no check phase.
 */
import * as promises from "./timers-promises.js";
import { validateFunction } from "./node-errors.js";

export function setTimeout(callback, delay, ...args) {
  return globalThis.setTimeout(callback, delay, ...args);
}
export function clearTimeout(id) {
  globalThis.clearTimeout(id);
}
export function setInterval(callback, delay, ...args) {
  return globalThis.setInterval(callback, delay, ...args);
}
export function clearInterval(id) {
  globalThis.clearInterval(id);
}
export function setImmediate(callback, ...args) {
  validateFunction(callback, "callback");
  return globalThis.setTimeout(callback, 0, ...args);
}
export function clearImmediate(id) {
  globalThis.clearTimeout(id);
}
export { promises };

export default { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, promises };
