/** The code of one function version, as the runtime loads it (serializable: it crosses to the child-process host). */
export interface FunctionSource {
  /** Stable identity of this code (a version digest); keys the pool and the code cache. */
  id: string;
  code: string;
  /** "esm": an ES module bundle. "script": a classic script (service worker, CommonJS `exports.handler`). */
  format: "esm" | "script";
  /** Name used in stacks; default `worker.js`. */
  filename?: string;
  /** Further ES modules the entry may import by name (Miniflare's `modules` array). */
  modules?: Array<{ name: string; code: string }>;
  sourceMap?: string;
  /** Who this version is, for a Lambda@Edge handler's `context` (lambda-context.ts); default: its file name and id. */
  identity?: FunctionIdentity;
}

/** Who a function version is: set by whoever loads it (the edge's sync, the harness). */
export interface FunctionIdentity {
  /** The function's name (`verge publish --name`, wrangler's `name`, the harness's `name` option). */
  function: string;
  /** The version: a bundle digest on edge nodes and in the harness. */
  version: string;
  /** The tenant that owns it; absent locally. */
  tenant?: string;
}
