export { Verge } from "./verge.ts";
export type { VergeOptions, ModuleDefinition } from "./options.ts";
export type { KVNamespace } from "./kv.ts";
export { cloudFrontEvent, originRequestEvent, originResponseEvent, viewerRequestEvent, viewerResponseEvent } from "./fixtures.ts";
export type { EventFixtureOptions } from "./fixtures.ts";
