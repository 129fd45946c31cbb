/**
 * Validates a `LogBatch` (`POST /v1/nodes/logs`) as sent by an edge node,
 * collecting problems with their field paths. Pure: tenant existence is the
 * route's business. The whole body is at most 1 MiB (body.ts); the per-field
 * caps below only keep one field from being most of it.
 */
import { CLOUDFRONT_EVENT_TYPES } from "../../src/shared/cloudfront/types.ts";
import { DIGEST_PATTERN, NAME_PATTERN, type FieldDiagnostic, type LogBatch, type LogEvent, type LogInvocation } from "../../src/shared/protocol.ts";
import { describe, Diagnostics } from "./fields.ts";

/**
 * A refused batch is lost (nodes do not retry), so these sit above what a node
 * can produce: the runtime keeps 1000 console lines or 256 KiB per invocation
 * and then adds one line saying how many it dropped (src/runtime/console-budget.ts).
 */
export const LOG_BATCH_LIMITS = {
  events: 1000,
  invocationsPerEvent: 16,
  linesPerInvocation: 2000,
  pathChars: 16 * 1024,
  messageChars: 256 * 1024,
  errorMessageChars: 64 * 1024,
  dropped: Number.MAX_SAFE_INTEGER,
} as const;

/** Problems reported at most; a broken batch of 1000 events would otherwise list thousands. */
const MAX_DIAGNOSTICS = 20;

const NAME = [NAME_PATTERN, "a name (lowercase letters, digits, - or _, at most 63)"] as const;
const TEXT = (max: number) => [new RegExp(`^[^\\u0000-\\u001f\\u007f]{1,${max}}$`), `a non-empty string of at most ${max} characters without control characters`] as const;
// Made once: a batch checks up to 1000 events, and the registry checks each stored one again at start.
const TEXT_64 = TEXT(64);
const TEXT_128 = TEXT(128);
const TEXT_256 = TEXT(256);
const METHOD = [/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/, "an HTTP method token"] as const;
const ISO = [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/, "an ISO 8601 time such as 2026-12-07T01:02:03.004Z"] as const;
const LEVEL = [/^[a-z]{1,16}$/, "a console level such as log, info, warn, error, debug"] as const;
const CODE = [/^[A-Za-z0-9_.:-]{1,64}$/, "an error code such as ERR_CPU_LIMIT"] as const;

export function validateLogBatch(body: unknown): { batch: LogBatch | null; diagnostics: FieldDiagnostic[] } {
  const d = new Diagnostics();
  const obj = d.object("body", body) ?? {};
  d.known("", obj, ["node", "region", "events", "dropped"]);
  const node = d.string("node", obj.node, ...NAME);
  const region = d.string("region", obj.region, ...TEXT_64);
  const dropped = obj.dropped === undefined ? (d.add("dropped", "expected an integer from 0, found nothing"), 0) : d.integer("dropped", obj.dropped, 0, LOG_BATCH_LIMITS.dropped, 0);
  const raw = d.array("events", obj.events, LOG_BATCH_LIMITS.events) ?? [];
  const events: LogEvent[] = [];
  for (let i = 0; i < raw.length && d.list.length < MAX_DIAGNOSTICS; i++) {
    const e = logEvent(d, `events[${i}]`, raw[i]);
    if (e !== null) events.push(e);
  }
  if (d.list.length > MAX_DIAGNOSTICS) d.list.splice(MAX_DIAGNOSTICS);
  if (!d.ok) return { batch: null, diagnostics: d.list };
  return { batch: { node: node!, region: region!, events, dropped }, diagnostics: [] };
}

/**
 * One `LogEvent` on its own, by the same rules as in a batch: the registry
 * checks again each event it stored (origin/log-store.ts) when it loads them.
 */
export function validateLogEvent(value: unknown): { event: LogEvent | null; diagnostics: FieldDiagnostic[] } {
  const d = new Diagnostics();
  const event = logEvent(d, "event", value);
  if (d.list.length > MAX_DIAGNOSTICS) d.list.splice(MAX_DIAGNOSTICS);
  return d.ok && event !== null ? { event, diagnostics: [] } : { event: null, diagnostics: d.list };
}

