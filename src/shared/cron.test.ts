import { test } from "node:test";
import assert from "node:assert/strict";
import { cronNeverFires, cronProblem, firesAt, nextFire, parseCron } from "./cron.ts";

const at = (iso: string) => new Date(iso);
/** The next `n` fires after `from`, as ISO strings without seconds. */
function fires(expr: string, from: string, n = 1): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    t = nextFire(expr, t);
    out.push(t.toISOString().slice(0, 16));
  }
  return out;
}

test("nextFire is strictly after, on whole minutes, in UTC", () => {
  assert.deepEqual(fires("* * * * *", "2024-05-01T10:00:00.000Z", 2), ["2024-05-01T10:01", "2024-05-01T10:02"]);
  assert.deepEqual(fires("* * * * *", "2024-05-01T10:00:30.500Z"), ["2024-05-01T10:01"]);
  assert.deepEqual(fires("30 9 * * *", "2024-05-01T09:30:00Z"), ["2024-05-02T09:30"]);
  assert.deepEqual(fires("0 0 * * *", "2024-12-31T23:59:59Z"), ["2025-01-01T00:00"]);
});

test("steps, ranges with steps, a/n, lists and names", () => {
  assert.deepEqual(fires("*/15 * * * *", "2024-05-01T10:01:00Z", 4), ["2024-05-01T10:15", "2024-05-01T10:30", "2024-05-01T10:45", "2024-05-01T11:00"]);
  assert.deepEqual(fires("10-30/10 * * * *", "2024-05-01T10:00:00Z", 4), ["2024-05-01T10:10", "2024-05-01T10:20", "2024-05-01T10:30", "2024-05-01T11:10"]);
  assert.deepEqual(fires("50/5 * * * *", "2024-05-01T10:00:00Z", 3), ["2024-05-01T10:50", "2024-05-01T10:55", "2024-05-01T11:50"]);
  assert.deepEqual(fires("0 0,12 * * *", "2024-05-01T01:00:00Z", 2), ["2024-05-01T12:00", "2024-05-02T00:00"]);
  assert.deepEqual(fires("0 0 1 jan-mar,Dec *", "2024-04-01T00:00:00Z", 4), ["2024-12-01T00:00", "2025-01-01T00:00", "2025-02-01T00:00", "2025-03-01T00:00"]);
  assert.deepEqual(fires("0 9 * * MON-FRI", "2024-05-03T10:00:00Z", 2), ["2024-05-06T09:00", "2024-05-07T09:00"]); // Fri → Mon
  assert.deepEqual(fires("0 0 */10 * *", "2024-02-01T00:00:00Z", 4), ["2024-02-11T00:00", "2024-02-21T00:00", "2024-03-01T00:00", "2024-03-11T00:00"]);
});

test("Sunday is 0, 7 and SUN; 5-7 wraps to Fri, Sat, Sun", () => {
  // 2024-05-05 is a Sunday.
  for (const dow of ["0", "7", "sun", "SUN"]) assert.deepEqual(fires(`0 12 * * ${dow}`, "2024-05-01T00:00:00Z"), ["2024-05-05T12:00"], dow);
  assert.deepEqual(fires("0 0 * * 5-7", "2024-05-01T00:00:00Z", 4), ["2024-05-03T00:00", "2024-05-04T00:00", "2024-05-05T00:00", "2024-05-10T00:00"]);
  assert.deepEqual(fires("0 0 * * 0-7", "2024-05-01T00:00:00Z", 2), ["2024-05-02T00:00", "2024-05-03T00:00"]);
});

test("month ends: 31 skips short months, 30 skips February", () => {
  assert.deepEqual(fires("0 0 31 * *", "2024-01-31T00:00:00Z", 4), ["2024-03-31T00:00", "2024-05-31T00:00", "2024-07-31T00:00", "2024-08-31T00:00"]);
  assert.deepEqual(fires("0 0 30 * *", "2024-01-30T00:00:00Z", 2), ["2024-03-30T00:00", "2024-04-30T00:00"]);
});

test("leap years: 29 February fires only in leap years, century rule included", () => {
  assert.deepEqual(fires("0 0 29 2 *", "2024-03-01T00:00:00Z", 3), ["2028-02-29T00:00", "2032-02-29T00:00", "2036-02-29T00:00"]);
  assert.deepEqual(fires("0 0 29 2 *", "2096-03-01T00:00:00Z"), ["2104-02-29T00:00"]); // 2100 is not a leap year
  assert.deepEqual(fires("0 0 L 2 *", "2023-01-01T00:00:00Z", 2), ["2023-02-28T00:00", "2024-02-29T00:00"]);
});

