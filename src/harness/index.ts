export { Verge } from "./verge.ts";
export type { VergeOptions, ModuleDefinition } from "./options.ts";
export type { KVNamespace } from "./kv.ts";
