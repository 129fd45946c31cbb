/**
 * verge's `node:process` for `nodejs_compat`: the object a function also gets
 * as the `process` global when its code names it (node-compat.ts injects it from
 * here, so the two are the same object). The isolate has no process: `env` is
 * empty (bindings arrive in the handler's `env`), and `nextTick` queues a
 * microtask. util reads `process.env.NODE_DEBUG` when it loads; readable-stream
 * uses `nextTick`.
 */
const proc = {
  env: {},
  browser: true,
  version: "",
  versions: {},
  argv: [],
  nextTick(fn, ...args) {
    queueMicrotask(() => fn(...args));
  },
};

export const { env, browser, version, versions, argv, nextTick } = proc;
export default proc;
