/**
 * Cron expressions (issue 5, cron triggers): validation with messages naming
 * the field, and the schedule itself (`nextFire`), in UTC, as Cloudflare's Cron
 * Triggers run them. Shared by wrangler-compat (diagnostics), the registry
 * (config validation, claim checks) and edge nodes (the scheduler), so it is
 * here, dependency-free (src/shared imports Node built-ins only).
 *
 * Syntax: five fields (minute hour day-of-month month day-of-week), each `*`, a
 * value, a range `a-b`, a step `*\/n`, `a/n` (a to the field's end) or `a-b/n`,
 * or a comma list of these; months JAN–DEC and days SUN–SAT by name (any case);
 * day of week 0–7 with both 0 and 7 Sunday (POSIX/Vixie cron).
 * Cloudflare's extras: `L` (last day), `LW` (last weekday), `15W` (weekday
 * nearest the 15th, within the month) in day of month; `5L` (last Friday of
 * the month), `1#2` (second Monday) and `L` alone (Saturday, the week's last
 * day, as in Quartz) in day of week.
 *
 * Day matching follows cron: when both day of month and day of week are
 * restricted (neither starts with `*`), a day matches if EITHER matches;
 * when one starts with `*` (even `*\/2`), a day must match both (Vixie cron).
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

/** A day test for the specials (`L`, `W`, `#`): year, month 1–12, day 1–31. */
type DayTest = (y: number, m: number, d: number) => boolean;

/** A parsed expression: which values of each field match. */
export interface CronSchedule {
  readonly expression: string;
  /** Index = value; day of week 0–6 (7 folded onto 0). */
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  readonly daysOfMonth: readonly boolean[];
  readonly months: readonly boolean[];
  readonly daysOfWeek: readonly boolean[];
  readonly domTests: readonly DayTest[];
  readonly dowTests: readonly DayTest[];
  /** The field starts with `*` (cron's rule for combining the two day fields). */
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

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

const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();
const weekday = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();

/** The weekday (Mon–Fri) nearest day `n` without leaving the month; null when the month has no day n. */
function nearestWeekday(y: number, m: number, n: number): number | null {
  const last = daysIn(y, m);
  if (n > last) return null;
  const w = weekday(y, m, n);
  if (w === 6) return n === 1 ? 3 : n - 1; // Saturday: Friday before, or Monday the 3rd
  if (w === 0) return n === last ? n - 2 : n + 1; // Sunday: Monday after, or Friday before at month end
  return n;
}

/** Cloudflare's extras: `L`, `LW`, `15W` in day of month; `L`, `5L`, `1#3` in day of week. A test, a problem, or undefined (not special). */
function special(index: number, item: string): DayTest | string | undefined {
  if (index === 2 && /^(L|LW|\d{1,2}W)$/i.test(item)) {
    const upper = item.toUpperCase();
    if (upper === "L") return (y, m, d) => d === daysIn(y, m);
    if (upper === "LW") return (y, m, d) => d === lastWeekday(y, m);
    const n = Number.parseInt(item, 10);
    if (n < 1 || n > 31) return `day of month: ${item} is out of range, expected 1–31 before W`;
    return (y, m, d) => d === nearestWeekday(y, m, n);
  }
  if (index === 4) {
    const match = /^(?:([A-Za-z]{3}|\d)L|L|([A-Za-z]{3}|\d)#(\d))$/.exec(item);
    if (match === null) return undefined;
    const dayText = match[1] ?? match[2];
    const day = dayText === undefined ? 6 : value(FIELDS[4]!, dayText);
    if (typeof day === "string") return day;
    if (match[3] !== undefined && (Number(match[3]) < 1 || Number(match[3]) > 5)) return `day of week: "${item}": the week after # must be 1–5`;
    const dow = day % 7;
    if (match[3] !== undefined) {
      const nth = Number(match[3]);
      return (y, m, d) => weekday(y, m, d) === dow && Math.ceil(d / 7) === nth;
    }
    if (match[1] !== undefined) return (y, m, d) => weekday(y, m, d) === dow && d + 7 > daysIn(y, m);
    return (y, m, d) => weekday(y, m, d) === dow; // `L` alone: Saturday
  }
  return undefined;
}

function lastWeekday(y: number, m: number): number {
  let d = daysIn(y, m);
  while (weekday(y, m, d) === 0 || weekday(y, m, d) === 6) d--;
  return d;
}

/** Parses one list item into `set` (or `tests`); returns its problem or null. */
function item(index: number, text: string, set: boolean[], tests: DayTest[]): string | null {
  const f = FIELDS[index]!;
  const extra = special(index, text);
  if (typeof extra === "string") return extra;
  if (extra !== undefined) {
    tests.push(extra);
    return null;
  }
  const [base, step, more] = text.split("/");
  if (more !== undefined || base === undefined || base === "") return `${f.name}: "${text}" is not a value, range or step`;
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > f.max)) {
    return `${f.name}: step "/${step}" must be a whole number from 1 to ${f.max}`;
  }
  const by = step === undefined ? 1 : Number(step);
  let from = f.min;
  let to = f.max;
  if (base !== "*") {
    const [a, b, extraDash] = base.split("-");
    if (extraDash !== undefined || a === "" || b === "") return `${f.name}: "${base}" is not a value or a range a-b`;
    const start = value(f, a!);
    if (typeof start === "string") return start;
    from = start;
    // `a/n` runs from a to the field's end; a lone `a` is just a.
    const end = b === undefined ? (step === undefined ? start : f.max) : value(f, b);
    if (typeof end === "string") return end;
    to = end;
    if (from > to) return `${f.name}: range "${base}" runs backwards, expected the smaller value first`;
  }
  for (let v = from; v <= to; v += by) set[index === 4 ? v % 7 : v] = true;
  return null;
}

