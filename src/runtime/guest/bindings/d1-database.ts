/**
 * The D1 database object (`env.DB`), as Cloudflare documents it: prepare →
 * bind → first / all / run / raw, batch (one transaction), exec, withSession.
 * https://developers.cloudflare.com/d1/worker-api/
 *
 * Bound values become D1's wire values here (booleans 1/0, ArrayBuffer and
 * views as BLOB bytes; anything else is D1_TYPE_ERROR at `bind`); results come
 * back as columns and rows and become D1's result objects. The host half
 * (src/runtime/bindings/d1/handler.ts) checks the wire again and runs the SQL
 * where it cannot stall the host (src/shared/d1/engine.ts). The same code runs
 * in the isolate (bindings/d1-binding.ts) and, with Node's classes, as the
 * harness's `getD1Database` (src/harness/d1.ts).
 */

/*
 * The wire as the guest reads it: the host half answers with src/shared/d1/wire.ts's shapes
 * (the guest imports nothing from the host side but the bridge protocol).
 */
type D1Value = number | string | null | number[];
interface D1Query {
  sql: string;
  params: D1Value[];
}
interface D1RowsResult {
  columns: string[];
  rows: D1Value[][];
  meta: Record<string, unknown>;
}
type D1Response = { ok: true; results?: D1RowsResult[]; exec?: { count: number; duration: number } } | { ok: false; kind: string; message: string };

/** One call to the host half: "batch" with `[queries]`, "exec" with `[sql]`. */
export type D1Call = (method: string, args: unknown[]) => Promise<unknown>;

/** The realm's own functions, captured before user code ran. */
export interface D1Realm {
  isArray(v: unknown): v is unknown[];
  /** Defines an own, enumerable data property (a column named `__proto__` is a column). */
  define(o: object, key: string, value: unknown): void;
}

function d1Error(kind: string, message: string, cause = message): Error {
  return new Error(`${kind}: ${message}`, { cause: new Error(cause) });
}

function typeError(v: unknown): Error {
  let shown: string;
  try {
    shown = String(v);
  } catch {
    shown = "[object]";
  }
  return d1Error("D1_TYPE_ERROR", `Type '${typeof v}' not supported for value '${shown}'`);
}

export function createD1Database(call: D1Call, realm: D1Realm): object {
  const toWire = (v: unknown): D1Value => {
    if (v === null || typeof v === "string") return v;
    if (typeof v === "number") return Number.isFinite(v) ? (v === 0 ? 0 : v) : null;
    if (typeof v === "boolean") return v ? 1 : 0;
    if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
    if (ArrayBuffer.isView(v)) return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (realm.isArray(v) && v.every((b) => typeof b === "number")) return Array.from(v as number[], (b) => b & 0xff);
    throw typeError(v);
  };

  const send = async (method: string, arg: unknown): Promise<D1Response> => {
    const r = (await call(method, [arg])) as D1Response;
    if (!r.ok) throw d1Error(r.kind, r.message);
    return r;
  };

  const rowObject = (columns: string[], row: D1Value[]): Record<string, D1Value> => {
    const o: Record<string, D1Value> = {};
    for (let i = 0; i < columns.length; i++) realm.define(o, columns[i]!, row[i]!);
    return o;
  };

  const resultOf = (r: D1RowsResult) => ({ success: true, meta: r.meta, results: r.rows.map((row) => rowObject(r.columns, row)) });

  const statements = new WeakMap<object, D1Query>();

  const queriesOf = (list: unknown): D1Query[] => {
    if (!realm.isArray(list)) throw new TypeError("D1_ERROR: batch() takes an array of prepared statements");
    return list.map((s) => {
      const q = typeof s === "object" && s !== null ? statements.get(s) : undefined;
      if (q === undefined) throw new TypeError("D1_ERROR: batch() takes an array of prepared statements made by this database's prepare()");
      return q;
    });
  };

  async function runOne(q: D1Query): Promise<D1RowsResult> {
    const r = (await send("batch", [q])) as { results: D1RowsResult[] };
    return r.results[0]!;
  }

  class D1PreparedStatement {
    constructor(sql: string, params: D1Value[]) {
      statements.set(this, { sql, params });
    }
    bind(...values: unknown[]): D1PreparedStatement {
      return new D1PreparedStatement(statements.get(this)!.sql, values.map(toWire));
    }
    async first(column?: string): Promise<unknown> {
      const r = await runOne(statements.get(this)!);
      const row = r.rows[0];
      if (row === undefined) return null;
      if (column === undefined) return rowObject(r.columns, row);
      const at = r.columns.lastIndexOf(String(column));
      if (at < 0) throw d1Error("D1_COLUMN_NOTFOUND", `Column not found (${String(column)})`, "Column not found");
      return row[at];
    }
    async all(): Promise<unknown> {
      return resultOf(await runOne(statements.get(this)!));
    }
    async run(): Promise<unknown> {
      return resultOf(await runOne(statements.get(this)!));
    }
    async raw(options?: { columnNames?: boolean }): Promise<unknown[]> {
      const r = await runOne(statements.get(this)!);
      return options?.columnNames === true ? [r.columns, ...r.rows] : r.rows;
    }
  }

  const prepare = (sql: unknown) => new D1PreparedStatement(String(sql), []);
  const batch = async (list: unknown) => {
    const r = (await send("batch", queriesOf(list))) as { results: D1RowsResult[] };
    return r.results.map(resultOf);
  };

  class D1DatabaseSession {
    #bookmark: string | null;
    #queries = 0;
    constructor(constraint: unknown) {
      this.#bookmark = typeof constraint === "string" && constraint !== "first-primary" && constraint !== "first-unconstrained" ? constraint : null;
    }
    prepare(sql: unknown) {
      this.#seen();
      return prepare(sql);
    }
    async batch(list: unknown) {
      this.#seen();
      return batch(list);
    }
    /** One primary, no replicas: a bookmark only orders this session's own queries. */
    getBookmark(): string | null {
      return this.#bookmark;
    }
    #seen() {
      this.#queries++;
      this.#bookmark = `00000000-00000000-00000000-${this.#queries.toString(16).padStart(8, "0")}`;
    }
  }

  class D1Database {
    prepare(sql: unknown) {
      return prepare(sql);
    }
    batch(list: unknown) {
      return batch(list);
    }
    async exec(sql: unknown) {
      const r = (await send("exec", String(sql))) as { exec: { count: number; duration: number } };
      return { count: r.exec.count, duration: r.exec.duration };
    }
    withSession(constraint?: unknown) {
      return new D1DatabaseSession(constraint);
    }
  }

  return new D1Database();
}
