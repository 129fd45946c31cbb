/**
 * `verge logs`, the pure half: the client-side filters (`--function`,
 * `--status`, `--node`, `--search`) and the two output formats (one
 * human-readable block per request, or one LogEvent JSON per line).
 */
import type { LogEvent } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";

export type StatusFilter = { kind: "ok" } | { kind: "error" } | { kind: "exact"; status: number } | { kind: "class"; hundreds: number };

export interface LogFilter {
  function?: string;
  status?: StatusFilter;
  node?: string;
  /** Matched case-insensitively against the path and every console line. */
  search?: string;
}

export const STATUS_EXPECTED = "ok, error, a status such as 404, or a class such as 5xx";

/** `--status`: `ok`, `error`, `NNN` or `Nxx`. */
export function parseStatus(raw: string): StatusFilter {
  const value = raw.trim().toLowerCase();
  if (value === "ok" || value === "error") return { kind: value };
  if (/^[1-5]\d\d$/.test(value)) return { kind: "exact", status: Number(value) };
  if (/^[1-5]xx$/.test(value)) return { kind: "class", hundreds: Number(value[0]) };
  throw new UsageError(`--status: expected ${STATUS_EXPECTED}, found ${JSON.stringify(raw.slice(0, 40))}`);
}

/** An error request: it ended in an error response, one of its functions failed, or its status is 5xx. */
export function isError(e: LogEvent): boolean {
  return e.error !== undefined || e.status >= 500 || e.invocations.some((i) => i.error !== undefined);
}

export function hasFilter(f: LogFilter): boolean {
  return f.function !== undefined || f.status !== undefined || f.node !== undefined || f.search !== undefined;
}

export function matches(e: LogEvent, f: LogFilter): boolean {
  if (f.function !== undefined && !e.invocations.some((i) => i.function === f.function)) return false;
  if (f.node !== undefined && e.node !== f.node) return false;
  if (f.status !== undefined) {
    const s = f.status;
    const ok = s.kind === "ok" ? !isError(e) : s.kind === "error" ? isError(e) : s.kind === "exact" ? e.status === s.status : Math.floor(e.status / 100) === s.hundreds;
    if (!ok) return false;
  }
  if (f.search !== undefined) {
    const needle = f.search.toLowerCase();
    const found = e.path.toLowerCase().includes(needle) || e.invocations.some((i) => i.logs.some((l) => l.message.toLowerCase().includes(needle)));
    if (!found) return false;
  }
  return true;
}

/**
 * One request as lines for a terminal: the request, then per invocation its
 * event, function, times and error, then its console lines with their level.
 *
 * @example
 * 2026-12-07T01:02:03Z GET shop.test/path 200 Hit 3.1ms edge-1/eu-west
 *   viewer-request auth@3f2a9c1d cpu 1.2ms wall 2.5ms cold
 *     [log] checking the session
 * 2026-12-07T01:02:03Z POST auth.internal/check 201 front env.AUTH 1.4ms edge-1/eu-west
 *   service auth@9b0e41aa cpu 0.3ms wall 1.1ms
 */
export function formatPretty(e: LogEvent): string {
  // A cron run: `<time> SCHEDULED "<cron>" <outcome> <node>` (its scheduled time, not a request's arrival).
  // A service binding call's target: its request, then `<caller> env.<binding>` where a request shows its cache result.
  const head = (
    e.scheduled !== undefined
      ? [e.scheduled.scheduledTime.replace(/\.\d+Z$/, "Z"), "SCHEDULED", JSON.stringify(e.scheduled.cron), e.scheduled.outcome, `${ms(e.durationMs)}ms`, `${e.node}/${e.region}`]
      : [e.at.replace(/\.\d+Z$/, "Z"), e.method, `${e.host}${e.path}`, String(e.status), e.service !== undefined ? `${e.service.caller} env.${e.service.binding}` : (e.cache ?? "-"), `${ms(e.durationMs)}ms`, `${e.node}/${e.region}`]
  ).join(" ");
  const lines = [clean(e.error === undefined ? head : `${head} ${e.error.code}: ${e.error.message}`)];
  for (const i of e.invocations) {
    const parts = [`  ${i.event}`, `${i.function}@${i.digest.slice(0, 8)}`, `cpu ${ms(i.cpuMs)}ms`, `wall ${ms(i.wallMs)}ms`];
    if (i.cold) parts.push("cold");
    if (i.error !== undefined) parts.push(i.error);
    lines.push(clean(parts.join(" ")));
    for (const l of i.logs) lines.push(`    [${clean(l.level)}] ${clean(l.message).replaceAll("\n", "\n      ")}`);
  }
  return lines.join("\n");
}

export function formatJson(e: LogEvent): string {
  return JSON.stringify(e);
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/**
 * Control characters shown as escapes: console lines are the function's and
 * paths the viewer's, and neither may move the cursor or recolour the terminal.
 */
function clean(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => (c === "\t" ? "  " : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}
