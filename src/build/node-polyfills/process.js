/**
 * verge's `node:process` for `nodejs_compat`: the object a function also gets
 * as the `process` global when its code names it (node-compat.ts injects it from
 * here, so the two are the same object). The isolate has no process: `env` is
 * empty (bindings arrive in the handler's `env`), `nextTick` queues a microtask,
 * `platform` is "linux" and `cwd()` is "/" (so node:path's `resolve` of a
 * relative path gives "/a/b", as in workerd), and `exit` ends the request with
 * an error, as workerd cancels it. util reads `process.env.NODE_DEBUG` when it
 * loads; readable-stream uses `nextTick`.
 */
const proc = {
  env: {},
  browser: true,
  platform: "linux",
  version: "",
  versions: {},
  argv: [],
  nextTick(fn, ...args) {
    queueMicrotask(() => fn(...args));
  },
  cwd() {
    return "/";
  },
  exit(code) {
    throw new Error(`The Node.js process.exit(${code === undefined ? "" : code}) API was called. Canceling the request.`);
  },
};

export const { env, browser, platform, version, versions, argv, nextTick, cwd, exit } = proc;
export default proc;
