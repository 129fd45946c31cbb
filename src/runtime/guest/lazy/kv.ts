/** Lazy part "kv": the Workers KV namespace object, loaded when a function has a KV binding. */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { kvBinding } from "../bindings/kv-binding.ts";
