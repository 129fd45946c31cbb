/**
 * The limit report of an invocation that failed before it answered.
 *
 * `Runtime.fetch` / `event` throw when the function fails (an exception, a
 * kill, an invalid result), so their `finished` report never reaches the
 * caller; yet the invocation did run and used CPU, wall time and heap, and
 * its console lines matter most then. The runtime keeps that report beside
 * the error it throws; `failureReport(err)` finds it. The child-process host
 * does the same for the errors it revives, so it works on both paths.
 *
 * @example
 * try { await runtime.fetch(spec, request); }
 * catch (err) { const report = await failureReport(err); console.log(report?.limits.cpuMs.used); }
 */
import type { InvocationReport } from "./invocation.ts";

const reports = new WeakMap<object, Promise<InvocationReport>>();

/** Returns `err` with `finished` noted as the report of the invocation that failed with it. */
export function withFailureReport<E>(err: E, finished: Promise<InvocationReport>): E {
  if (typeof err === "object" && err !== null) reports.set(err, finished);
  return err;
}

/** The report of the invocation that failed with `err` (settles when that invocation is over), or undefined. */
export function failureReport(err: unknown): Promise<InvocationReport> | undefined {
  return typeof err === "object" && err !== null ? reports.get(err) : undefined;
}