test("day of month OR day of week when both are restricted; AND when one starts with * (Vixie cron)", () => {
  // The 13th or any Friday (May 2024: Fridays 3, 10, 17; the 13th is a Monday).
  assert.deepEqual(fires("0 0 13 * 5", "2024-05-01T00:00:00Z", 4), ["2024-05-03T00:00", "2024-05-10T00:00", "2024-05-13T00:00", "2024-05-17T00:00"]);
  assert.deepEqual(fires("0 0 * * 5", "2024-05-01T00:00:00Z", 2), ["2024-05-03T00:00", "2024-05-10T00:00"]);
  assert.deepEqual(fires("0 0 13 * *", "2024-05-01T00:00:00Z"), ["2024-05-13T00:00"]);
  // `*/2` starts with *: odd days that are Mondays (May 2024 Mondays: 6, 13, 20, 27; June 3).
  assert.deepEqual(fires("0 0 */2 * 1", "2024-05-01T00:00:00Z", 3), ["2024-05-13T00:00", "2024-05-27T00:00", "2024-06-03T00:00"]);
});

test("Cloudflare's L, LW, nW, nL and n#k", () => {
  assert.deepEqual(fires("0 0 L * *", "2024-04-01T00:00:00Z", 3), ["2024-04-30T00:00", "2024-05-31T00:00", "2024-06-30T00:00"]);
  // Last weekday: 2024-06-30 is a Sunday → Fri 28; 2024-08-31 is a Saturday → Fri 30.
  assert.deepEqual(fires("0 0 LW 6,8 *", "2024-01-01T00:00:00Z", 2), ["2024-06-28T00:00", "2024-08-30T00:00"]);
  // Nearest weekday: 2024-06-15 is a Saturday → Fri 14; 2024-09-15 a Sunday → Mon 16; 2024-06-01 a Saturday → Mon 3.
  assert.deepEqual(fires("0 0 15W 6,9 *", "2024-01-01T00:00:00Z", 2), ["2024-06-14T00:00", "2024-09-16T00:00"]);
  assert.deepEqual(fires("0 0 1W 6 *", "2024-01-01T00:00:00Z"), ["2024-06-03T00:00"]);
  // 2024-03-31 is a Sunday: 31W → Friday 29.
  assert.deepEqual(fires("0 0 31W 3 *", "2024-01-01T00:00:00Z"), ["2024-03-29T00:00"]);
  // Last Friday of the month, second Monday, and L alone (Saturday).
  assert.deepEqual(fires("0 0 * * 5L", "2024-05-01T00:00:00Z", 2), ["2024-05-31T00:00", "2024-06-28T00:00"]);
  assert.deepEqual(fires("0 0 * * FRIL", "2024-05-01T00:00:00Z"), ["2024-05-31T00:00"]);
  assert.deepEqual(fires("0 0 * * 1#2", "2024-05-01T00:00:00Z", 2), ["2024-05-13T00:00", "2024-06-10T00:00"]);
  assert.deepEqual(fires("0 0 * * 7#1", "2024-05-01T00:00:00Z"), ["2024-05-05T00:00"]);
  assert.deepEqual(fires("0 0 * * L", "2024-05-01T00:00:00Z"), ["2024-05-04T00:00"]);
  // A 5th Monday does not exist in every month.
  assert.deepEqual(fires("0 0 * * 1#5", "2024-05-01T00:00:00Z", 2), ["2024-07-29T00:00", "2024-09-30T00:00"]);
});

test("expressions that never fire are refused; firesAt checks a claimed time", () => {
  assert.match(cronNeverFires("0 0 30 2 *") ?? "", /never fire/);
  assert.match(cronNeverFires("0 0 31 4,6,9,11 *") ?? "", /never fire/);
  assert.equal(cronNeverFires("0 0 29 2 *"), null);
  assert.throws(() => nextFire("0 0 30 2 *", new Date()), { code: "ERR_INVALID_CRON" });
  assert.throws(() => parseCron("0 24 * * *"), { code: "ERR_INVALID_CRON", message: /hour: 24 is out of range/ });
  assert.equal(firesAt("*/5 * * * *", Date.parse("2024-05-01T10:05:00Z")), true);
  assert.equal(firesAt("*/5 * * * *", Date.parse("2024-05-01T10:06:00Z")), false);
  assert.equal(firesAt("*/5 * * * *", Date.parse("2024-05-01T10:05:01Z")), false);
});

test("syntax problems keep wrangler-compat's messages", () => {
  assert.equal(cronProblem("10-50/10 */2 1-31/2 */3 0-7"), null);
  assert.match(cronProblem("0 0 * * FRI-MON") ?? "", /range "FRI-MON" runs backwards/);
  assert.match(cronProblem("0 0 * * 1#6") ?? "", /week after # must be 1–5/);
  assert.match(cronProblem("0 0 32W * *") ?? "", /day of month: 32W is out of range/);
  assert.match(cronProblem("0 0 * * 9L") ?? "", /day of week: 9 is out of range/);
});

test("a far search stays cheap: 1000 yearly fires in well under a second of work", () => {
  const s = parseCron("0 0 29 2 1");
  let t = new Date("2000-01-01T00:00:00Z");
  for (let i = 0; i < 200; i++) t = nextFire(s, t);
  assert.ok(t.getUTCFullYear() > 2000);
});