function logEvent(d: Diagnostics, path: string, value: unknown): LogEvent | null {
  const before = d.list.length;
  const o = d.object(path, value);
  if (o === undefined) return null;
  const at = (k: string) => `${path}.${k}`;
  d.known(path, o, ["at", "node", "region", "requestId", "tenant", "distribution", "method", "host", "path", "status", "cache", "durationMs", "error", "invocations", "scheduled", "service"]);
  // A cron run (LogEvent.scheduled) has no host nor distribution: "" for both.
  const cron = o.scheduled === undefined ? undefined : scheduled(d, at("scheduled"), o.scheduled);
  // A service binding call's target (LogEvent.service): "" for the distribution when a cron run made the call.
  const call = o.service === undefined ? undefined : service(d, at("service"), o.service);
  const event = {
    at: d.string(at("at"), o.at, ...ISO),
    node: d.string(at("node"), o.node, ...NAME),
    region: d.string(at("region"), o.region, ...TEXT_64),
    requestId: d.string(at("requestId"), o.requestId, ...TEXT_128),
    tenant: d.string(at("tenant"), o.tenant, ...NAME),
    distribution: (cron !== undefined || call !== undefined) && o.distribution === "" ? "" : d.string(at("distribution"), o.distribution, ...NAME),
    method: d.string(at("method"), o.method, ...METHOD),
    host: cron !== undefined && o.host === "" ? "" : d.string(at("host"), o.host, /^[\x21-\x7e]{1,255}$/, "a host of at most 255 printable characters"),
    path: text(d, at("path"), o.path, /^[^\u0000-\u001f\u007f]+$/, LOG_BATCH_LIMITS.pathChars, "a non-empty path and query without control characters"),
    status: o.status === undefined ? (d.add(at("status"), "expected an integer from 100 to 599, found nothing"), 0) : d.integer(at("status"), o.status, 100, 599, 0),
    cache: o.cache === null ? null : d.string(at("cache"), o.cache, /^[A-Za-z-]{1,32}$/, "a cache outcome such as Hit or Miss, or null"),
    durationMs: milliseconds(d, at("durationMs"), o.durationMs),
    invocations: [] as LogInvocation[],
  } as LogEvent;
  if (o.error !== undefined) {
    const e = d.object(at("error"), o.error);
    if (e !== undefined) {
      d.known(at("error"), e, ["code", "message"]);
      event.error = { code: d.string(at("error.code"), e.code, ...CODE)!, message: text(d, at("error.message"), e.message, null, LOG_BATCH_LIMITS.errorMessageChars, "a message")! };
    }
  }
  if (cron !== undefined) event.scheduled = cron;
  if (call !== undefined) event.service = call;
  const invocations = d.array(at("invocations"), o.invocations, LOG_BATCH_LIMITS.invocationsPerEvent) ?? [];
  invocations.forEach((inv, j) => {
    const v = invocation(d, `${path}.invocations[${j}]`, inv, cron !== undefined ? "scheduled" : call !== undefined ? "service" : undefined);
    if (v !== null) event.invocations.push(v);
  });
  return d.list.length === before ? event : null;
}

function scheduled(d: Diagnostics, path: string, value: unknown): LogEvent["scheduled"] {
  const o = d.object(path, value);
  if (o === undefined) return undefined;
  d.known(path, o, ["cron", "scheduledTime", "outcome"]);
  return {
    cron: d.string(`${path}.cron`, o.cron, ...TEXT_256)!,
    scheduledTime: d.string(`${path}.scheduledTime`, o.scheduledTime, ...ISO)!,
    outcome: d.string(`${path}.outcome`, o.outcome, ...CODE)!,
  };
}

function service(d: Diagnostics, path: string, value: unknown): LogEvent["service"] {
  const o = d.object(path, value);
  if (o === undefined) return undefined;
  d.known(path, o, ["binding", "caller"]);
  return {
    binding: d.string(`${path}.binding`, o.binding, /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/, "a binding name (a JavaScript identifier of at most 128 characters)")!,
    caller: d.string(`${path}.caller`, o.caller, ...TEXT_256)!,
  };
}

/** @param only the event of a cron run's invocation ("scheduled"), or of a service call's target ("service"); else a CloudFront event */
function invocation(d: Diagnostics, path: string, value: unknown, only?: "scheduled" | "service"): LogInvocation | null {
  const o = d.object(path, value);
  if (o === undefined) return null;
  const at = (k: string) => `${path}.${k}`;
  d.known(path, o, ["event", "function", "digest", "cold", "cpuMs", "wallMs", "error", "logs"]);
  const events: readonly unknown[] = only !== undefined ? [only] : CLOUDFRONT_EVENT_TYPES;
  const expected = only === "scheduled" ? '"scheduled" (a cron run)' : only === "service" ? '"service" (a service binding call)' : `one of ${CLOUDFRONT_EVENT_TYPES.join(", ")}`;
  if (!events.includes(o.event)) d.add(at("event"), `expected ${expected}, found ${describe(o.event)}`);
  if (typeof o.cold !== "boolean") d.add(at("cold"), `expected true or false, found ${describe(o.cold)}`);
  const inv = {
    event: o.event,
    function: d.string(at("function"), o.function, ...NAME),
    // "": the function's version was never resolved (ERR_FUNCTION_NOT_FOUND, say).
    digest: o.digest === "" ? "" : d.string(at("digest"), o.digest, DIGEST_PATTERN, "a version digest (64 lowercase hex characters), or \"\" when unresolved"),
    cold: o.cold,
    cpuMs: milliseconds(d, at("cpuMs"), o.cpuMs),
    wallMs: milliseconds(d, at("wallMs"), o.wallMs),
    logs: [],
  } as unknown as LogInvocation;
  if (o.error !== undefined) inv.error = d.string(at("error"), o.error, ...CODE)!;
  const lines = d.array(at("logs"), o.logs, LOG_BATCH_LIMITS.linesPerInvocation) ?? [];
  lines.forEach((line, k) => {
    const p = `${path}.logs[${k}]`;
    const l = d.object(p, line);
    if (l === undefined) return;
    d.known(p, l, ["at", "level", "message"]);
    const entry = {
      at: d.string(`${p}.at`, l.at, ...ISO)!,
      level: d.string(`${p}.level`, l.level, ...LEVEL)!,
      message: text(d, `${p}.message`, l.message, null, LOG_BATCH_LIMITS.messageChars, "a console message")!,
    };
    inv.logs.push(entry);
  });
  return inv;
}

/** A string of at most `max` characters (checked before any pattern runs over it). */
function text(d: Diagnostics, path: string, value: unknown, pattern: RegExp | null, max: number, expected: string): string | undefined {
  if (typeof value === "string" && value.length > max) {
    d.add(path, `expected ${expected} of at most ${max} characters, found ${value.length} characters`);
    return undefined;
  }
  return d.string(path, value, pattern, `${expected} of at most ${max} characters`);
}

/** A duration: a finite number of milliseconds from 0 to one day (fractions allowed). */
function milliseconds(d: Diagnostics, path: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 86_400_000) {
    d.add(path, `expected a number of milliseconds from 0 to 86400000, found ${describe(value)}`);
    return 0;
  }
  return value;
}
