/**
 * The guest's D1 database object over "binding" ops, with the realm's own
 * functions (captured by trusted code, not read from user-replaceable globals).
 * In the "d1" lazy part: loaded when a function's env has a D1 binding.
 */
import { callOp, primordials } from "../core/host.ts";
import { createD1Database } from "./d1-database.ts";

/** `env.NAME` for a D1 binding named `name`. */
export function d1Binding(name: string): unknown {
  return createD1Database((method, args) => callOp("binding", { binding: name, method, args }), {
    isArray: (v): v is unknown[] => primordials.ArrayIsArray(v),
    define: (o, key, value) => void primordials.ObjectDefineProperty(o, key, { value, writable: true, enumerable: true, configurable: true }),
  });
}
