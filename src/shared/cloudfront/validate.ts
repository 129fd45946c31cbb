/**
 * Validates what a Lambda@Edge function returned, as CloudFront does before it
 * goes on; an invalid result is a 502 (DESIGN.md §3). Every problem is reported
 * at once, each naming the field path, what was expected and what was found.
 *
 * - viewer-request, origin-request: a request continues the pipeline; an object
 *   with a `status` is a response that answers the viewer instead.
 * - origin-response, viewer-response: only a response; at viewer-response the
 *   status must stay the one the function was given.
 */
import { VergeError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { found, isPlainObject } from "./describe.ts";
import { getCloudFrontRecord } from "./event.ts";
import { checkRequest } from "./validate-request.ts";
import { checkResponse } from "./validate-response.ts";
import type { CloudFrontEvent, CloudFrontEventType, CloudFrontGeneratedResponse, CloudFrontRecordData, CloudFrontRequest } from "./types.ts";

export interface ValidateLambdaResultOptions {
  /** Largest generated response (headers and body) in bytes; null: no limit. Lambda@Edge: 40 KB viewer, 1 MB origin. */
  responseBytes: number | null;
  /** Largest replacement request body, decoded; null: no limit. Defaults to the Lambda@Edge exposed-body quota for the event. */
  requestBodyBytes?: number | null;
}

export type LambdaResultValidation =
  | { ok: true; kind: "request"; value: CloudFrontRequest }
  | { ok: true; kind: "response"; value: CloudFrontGeneratedResponse }
  | { ok: false; problems: string[] };

/**
 * @param originalEvent the event the function was given (its headers, status and
 *   body association are what the result is compared with).
 * @example
 * const check = validateLambdaResult("viewer-response", event, result, { responseBytes: 40 * 1024 });
 * if (!check.ok) throw new VergeError("ERR_INVALID_RESULT", check.problems.join("\n"));
 */
export function validateLambdaResult(
  eventType: CloudFrontEventType,
  originalEvent: CloudFrontEvent,
  result: unknown,
  options: ValidateLambdaResultOptions,
): LambdaResultValidation {
  return validateLambdaResultOf(getCloudFrontRecord(originalEvent), eventType, result, options);
}

/** {@link validateLambdaResult} of a record already read with `getCloudFrontRecord` (the runtime reads it once per invocation). */
export function validateLambdaResultOf(
  cf: CloudFrontRecordData,
  eventType: CloudFrontEventType,
  result: unknown,
  options: ValidateLambdaResultOptions,
): LambdaResultValidation {
  if (cf.config.eventType !== eventType) {
    throw new VergeError(
      "ERR_INVALID_EVENT",
      `Records[0].cf.config.eventType: expected ${JSON.stringify(eventType)} to match the event being validated, found ${JSON.stringify(cf.config.eventType)}`,
    );
  }
  const isRequestEvent = eventType === "viewer-request" || eventType === "origin-request";
  const problems: string[] = [];

  if (!isPlainObject(result)) {
    problems.push(
      isRequestEvent
        ? `Records[0].cf: expected the request object (to continue) or a response object with a status (to answer), found ${found(result)}`
        : `Records[0].cf.response: expected a response object with a status, found ${found(result)}`,
    );
    return { ok: false, problems };
  }

  if (isRequestEvent && !("status" in result)) {
    const requestBodyBytes = options.requestBodyBytes === undefined ? defaultLimits("lambda-edge", eventType).exposedBodyBytes : options.requestBodyBytes;
    const value = checkRequest(result, { eventType, original: cf.request, requestBodyBytes }, problems);
    return value === undefined ? { ok: false, problems } : { ok: true, kind: "request", value };
  }

  const value = checkResponse(result, { eventType, original: cf.response, responseBytes: options.responseBytes }, problems);
  return value === undefined ? { ok: false, problems } : { ok: true, kind: "response", value };
}

/**
 * {@link validateLambdaResult} that throws: returns the valid result, or throws
 * one `ERR_INVALID_RESULT` listing every problem (in `details.problems` too).
 */
export function assertLambdaResult(
  eventType: CloudFrontEventType,
  originalEvent: CloudFrontEvent,
  result: unknown,
  options: ValidateLambdaResultOptions,
): { kind: "request"; value: CloudFrontRequest } | { kind: "response"; value: CloudFrontGeneratedResponse } {
  return assertLambdaResultOf(getCloudFrontRecord(originalEvent), eventType, result, options);
}

/** {@link assertLambdaResult} of a record already read with `getCloudFrontRecord`. */
export function assertLambdaResultOf(
  cf: CloudFrontRecordData,
  eventType: CloudFrontEventType,
  result: unknown,
  options: ValidateLambdaResultOptions,
): { kind: "request"; value: CloudFrontRequest } | { kind: "response"; value: CloudFrontGeneratedResponse } {
  const check = validateLambdaResultOf(cf, eventType, result, options);
  if (check.ok) return check.kind === "request" ? { kind: "request", value: check.value } : { kind: "response", value: check.value };
  throw new VergeError("ERR_INVALID_RESULT", `invalid ${eventType} result:\n${check.problems.map((p) => `  - ${p}`).join("\n")}`, {
    details: { eventType, problems: check.problems },
  });
}
