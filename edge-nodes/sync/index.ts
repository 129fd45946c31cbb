export { createSync } from "./sync.ts";
export type { Sync, SyncOptions } from "./sync.ts";
export { resolveVersion, stickyPoint, stickyValue, pickRoute } from "./resolve.ts";
export { normalizeHost } from "./applied-state.ts";
export { followPrimaryState } from "./worker-reload.ts";
export type { WorkerReload, WorkerReloadOptions, ReloadableState } from "./worker-reload.ts";
