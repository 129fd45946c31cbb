/**
 * The record of one service binding call's target (`RequestRecord.service`): its
 * own entry in `verge logs`, under the caller's request id, emitted through the
 * pipeline's `onRecord` once the target's invocation is over (its report: CPU,
 * wall time, console lines, a failure after it answered), or at once when it
 * never ran (a missing target, a refused call).
 */
import type { InvocationReport } from "../runtime/index.ts";
import type { ServiceCall } from "../runtime/index.ts";
import type { RequestData } from "../shared/http.ts";
import type { Distribution } from "../shared/protocol.ts";
import type { InvocationEntry } from "./flow.ts";
import type { RequestRecord } from "./types.ts";
import { codeOf, messageOf } from "./errors.ts";

export interface ServiceRecordScope {
  tenant: string;
  requestId: string;
  /** The request's distribution; none under a cron run. */
  distribution?: Distribution;
}

export interface ServiceOutcome {
  /** "" when no version was resolved. */
  digest: string;
  cold: boolean;
  /** The target's status; 500 when it failed. */
  status: number;
  /** The target's report (it ran), settling when its invocation is over. */
  finished?: Promise<InvocationReport>;
  /** Why the call failed. */
  error?: unknown;
}

/**
 * Emits the record of `call` once `outcome.finished` settles. `started`: the pipeline's clock
 * (ms) when the call began.
 */
export function recordServiceCall(
  emit: ((r: RequestRecord) => void) | undefined,
  scope: ServiceRecordScope,
  call: ServiceCall,
  request: RequestData,
  started: number,
  now: () => number,
  outcome: ServiceOutcome,
): void {
  if (emit === undefined) return;
  const entry: InvocationEntry = { event: "service", function: call.service, digest: outcome.digest, cold: outcome.cold, cpuMs: 0, wallMs: 0 };
  const done = (report?: InvocationReport): void => {
    let error = outcome.error === undefined ? undefined : { code: codeOf(outcome.error), message: messageOf(outcome.error) };
    if (report !== undefined) {
      entry.cpuMs = report.limits.cpuMs.used;
      entry.wallMs = report.limits.wallMs.used;
      if (report.logs.length > 0) entry.logs = report.logs.map((l) => ({ at: new Date(l.timestamp).toISOString(), level: l.level, message: l.message }));
      if (error === undefined && report.error !== undefined) error = { code: report.error.code, message: report.error.message };
    }
    if (error !== undefined) entry.error = error.code;
    const { host, path } = where(request.url);
    const record: RequestRecord = {
      requestId: scope.requestId,
      at: new Date(started).toISOString(),
      method: request.method,
      host,
      path,
      status: outcome.status,
      cache: null,
      // `tenant/name`; under a cron run the tenant alone (`tenant/`), as the log shipper splits it.
      distribution: `${scope.tenant}/${scope.distribution?.name ?? ""}`,
      invocations: [entry],
      bytesOut: 0,
      durationMs: Math.max(0, now() - started),
      service: { binding: call.binding, caller: callerName(call.functionId) },
    };
    if (error !== undefined) record.error = error;
    try {
      emit(record);
    } catch {
      // a failing listener must not fail the call
    }
  };
  if (outcome.finished === undefined) done();
  else outcome.finished.then(done, () => done());
}

/** The calling function's name: function ids on a node are `tenant/function/digest` (sync/loader.ts); another id is kept whole. */
function callerName(functionId: string): string {
  const parts = functionId.split("/");
  return parts.length === 3 ? parts[1]! : functionId;
}

function where(url: string): { host: string; path: string } {
  try {
    const u = new URL(url);
    return { host: u.host, path: `${u.pathname}${u.search}` };
  } catch {
    return { host: "", path: url };
  }
}
