/**
 * Cron expression syntax as Cloudflare's Cron Triggers accept it: five fields
 * (minute hour day-of-month month day-of-week), each `*`, a value, a range
 * `a-b`, a step `x/n`, or a comma list of these; months JAN–DEC and days
 * SUN–SAT by name (any case); `L`, `W` and `#` where Cloudflare allows them.
 * Validation only: running schedules is a later part of issue 5, which will
 * bring a cron library for the schedule itself.
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const;
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  // 0 and 7 are both Sunday in the cron of most systems; names are safest.
  { name: "day of week", min: 0, max: 7, names: DAYS },
];

function expected(f: Field): string {
  const names = f.names === undefined ? "" : ` or ${f.names[0]}–${f.names[f.names.length - 1]}`;
  return `${f.min}–${f.max}${names}`;
}

/** A single value of a field, or a problem. Names map to their number (JAN = 1, SUN = 0). */
function value(f: Field, text: string): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < f.min || n > f.max ? `${f.name}: ${text} is out of range, expected ${expected(f)}` : n;
  }
  const i = f.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (i !== -1) return f.names === MONTHS ? i + 1 : i;
  return `${f.name}: "${text}" is not a value, expected ${expected(f)}`;
}

/** Cloudflare's extras: `L`, `LW`, `15W` in day of month; `L`, `5L`, `1#3` in day of week. */
function special(index: number, item: string): string | null | undefined {
  if (index === 2 && /^(L|LW|\d{1,2}W)$/i.test(item)) {
    const n = Number.parseInt(item, 10);
    return Number.isNaN(n) || (n >= 1 && n <= 31) ? null : `day of month: ${item} is out of range, expected 1–31 before W`;
  }
  if (index === 4) {
    const m = /^(?:([A-Za-z]{3}|\d)L|L|([A-Za-z]{3}|\d)#(\d))$/.exec(item);
    if (m === null) return undefined;
    const day = m[1] ?? m[2];
    if (day !== undefined && typeof value(FIELDS[4]!, day) === "string") return value(FIELDS[4]!, day) as string;
    if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 5)) return `day of week: "${item}": the week after # must be 1–5`;
    return null;
  }
  return undefined;
}

function item(index: number, text: string): string | null {
  const f = FIELDS[index]!;
  const extra = special(index, text);
  if (extra !== undefined) return extra;
  const [base, step, more] = text.split("/");
  if (more !== undefined || base === undefined || base === "") return `${f.name}: "${text}" is not a value, range or step`;
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > f.max)) {
    return `${f.name}: step "/${step}" must be a whole number from 1 to ${f.max}`;
  }
  if (base === "*") return null;
  const [from, to, extraDash] = base.split("-");
  if (extraDash !== undefined || from === "" || to === "") return `${f.name}: "${base}" is not a value or a range a-b`;
  const a = value(f, from!);
  if (typeof a === "string") return a;
  if (to === undefined) return null;
  const b = value(f, to);
  if (typeof b === "string") return b;
  return a > b ? `${f.name}: range "${base}" runs backwards, expected the smaller value first` : null;
}

/**
 * The first problem of a cron expression, or null when it is valid.
 *
 * @example
 * cronProblem("*\/15 9-17 * * MON-FRI"); // null
 * cronProblem("0 24 * * *"); // "hour: 24 is out of range, expected 0–23"
 */
export function cronProblem(expression: string): string | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === "") {
    return `expected 5 fields (minute hour day-of-month month day-of-week), found ${fields[0] === "" ? 0 : fields.length}`;
  }
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i]!.split(",")) {
      const problem = item(i, part);
      if (problem !== null) return problem;
    }
  }
  return null;
}