/** A parsed expression, or the first problem of it. */
function parse(expression: string): CronSchedule | string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === "") {
    return `expected 5 fields (minute hour day-of-month month day-of-week), found ${fields[0] === "" ? 0 : fields.length}`;
  }
  const sets: boolean[][] = FIELDS.map((f) => new Array<boolean>(f.max + 1).fill(false));
  const tests: DayTest[][] = [[], [], [], [], []];
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i]!.split(",")) {
      const problem = item(i, part, sets[i]!, tests[i]!);
      if (problem !== null) return problem;
    }
  }
  return {
    expression,
    minutes: sets[0]!,
    hours: sets[1]!,
    daysOfMonth: sets[2]!,
    months: sets[3]!,
    daysOfWeek: sets[4]!,
    domTests: tests[2]!,
    dowTests: tests[4]!,
    domStar: fields[2]!.startsWith("*"),
    dowStar: fields[4]!.startsWith("*"),
  };
}

/** Thrown by {@link parseCron} and {@link nextFire}: code `ERR_INVALID_CRON`, the problem in the message. */
export class CronError extends Error {
  readonly code = "ERR_INVALID_CRON";
  constructor(message: string) {
    super(message);
    this.name = "CronError [ERR_INVALID_CRON]";
  }
}

/**
 * The first problem of a cron expression, or null when it is valid.
 *
 * @example
 * cronProblem("*\/15 9-17 * * MON-FRI"); // null
 * cronProblem("0 24 * * *"); // "hour: 24 is out of range, expected 0–23"
 */
export function cronProblem(expression: string): string | null {
  const r = parse(expression);
  return typeof r === "string" ? r : null;
}

/**
 * The problem of an expression that parses but never fires (`0 0 30 2 *`), or
 * null. Looks 28 years ahead of `from` (the calendar's full cycle).
 */
export function cronNeverFires(expression: string, from = new Date(Date.UTC(2000, 0, 1))): string | null {
  const r = parse(expression);
  if (typeof r === "string") return r;
  return search(r, from.getTime()) === null ? "the expression matches no date (such as day 30 of February); it would never fire" : null;
}

/** @example const s = parseCron("0 3 * * MON"); nextFire(s, new Date()); */
export function parseCron(expression: string): CronSchedule {
  const r = parse(expression);
  if (typeof r === "string") throw new CronError(`cron "${expression.slice(0, 100)}": ${r}`);
  return r;
}

function dayMatches(s: CronSchedule, y: number, m: number, d: number): boolean {
  const dom = s.daysOfMonth[d] === true || s.domTests.some((t) => t(y, m, d));
  const dow = s.daysOfWeek[weekday(y, m, d)] === true || s.dowTests.some((t) => t(y, m, d));
  // Vixie cron: a field starting with `*` (even `*\/2`) makes the two fields AND; else they OR.
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/** First minute of the day (0–1439) at or after `start` whose hour and minute match, or null. */
function timeOfDay(s: CronSchedule, start: number): number | null {
  for (let h = Math.floor(start / 60); h < 24; h++) {
    if (!s.hours[h]) continue;
    for (let min = h === Math.floor(start / 60) ? start % 60 : 0; min < 60; min++) if (s.minutes[min]) return h * 60 + min;
  }
  return null;
}

const MINUTE = 60_000;
const SEARCH_DAYS = 28 * 366;

function search(s: CronSchedule, afterMs: number): number | null {
  const first = new Date(Math.floor(afterMs / MINUTE) * MINUTE + MINUTE);
  let y = first.getUTCFullYear();
  let m = first.getUTCMonth() + 1;
  let d = first.getUTCDate();
  let start = first.getUTCHours() * 60 + first.getUTCMinutes();
  for (let i = 0; i < SEARCH_DAYS; i++) {
    if (s.months[m] && dayMatches(s, y, m, d)) {
      const t = timeOfDay(s, start);
      if (t !== null) return Date.UTC(y, m - 1, d, Math.floor(t / 60), t % 60);
    }
    start = 0;
    if (++d > daysIn(y, m)) {
      d = 1;
      if (++m > 12) {
        m = 1;
        y++;
      }
    }
  }
  return null;
}

/**
 * The first time strictly after `after` (UTC, whole minutes) when the
 * expression fires. Throws {@link CronError} for an invalid expression or one
 * that never fires.
 *
 * @example
 * nextFire("0 0 L * *", new Date("2024-02-10T00:00:00Z")); // 2024-02-29T00:00:00.000Z
 */
export function nextFire(expression: string | CronSchedule, after: Date): Date {
  const s = typeof expression === "string" ? parseCron(expression) : expression;
  const t = search(s, after.getTime());
  if (t === null) throw new CronError(`cron "${s.expression.slice(0, 100)}": matches no date after ${after.toISOString()}`);
  return new Date(t);
}

/** Whether `time` (ms) is a whole minute at which the expression fires. */
export function firesAt(expression: string | CronSchedule, time: number): boolean {
  if (!Number.isInteger(time) || time % MINUTE !== 0) return false;
  const s = typeof expression === "string" ? parseCron(expression) : expression;
  return search(s, time - 1) === time;
}
