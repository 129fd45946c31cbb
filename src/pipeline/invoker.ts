/**
 * Running one function at one event of one request:
 * 1. resolve the association to a version (pinned, or the alias's weighted route) in the request's state;
 * 2. a quarantined version answers 503 at once;
 * 3. the function's reserved concurrency, counted per function in this process: beyond it, 503 ERR_THROTTLED;
 * 4. load the version's spec (bundle verified by the state source) and learn its dialect once;
 * 5. run it, and note the invocation for the request's record (CPU and wall time when it settles,
 *    from the report the runtime attaches to its error when it failed: failure-report.ts).
 * Every failure is rethrown as a VergeError carrying the event, function and digest for the log,
 * and the failed invocation's report when it ran.
 */
import { VergeError, hasCode, type VergeErrorCode } from "../shared/errors.ts";
import { concurrencyOf, type FunctionAssociation } from "../shared/protocol.ts";
import { failureReport, type FunctionSpec, type InvocationReport } from "../runtime/index.ts";
import { withFailureReport } from "../runtime/index.ts";
import type { StickyInput, VersionRef } from "./types.ts";
import { codeOf, messageOf } from "./errors.ts";
import { listToHeaders } from "./headers.ts";
import { requestUrl, type EventType, type Flow, type InvocationEntry, type InvocationNote, type PipelineOptions } from "./flow.ts";

export interface Invoked<T> {
  value: T;
  cold: boolean;
  finished: Promise<InvocationReport>;
}

/**
 * An answer made without running the function: a static asset of its version
 * (assets.ts). Not an invocation: nothing is recorded, counted or reported for it.
 */
export interface Served<T> {
  value: T;
  served: true;
}

/** `lambda`: the version exports a Lambda@Edge handler; otherwise a Workers fetch handler. */
export type Call<T> = (spec: FunctionSpec, lambda: boolean) => Promise<Invoked<T> | Served<T>>;

export interface Invoker {
  invoke<T>(flow: Flow, event: EventType, association: FunctionAssociation, call: Call<T>): Promise<T>;
  /** In-flight invocations per `tenant/function` (for tests and health). */
  inFlight(): Record<string, number>;
}

