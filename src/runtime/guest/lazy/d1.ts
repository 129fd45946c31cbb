/** Lazy part "d1": the D1 database object, loaded when a function has a D1 binding. */
export { d1Binding } from "../bindings/d1-binding.ts";
