/**
 * The registry's error codes and the one table mapping them to HTTP statuses
 * (CONVENTIONS.md "Errors"). Every failure is a VergeError with one of these
 * codes; app.ts's onError renders it as `{ error: { code, message, requestId } }`.
 */
import { VergeError } from "../src/shared/errors.ts";
import type { FieldDiagnostic } from "../src/shared/protocol.ts";

export const STATUS_BY_CODE = {
  ERR_INVALID_JSON: 400,
  ERR_INVALID_NAME: 400,
  ERR_INVALID_REQUEST: 400,
  ERR_INVALID_DISTRIBUTION: 400,
  ERR_BUNDLE_SYNTAX: 400,
  ERR_NO_HANDLER: 400,
  ERR_DIGEST_MISMATCH: 400,
  ERR_SIGNATURE_INVALID: 400,
  ERR_SIGNATURE_EXPIRED: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_TOKEN_REVOKED: 401,
  ERR_MISSING_SCOPE: 403,
  ERR_SIGNATURE_REQUIRED: 403,
  ERR_UNTRUSTED_KEY: 403,
  ERR_NOT_FOUND: 404,
  ERR_ALREADY_EXISTS: 409,
  ERR_HOSTNAME_TAKEN: 409,
  ERR_BODY_TOO_LARGE: 413,
  ERR_BUNDLE_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_INTERNAL: 500,
} as const;

export type OriginErrorCode = keyof typeof STATUS_BY_CODE;

export function statusOf(code: string): number {
  return (STATUS_BY_CODE as Record<string, number>)[code] ?? 500;
}

/** @example throw originError("ERR_NOT_FOUND", `function "auth" not found in tenant "acme"`); */
export function originError(code: OriginErrorCode, message: string, diagnostics?: FieldDiagnostic[]): VergeError {
  return new VergeError(code, message, diagnostics === undefined ? {} : { details: { diagnostics } });
}

/** One error listing every diagnostic: the message carries them too, for readers of the message only. */
export function invalid(code: "ERR_INVALID_REQUEST" | "ERR_INVALID_DISTRIBUTION", what: string, diagnostics: FieldDiagnostic[]): VergeError {
  const lines = diagnostics.map((d) => `  ${d.path}: ${d.message}`).join("\n");
  return originError(code, `${what}: ${diagnostics.length} problem${diagnostics.length === 1 ? "" : "s"}\n${lines}`, diagnostics);
}

export function notFound(what: string): VergeError {
  return originError("ERR_NOT_FOUND", `${what} not found`);
}
