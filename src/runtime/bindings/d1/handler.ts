/**
 * The host half of a D1 binding: the guest's database object
 * (guest/bindings/d1-database.ts) sends a batch of statements or an `exec`;
 * this checks the shapes again (the caller may be the harness or a hostile
 * guest) and hands the request to a {@link D1Backend}: the local engine
 * (src/shared/d1/engine.ts). Failures come back as D1 failures (`{ ok: false, kind, message }`),
 * which the guest turns into D1's errors.
 */
import type { BindingHandler } from "../../host-services.ts";
import { D1_MAX_BATCH, type D1Query, type D1Request, type D1Response, type D1Value } from "../../../shared/d1/index.ts";

/** Runs one D1 request on the bound database. */
export type D1Backend = (request: D1Request) => Promise<D1Response>;

export const D1_WIRE_METHODS = ["batch", "exec"];

function value(v: unknown, where: string): D1Value {
  if (v === null || typeof v === "string") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (Array.isArray(v) && v.every((b) => typeof b === "number")) return v as number[];
  throw new TypeError(`D1: ${where} must be a number, a string, null or an array of byte values`);
}

function queries(raw: unknown): D1Query[] {
  if (!Array.isArray(raw)) throw new TypeError("D1: a batch must be an array of statements");
  if (raw.length > D1_MAX_BATCH) throw new RangeError(`D1: a batch holds at most ${D1_MAX_BATCH} statements, found ${raw.length}`);
  return raw.map((q, i) => {
    const { sql, params } = (q ?? {}) as { sql?: unknown; params?: unknown };
    if (typeof sql !== "string") throw new TypeError(`D1: statement ${i} has no SQL text`);
    if (!Array.isArray(params)) throw new TypeError(`D1: statement ${i} has no parameter list`);
    return { sql, params: params.map((p, k) => value(p, `parameter ${k + 1} of statement ${i}`)) };
  });
}

export function createD1Handler(backend: D1Backend): BindingHandler & { cost(method: string, args: unknown[]): number } {
  return {
    kind: "d1",
    methods: D1_WIRE_METHODS,
    /** Queries this call counts for, against the per-invocation cap (each statement of a batch is one, as in D1). */
    cost: (method, args) => (method === "batch" && Array.isArray(args[0]) ? Math.max(1, args[0].length) : 1),
    call(method, args) {
      try {
        if (method === "batch") return backend({ op: "batch", queries: queries(args[0]) });
        if (method === "exec") {
          if (typeof args[0] !== "string") throw new TypeError("D1: exec() needs the SQL text");
          return backend({ op: "exec", sql: args[0] });
        }
        throw new TypeError(`D1: no method ${method}`);
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