export function createInvoker(options: Pick<PipelineOptions, "runtime" | "state" | "quarantine" | "log" | "nodeId" | "onInvocation">): Invoker {
  const { runtime, state, quarantine } = options;
  /**
   * In-flight invocations per function. A function's entry stays at 0 when none is in flight
   * (`inFlight()` leaves it out): deleting the last entry of a Map reallocates its table, and
   * inserting it again grows it, ~1 µs per invocation with cold caches.
   */
  const inFlight = new Map<string, number>();
  const dialects = new Map<string, boolean>();

  /** Whether the version is Lambda@Edge; loads it (a cold start the invocation then reuses) the first time. */
  function isLambda(spec: FunctionSpec): { lambda: boolean; loadedNow: boolean } {
    const known = dialects.get(spec.source.id);
    if (known !== undefined) return { lambda: known, loadedNow: false };
    const lambda = runtime.load(spec).dialect.dialect === "lambda";
    dialects.set(spec.source.id, lambda);
    return { lambda, loadedNow: true };
  }

  return {
    inFlight: () => {
      const out: Record<string, number> = {};
      for (const [key, n] of inFlight) if (n > 0) out[key] = n;
      return out;
    },

    async invoke<T>(flow: Flow, event: EventType, association: FunctionAssociation, call: Call<T>): Promise<T> {
      const tenant = flow.distribution.tenant;
      const entry: InvocationEntry = { event, function: association.function, digest: "", cold: false, cpuMs: 0, wallMs: 0 };
      flow.invocations.push(entry);
      try {
        const ref = state.resolve(flow.state, tenant, association, stickyInput(flow));
        entry.digest = ref.digest;
        if (quarantine.has(ref.digest)) {
          throw new VergeError("ERR_FUNCTION_QUARANTINED", `version ${ref.digest} of ${tenant}/${ref.function} is quarantined after repeated worker crashes`);
        }
        const key = `${tenant}/${ref.function}`;
        const limit = reservedConcurrency(flow, ref);
        const running = inFlight.get(key) ?? 0;
        if (limit !== null && running >= limit) {
          throw new VergeError("ERR_THROTTLED", `function ${key} has ${running} invocations in flight on this node, its reserved concurrency is ${limit}`);
        }
        inFlight.set(key, running + 1);
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          inFlight.set(key, Math.max(0, (inFlight.get(key) ?? 1) - 1));
        };
        try {
          const spec = await state.load(flow.state, ref);
          const { lambda, loadedNow } = isLambda(spec);
          entry.cold = loadedNow;
          const r = await call(spec, lambda);
          if ("served" in r) {
            // The version answered from its assets: the function did not run, so no invocation is noted.
            flow.invocations.splice(flow.invocations.indexOf(entry), 1);
            release();
            return r.value;
          }
          entry.cold ||= r.cold;
          // One reaction for the whole end of the invocation: its use into the record, a late failure logged, the slot freed.
          r.finished.then(
            (report) => {
              try {
                noteReport(entry, report);
                if (report.error !== undefined) {
                  entry.error = report.error.code;
                  options.log?.({ level: "warn", msg: "function failed after answering", code: report.error.code, message: report.error.message, event, function: key, digest: ref.digest, node: options.nodeId, requestId: flow.requestId });
                }
              } finally {
                release();
              }
            },
            release,
          );
          notify({ event, cold: entry.cold, finished: r.finished });
          return r.value;
        } catch (err) {
          release();
          throw err;
        }
      } catch (err) {
        // Anything the runtime throws without a code is a failure of the run, not of the request.
        const code = (hasCode(err) ? codeOf(err) : "ERR_RUNTIME_CRASHED") as VergeErrorCode;
        entry.error = code;
        const prior = hasCode(err) ? (err as VergeError).details : undefined;
        const failed = new VergeError(code, messageOf(err), { cause: err, details: { ...prior, event, function: `${tenant}/${association.function}`, digest: entry.digest } });
        // A function that ran and failed used CPU and wall time too: its report comes with the error (failure-report.ts).
        const report = failureReport(err);
        if (report !== undefined) {
          void noteUse(entry, report).catch(() => {});
          withFailureReport(failed, report);
          notify({ event, cold: entry.cold, finished: report, error: err });
        }
        throw failed;
      }
    },
  };

  function notify(invocation: InvocationNote): void {
    try {
      options.onInvocation?.(invocation);
    } catch {
      // a failing listener must not fail the request
    }
  }
}

/** The invocation's CPU and wall time, into its record entry when its report settles. */
function noteUse(entry: InvocationEntry, finished: Promise<InvocationReport>): Promise<InvocationReport> {
  return finished.then((report) => {
    noteReport(entry, report);
    return report;
  });
}

function noteReport(entry: InvocationEntry, report: InvocationReport): void {
  entry.cpuMs = report.limits.cpuMs.used;
  entry.wallMs = report.limits.wallMs.used;
  // Most invocations log nothing: no array for them.
  if (report.logs.length > 0) entry.logs = report.logs.map((l) => ({ at: new Date(l.timestamp).toISOString(), level: l.level, message: l.message }));
}

/**
 * What an alias's sticky key may read, made only when read: most aliases
 * have one route or no sticky key, and then neither is looked at.
 */
function stickyInput(flow: Flow): StickyInput {
  return new LazyStickyInput(flow);
}

class LazyStickyInput implements StickyInput {
  readonly #flow: Flow;
  #headers: Headers | undefined;
  #url: URL | undefined;
  constructor(flow: Flow) {
    this.#flow = flow;
  }
  get headers(): Headers {
    return (this.#headers ??= listToHeaders(this.#flow.request.headers));
  }
  get url(): URL {
    return (this.#url ??= new URL(requestUrl(this.#flow)));
  }
}

/**
 * The function's reserved concurrency, null when unreserved: from the
 * function's current config (what an operator changes to throttle a function
 * at once), else from the version's (what it was published with).
 */
function reservedConcurrency(flow: Flow, ref: VersionRef): number | null {
  const t = flow.state.snapshot.tenants[ref.tenant];
  const fn = t?.functions[ref.function]?.config;
  const version = t?.versions[`${ref.function}/${ref.digest}`]?.config;
  const config = fn !== undefined && fn.reservedConcurrency !== undefined ? fn : version;
  if (config === undefined) return null;
  const value = concurrencyOf(config).reserved;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}
