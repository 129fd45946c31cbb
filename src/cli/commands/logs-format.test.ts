/** `verge logs` output and filters: control characters never reach the terminal; what counts as an error. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { invocation, logEvent } from "../../../origin/testing/log-events.ts";
import { UsageError } from "../output.ts";
import { formatPretty, matches, parseStatus } from "./logs-format.ts";

test("pretty output escapes control characters from console lines and keeps newlines as indented lines", () => {
  const e = logEvent("acme", { at: "2026-12-07T01:02:03.456Z", invocations: [invocation("auth", { logs: [{ at: "2026-12-07T01:02:03Z", level: "error", message: "\u001b[2Jgone\r\nnext\tcol" }] })] });
  const lines = formatPretty(e).split("\n");
  assert.match(lines[0]!, /^2026-12-07T01:02:03Z GET shop\.test\/p\/\d+ 200 Hit 3\.1ms edge-1\/eu-west$/);
  assert.equal(lines[1], "  viewer-request auth@aaaaaaaa cpu 1.2ms wall 2.5ms");
  assert.equal(lines[2], "    [error] \\x1b[2Jgone\\x0d");
  assert.equal(lines[3], "      next  col");
  assert.ok(!formatPretty(e).includes("\u001b"));
});

test("status filters: error means an error response, a failed function or a 5xx; ok is the rest", () => {
  const plain404 = logEvent("acme", { status: 404 });
  const failedButServed = logEvent("acme", { status: 200, invocations: [invocation("auth", { error: "ERR_WALL_LIMIT" })] });
  const edgeError = logEvent("acme", { status: 502, error: { code: "ERR_INVALID_RESULT", message: "x" } });
  const error = { status: parseStatus("error") };
  assert.deepEqual([plain404, failedButServed, edgeError].map((e) => matches(e, error)), [false, true, true]);
  assert.deepEqual([plain404, failedButServed, edgeError].map((e) => matches(e, { status: parseStatus("OK") })), [true, false, false]);
  assert.equal(matches(edgeError, { status: parseStatus("5xx") }), true);
  assert.equal(matches(edgeError, { status: parseStatus("500") }), false);
  for (const bad of ["600", "6xx", "2x", "fine", ""]) assert.throws(() => parseStatus(bad), UsageError, bad);
});

test("a cron run shows as SCHEDULED with its expression, outcome and node, then its invocation and console lines", () => {
  const e = logEvent("acme", {
    at: "2026-12-07T01:10:00.000Z",
    method: "SCHEDULED",
    host: "",
    path: "*/10 * * * *",
    distribution: "",
    cache: null,
    durationMs: 4.25,
    scheduled: { cron: "*/10 * * * *", scheduledTime: "2026-12-07T01:10:00.000Z", outcome: "ok" },
    invocations: [invocation("warmer", { event: "scheduled", logs: [{ at: "2026-12-07T01:10:00.001Z", level: "log", message: "warmed 2/2" }] })],
  });
  const lines = formatPretty(e).split("\n");
  assert.match(lines[0]!, /^2026-12-07T01:10:00Z SCHEDULED "\*\/10 \* \* \* \*" ok 4\.3ms edge-1\/eu-west$/);
  assert.match(lines[1]!, /^ {2}scheduled warmer@/);
  assert.equal(lines[2], "    [log] warmed 2/2");
  assert.equal(matches(e, { function: "warmer", search: "warmed" }), true);
});

test("a service binding call's target shows its request with the caller and binding, then its invocation", () => {
  const e = logEvent("acme", {
    at: "2026-12-07T01:02:03.000Z",
    method: "POST",
    host: "auth.internal",
    path: "/check",
    status: 201,
    cache: null,
    durationMs: 1.4,
    service: { binding: "AUTH", caller: "front" },
    invocations: [invocation("auth", { event: "service", logs: [{ at: "2026-12-07T01:02:03.001Z", level: "log", message: "checked" }] })],
  });
  const lines = formatPretty(e).split("\n");
  assert.equal(lines[0], "2026-12-07T01:02:03Z POST auth.internal/check 201 front env.AUTH 1.4ms edge-1/eu-west");
  assert.match(lines[1]!, /^ {2}service auth@aaaaaaaa /);
  assert.equal(lines[2], "    [log] checked");
  assert.equal(matches(e, { function: "auth" }), true);
});
