/** Test helpers for `verge logs`: valid request events and batches as an edge node sends them. */
import type { LogBatch, LogEvent, LogInvocation } from "../../src/shared/protocol.ts";

let counter = 0;

/** A valid event of `tenant`; each call gets a new request id. */
export function logEvent(tenant: string, overrides: Partial<LogEvent> = {}): LogEvent {
  counter++;
  return {
    at: new Date(Date.UTC(2026, 11, 7, 1, 2, 3) + counter).toISOString(),
    node: "edge-1",
    region: "eu-west",
    requestId: `req-${counter}`,
    tenant,
    distribution: "shop",
    method: "GET",
    host: "shop.test",
    path: `/p/${counter}`,
    status: 200,
    cache: "Hit",
    durationMs: 3.1,
    invocations: [],
    ...overrides,
  };
}

export function invocation(fn: string, overrides: Partial<LogInvocation> = {}): LogInvocation {
  return {
    event: "viewer-request",
    function: fn,
    digest: "a".repeat(64),
    cold: false,
    cpuMs: 1.2,
    wallMs: 2.5,
    logs: [],
    ...overrides,
  };
}

export function logBatch(events: LogEvent[], overrides: Partial<LogBatch> = {}): LogBatch {
  return { node: "edge-1", region: "eu-west", events, dropped: 0, ...overrides };
}
