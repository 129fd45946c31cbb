/** Lazy part "clone": the structuredClone algorithm (its rules for platform objects live in platform/clone-rules.ts). */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { structuredClone } from "../platform/structured-clone.ts";
