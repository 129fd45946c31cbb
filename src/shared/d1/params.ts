/**
 * The parameters of one SQL statement in SQLite's numbering, found by scanning
 * its text: `?` takes the next index, `?NNN` index NNN, and `:name`, `@name`,
 * `$name` the next index the first time the name appears. node:sqlite binds
 * positional values to bare `?` only, so the engine binds the others by name;
 * this scan also tells the statement's parameter count, which D1 checks
 * against the values bound ("Wrong number of parameter bindings").
 *
 * Literals, quoted identifiers and comments are skipped, so a `?` inside a
 * string is not a parameter.
 */

export interface StatementParams {
  /** Parameters by index - 1: null for a bare `?`, else its name as SQLite reports it ("?3", ":id"). */
  slots: Array<string | null>;
}

const NAME_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

export function scanParams(sql: string): StatementParams {
  const slots: Array<string | null> = [];
  const named = new Map<string, number>();
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`") {
      i = skipQuoted(sql, i, c);
    } else if (c === "[") {
      const end = sql.indexOf("]", i + 1);
      i = end < 0 ? n : end + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "?") {
      let j = i + 1;
      while (j < n && sql[j]! >= "0" && sql[j]! <= "9") j++;
      if (j === i + 1) slots.push(null);
      else {
        const index = Number(sql.slice(i + 1, j));
        const name = `?${index}`;
        while (slots.length < index) slots.push(undefined as unknown as null);
        if (slots[index - 1] === undefined) slots[index - 1] = name;
        named.set(name, index);
      }
      i = j;
    } else if ((c === ":" || c === "@" || c === "$") && i + 1 < n && NAME_CHAR.test(sql[i + 1]!)) {
      let j = i + 1;
      while (j < n && NAME_CHAR.test(sql[j]!)) j++;
      const name = sql.slice(i, j);
      if (!named.has(name)) {
        slots.push(name);
        named.set(name, slots.length);
      }
      i = j;
    } else i++;
  }
  // A `?NNN` past the end leaves holes: SQLite counts them, nameless, so they bind positionally.
  for (let k = 0; k < slots.length; k++) if (slots[k] === undefined) slots[k] = null;
  return { slots };
}

function skipQuoted(sql: string, start: number, q: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

/**
 * Node's binding arguments for `values` (by SQLite index - 1): an object of the named ones
 * (when there are any) followed by the bare `?` values in order.
 */
export function bindArgs(params: StatementParams, values: readonly unknown[]): unknown[] {
  const named: Record<string, unknown> = {};
  const positional: unknown[] = [];
  let anyNamed = false;
  params.slots.forEach((slot, k) => {
    if (slot === null) positional.push(values[k]);
    else {
      named[slot] = values[k];
      anyNamed = true;
    }
  });
  return anyNamed ? [named, ...positional] : positional;
}
