/**
 * The `cloudflare:workers` module a Worker may import (workerd provides it):
 * the entrypoint base classes, `env` and `waitUntil`. The host compiles a
 * small module for that specifier (sandbox.ts CLOUDFLARE_WORKERS_SOURCE) that
 * re-exports what this publishes on a registered symbol; nothing here is
 * more than a user could build, so its being reachable from user code is fine.
 *
 * A default export that is a class (normally one extending WorkerEntrypoint)
 * gets a new instance per invocation, constructed with (ctx, env), and its
 * `fetch` / `scheduled` methods are called on it, as workerd does
 * (dispatch.ts entrypointAdapter).
 */

/** What each entrypoint class keeps: the invocation's ctx and the function's env. */
class Entrypoint {
  ctx: unknown;
  env: unknown;
  constructor(ctx: unknown, env: unknown) {
    this.ctx = ctx;
    this.env = env;
  }
}

/** Base of a class-based Worker: `this.ctx` and `this.env` per invocation. */
export class WorkerEntrypoint extends Entrypoint {}

/** Exported so that code importing it bundles and loads; verge has no Durable Object bindings (a class is never constructed). */
export class DurableObject extends Entrypoint {}

/** As DurableObject: importable, never run by verge (no Workflows). */
export class WorkflowEntrypoint extends Entrypoint {}

/** A marker base class for RPC objects; verge has no service bindings, so it is only a base. */
export class RpcTarget {}

export const CLOUDFLARE_WORKERS_KEY = "verge.cloudflare:workers";

export function installCloudflareWorkers(members: { env(): unknown; waitUntil(p: unknown): void }): void {
  const module = Object.freeze({
    WorkerEntrypoint,
    DurableObject,
    WorkflowEntrypoint,
    RpcTarget,
    get env() {
      return members.env();
    },
    waitUntil: members.waitUntil,
  });
  Object.defineProperty(globalThis, Symbol.for(CLOUDFLARE_WORKERS_KEY), { value: module, writable: false, configurable: false, enumerable: false });
}
