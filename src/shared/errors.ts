/**
 * One error base class for every part of verge. Errors that crossed an isolate,
 * a process or HTTP are copies: identify them by `code`, never `instanceof`.
 */

/** Codes the runtime produces for a function invocation. */
export type RuntimeErrorCode =
  | "ERR_FUNCTION_EXCEPTION"
  | "ERR_CPU_LIMIT"
  | "ERR_WALL_LIMIT"
  | "ERR_MEMORY_LIMIT"
  | "ERR_STARTUP_CPU_LIMIT"
  | "ERR_SUBREQUEST_LIMIT"
  | "ERR_RESPONSE_TOO_LARGE"
  | "ERR_INVALID_RESULT"
  | "ERR_BUNDLE_COMPILE"
  | "ERR_NO_HANDLER"
  | "ERR_RUNTIME_CRASHED"
  | "ERR_RUNTIME_DISPOSED"
  | "ERR_CANCELLED"
  | "ERR_FETCH_BLOCKED"
  | "ERR_PRELUDE_MISSING";

/** Codes for bad options or configuration given by a caller. */
export type ConfigErrorCode = "ERR_INVALID_OPTIONS" | "ERR_INVALID_LIMITS" | "ERR_INVALID_EVENT";

export type VergeErrorCode = RuntimeErrorCode | ConfigErrorCode | `ERR_${string}`;

/** Codes that mean "fix your input or your function", as opposed to a bug or outage. */
const USER_ERROR_CODES = new Set<string>([
  "ERR_FUNCTION_EXCEPTION",
  "ERR_CPU_LIMIT",
  "ERR_WALL_LIMIT",
  "ERR_MEMORY_LIMIT",
  "ERR_STARTUP_CPU_LIMIT",
  "ERR_SUBREQUEST_LIMIT",
  "ERR_RESPONSE_TOO_LARGE",
  "ERR_INVALID_RESULT",
  "ERR_BUNDLE_COMPILE",
  "ERR_NO_HANDLER",
  "ERR_FETCH_BLOCKED",
  "ERR_INVALID_OPTIONS",
  "ERR_INVALID_LIMITS",
  "ERR_INVALID_EVENT",
  "ERR_BUILD_FAILED",
  "ERR_NO_UPSTREAM",
  "ERR_PORT_IN_USE",
  // wrangler-compat: the wrangler.toml / wrangler.jsonc needs fixing, or asks for what verge cannot do yet.
  "ERR_WRANGLER_CONFIG",
  "ERR_UNSUPPORTED_BINDING",
  // `verge d1 migrations apply`: a migration file failed (rolled back); fix it and apply again.
  "ERR_D1_MIGRATION",
  // The registry's 4xx answers (origin/errors.ts): the request, token or bundle needs fixing.
  "ERR_INVALID_JSON",
  "ERR_INVALID_TOML",
  "ERR_INVALID_NAME",
  "ERR_INVALID_REQUEST",
  "ERR_INVALID_DISTRIBUTION",
  "ERR_BUNDLE_SYNTAX",
  "ERR_DIGEST_MISMATCH",
  "ERR_SIGNATURE_INVALID",
  "ERR_SIGNATURE_EXPIRED",
  "ERR_UNAUTHORIZED",
  "ERR_TOKEN_REVOKED",
  "ERR_MISSING_SCOPE",
  "ERR_SIGNATURE_REQUIRED",
  "ERR_UNTRUSTED_KEY",
  "ERR_NOT_FOUND",
  "ERR_ALREADY_EXISTS",
  "ERR_HOSTNAME_TAKEN",
  "ERR_BODY_TOO_LARGE",
  "ERR_BUNDLE_TOO_LARGE",
  "ERR_UNSUPPORTED_MEDIA_TYPE",
]);

export interface VergeErrorOptions {
  cause?: unknown;
  /** The user's stack (source-mapped where a map exists), when the error came from a function. */
  guestStack?: string;
  /** Extra plain data that travels with the error (limit report, field path, ...). */
  details?: Record<string, unknown>;
}

/**
 * @example
 * throw new VergeError("ERR_INVALID_LIMITS", "limits.cpuMs: expected a positive number, found -1");
 */
export class VergeError extends Error {
  readonly code: VergeErrorCode;
  readonly guestStack: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: VergeErrorCode, message: string, options: VergeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = `VergeError [${code}]`;
    this.guestStack = options.guestStack;
    this.details = options.details;
  }

  /** Plain data for crossing a process or HTTP boundary. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, guestStack: this.guestStack, details: this.details };
  }
}

export interface SerializedError {
  code: VergeErrorCode;
  message: string;
  guestStack?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Rebuilds an error copied across a boundary. */
export function reviveError(data: SerializedError): VergeError {
  return new VergeError(data.code, data.message, { guestStack: data.guestStack, details: data.details });
}

export function isUserError(code: string): boolean {
  return USER_ERROR_CODES.has(code);
}

/** True when `err` carries one of verge's codes (works for copies too). */
export function hasCode(err: unknown, code?: string): err is { code: string; message: string } {
  if (typeof err !== "object" || err === null || typeof (err as { code?: unknown }).code !== "string") return false;
  return code === undefined || (err as { code: string }).code === code;
}
