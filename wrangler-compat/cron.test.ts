import { test } from "node:test";
import assert from "node:assert/strict";
import { cronProblem } from "./cron.ts";

test("valid cron expressions: values, ranges, lists, steps, names, Cloudflare's L W #", () => {
  for (const expr of [
    "* * * * *",
    "*/5 * * * *",
    "0 9-17 * * MON-FRI",
    "0,30 0 1,15 * *",
    "15 3 * jan-mar sun",
    "0 0 L * *",
    "0 0 15W * *",
    "0 0 * * 5L",
    "0 0 * * 1#2",
    "10-50/10 */2 1-31/2 */3 0-7",
    "  0   12  *  *  *  ",
  ]) assert.equal(cronProblem(expr), null, expr);
});

test("invalid cron expressions name the field, the value and what was expected", () => {
  const cases: Array<[string, RegExp]> = [
    ["* * * *", /expected 5 fields .* found 4/],
    ["0 0 * * * *", /found 6/],
    ["", /found 0/],
    ["60 * * * *", /minute: 60 is out of range, expected 0–59/],
    ["0 24 * * *", /hour: 24 is out of range, expected 0–23/],
    ["0 0 0 * *", /day of month: 0 is out of range, expected 1–31/],
    ["0 0 * 13 *", /month: 13 is out of range, expected 1–12 or JAN–DEC/],
    ["0 0 * FOO *", /month: "FOO" is not a value/],
    ["0 0 * * 8", /day of week: 8 is out of range, expected 0–7 or SUN–SAT/],
    ["0 0 * * FRI-MON", /range "FRI-MON" runs backwards/],
    ["*/0 * * * *", /step "\/0" must be a whole number from 1 to 59/],
    ["1-2-3 * * * *", /"1-2-3" is not a value or a range/],
    ["0 0 * * 1#6", /week after # must be 1–5/],
    ["0 0 32W * *", /day of month: 32W is out of range/],
    ["@daily", /expected 5 fields/],
  ];
  for (const [expr, re] of cases) assert.match(cronProblem(expr) ?? "(valid)", re, expr);
});
