/**
 * verge's `node:timers/promises` for `nodejs_compat`: Node's promise timers
 * over the isolate's setTimeout, with `{ signal }` rejecting with Node's
 * AbortError (code ABORT_ERR, the signal's reason as `cause`).
 */
import { invalidArgType, nodeError } from "./node-errors.js";

function abortError(signal) {
  const err = nodeError(Error, "ABORT_ERR", "The operation was aborted");
  err.name = "AbortError";
  err.cause = signal.reason;
  return err;
}

/**
 * @example
 * await setTimeout(100, "done"); // "done", 100 ms later
 */
export function setTimeout(delay, value, options = {}) {
  if (typeof options !== "object" || options === null) return Promise.reject(invalidArgType("options", "of type object", options));
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      globalThis.clearTimeout(id);
      reject(abortError(signal));
    };
    const id = globalThis.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    }, delay);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** @example await setImmediate("v") */
export function setImmediate(value, options) {
  return setTimeout(0, value, options);
}

/**
 * Yields `value` every `delay` ms, for `for await`.
 *
 * @example
 * for await (const _ of setInterval(10)) if (++n === 3) break;
 */
export async function* setInterval(delay, value, options) {
  for (;;) {
    await setTimeout(delay, undefined, options);
    yield value;
  }
}

export const scheduler = {
  wait: (delay, options) => setTimeout(delay, undefined, options),
  yield: () => setImmediate(),
};

export default { setTimeout, setImmediate, setInterval, scheduler };
