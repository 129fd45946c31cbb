/** Lazy part "kv": the Workers KV namespace object, loaded when a function has a KV binding. */
export { kvBinding } from "../bindings/kv-binding.ts";
