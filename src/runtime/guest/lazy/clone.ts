/** Lazy part "clone": the structuredClone algorithm (its rules for platform objects live in platform/clone-rules.ts). */
export { structuredClone } from "../platform/structured-clone.ts";
