/** Lazy part "r2": the R2 bucket object, loaded when a function has an R2 binding. */
export { r2Binding } from "../bindings/r2-binding.ts";
