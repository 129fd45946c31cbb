/**
 * The pipeline's one `code -> status` table and its error responses.
 *
 * As Lambda@Edge maps them (DESIGN.md §3): an invalid function result is a 502;
 * an exception, a CPU / wall / memory kill, a crashed runtime or a throttle is a
 * 503. A version that cannot be run at all (bundle unavailable, digest or
 * signature refused, quarantined, gone from the alias) is a 503 too: like a
 * Lambda function CloudFront cannot invoke, the viewer should retry later and
 * the operator has something to fix. Origin failures follow CloudFront: 502
 * when the origin cannot be reached or answers with broken framing, 504 when it
 * does not answer within its read timeout.
 *
 * The viewer sees a short fixed message per code, never the function's own
 * exception message (it may carry data the function holds); the log line has
 * the full message with function, version, node and request id.
 */
import { hasCode } from "../shared/errors.ts";

const STATUS: Record<string, number> = {
  // the viewer's request
  ERR_BAD_REQUEST: 400,
  ERR_HEADERS_TOO_LARGE: 431,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_UPGRADE_UNSUPPORTED: 501,
  ERR_NO_DISTRIBUTION: 404,
  // function results
  ERR_INVALID_RESULT: 502,
  ERR_RESPONSE_TOO_LARGE: 502,
  ERR_INVALID_EVENT: 502,
  // function execution
  ERR_FUNCTION_EXCEPTION: 503,
  ERR_CPU_LIMIT: 503,
  ERR_WALL_LIMIT: 503,
  ERR_MEMORY_LIMIT: 503,
  ERR_STARTUP_CPU_LIMIT: 503,
  ERR_SUBREQUEST_LIMIT: 503,
  ERR_RUNTIME_CRASHED: 503,
  ERR_RUNTIME_DISPOSED: 503,
  ERR_RUNTIME_BUSY: 503,
  ERR_THROTTLED: 503,
  ERR_TENANT_THROTTLED: 503,
  ERR_BUNDLE_COMPILE: 503,
  ERR_NO_HANDLER: 503,
  ERR_PRELUDE_MISSING: 503,
  // the version cannot be run
  ERR_FUNCTION_QUARANTINED: 503,
  ERR_FUNCTION_NOT_FOUND: 503,
  ERR_BUNDLE_UNAVAILABLE: 503,
  ERR_SECRETS_UNAVAILABLE: 503,
  ERR_DIGEST_MISMATCH: 503,
  ERR_SIGNATURE_INVALID: 503,
  ERR_SIGNATURE_EXPIRED: 503,
  ERR_SIGNATURE_REQUIRED: 503,
  ERR_UNTRUSTED_KEY: 503,
  // the origin
  ERR_NO_ORIGIN: 502,
  ERR_ORIGIN_UNREACHABLE: 502,
  ERR_FETCH_BLOCKED: 502,
  ERR_ORIGIN_RESPONSE_INVALID: 502,
  ERR_ORIGIN_TIMEOUT: 504,
  ERR_INTERNAL: 500,
};

const MESSAGE: Record<number, string> = {
  400: "The request could not be understood by the edge node.",
  404: "No distribution serves this host name.",
  405: "This method is not supported.",
  431: "The request's headers are too large.",
  500: "The edge node failed to handle the request.",
  502: "The edge node received an invalid response from a function or the origin.",
  503: "A function of this distribution could not run; try again later.",
  504: "The origin did not answer in time.",
};

/** Codes other than these map by table; an unknown code is a 500. */
export function statusFor(code: string): number {
  return STATUS[code] ?? 500;
}

/** The code to report for anything thrown while handling a request. */
export function codeOf(err: unknown): string {
  if (!hasCode(err)) return "ERR_INTERNAL";
  // The pool's "all isolates are busy" is a throttle as the viewer sees it.
  if (err.code === "ERR_POOL_EXHAUSTED") return "ERR_THROTTLED";
  return err.code;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string" ? (err as { message: string }).message : String(err);
}

/** The viewer's error response: `x-verge-error`, `x-verge-request-id`, a small JSON body. */
export function errorResponse(code: string, requestId: string, method: string): Response {
  const status = statusFor(code);
  const body = JSON.stringify({ error: { code, message: MESSAGE[status] ?? MESSAGE[500], requestId } });
  const headers = new Headers({
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-verge-error": code,
    "x-verge-request-id": requestId,
  });
  return new Response(method === "HEAD" ? null : body, { status, headers });
}
