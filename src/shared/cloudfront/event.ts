/**
 * Builds the event CloudFront hands a Lambda@Edge function, and reads one back.
 *
 * What the built event holds, per event type (AWS "Lambda@Edge event structure"):
 * - every event: `config` and `request` (`clientIp`, `headers`, `method`, `querystring`, `uri`);
 * - request events with "include body": `request.body`, base64, cut at the exposed-body quota;
 * - origin events: `request.origin`;
 * - response events: `response` (`status` as a string, `statusDescription`, `headers`; never a body).
 * Headers CloudFront never exposes (rules.ts) are left out.
 */
import { randomFillSync } from "node:crypto";
import { VergeError } from "../errors.ts";
import type { RequestData, ResponseData } from "../http.ts";
import { defaultLimits } from "../limits.ts";
import { exposeRequestBody } from "./body.ts";
import { requestDataToCfRequest, responseDataToCfResponse } from "./convert.ts";
import { field, found, isPlainObject } from "./describe.ts";
import { isHiddenHeader } from "./rules.ts";
import {
  CLOUDFRONT_EVENT_TYPES,
  type CloudFrontEventMap,
  type CloudFrontEventType,
  type CloudFrontHeaders,
  type CloudFrontOrigin,
  type CloudFrontRecordData,
  type CloudFrontResponse,
} from "./types.ts";

export interface BuildCloudFrontEventOptions<T extends CloudFrontEventType = CloudFrontEventType> {
  eventType: T;
  /** The request as CloudFront holds it at this event. Its body must be buffered when `includeBody` is set. */
  request: RequestData;
  /** Required at origin-response and viewer-response; its body is never exposed. */
  response?: ResponseData;
  clientIp: string;
  distribution: { domainName: string; id: string };
  /** Defaults to a fresh id shaped like CloudFront's. */
  requestId?: string;
  /** Required at origin-request and origin-response; ignored at viewer events. */
  origin?: CloudFrontOrigin;
  /** The association's "include body" option; viewer-request and origin-request only. */
  includeBody?: boolean;
  /** Bytes of body exposed at most; defaults to the Lambda@Edge quota (40 KB viewer, 1 MB origin). Null: no cut. */
  bodyLimit?: number | null;
  /** Original header objects whose `key` casing to reuse. */
  keys?: { request?: CloudFrontHeaders; response?: CloudFrontHeaders };
}

/**
 * @example
 * const event = buildCloudFrontEvent({
 *   eventType: "viewer-request",
 *   request: { method: "GET", url: "https://d111.cloudfront.net/?a=1", headers: [["host", "d111.cloudfront.net"]], body: null },
 *   clientIp: "203.0.113.178",
 *   distribution: { domainName: "d111.cloudfront.net", id: "EDFDVBD6EXAMPLE" },
 * });
 * event.Records[0].cf.request.querystring; // "a=1"
 */
export function buildCloudFrontEvent<T extends CloudFrontEventType>(options: BuildCloudFrontEventOptions<T>): CloudFrontEventMap[T] {
  const { eventType } = options;
  const isRequestEvent = eventType === "viewer-request" || eventType === "origin-request";
  const isOriginEvent = eventType === "origin-request" || eventType === "origin-response";
  const misuse: string[] = [];
  if (!CLOUDFRONT_EVENT_TYPES.includes(eventType)) misuse.push(`eventType: expected one of ${CLOUDFRONT_EVENT_TYPES.join(", ")}, found ${found(eventType)}`);
  if (isOriginEvent && options.origin === undefined) misuse.push(`origin: expected the origin at ${eventType}, found nothing`);
  if (!isRequestEvent && options.response === undefined) misuse.push(`response: expected the response at ${eventType}, found nothing`);
  if (isRequestEvent && options.response !== undefined) misuse.push(`response: expected nothing at ${eventType}, found a response`);
  if (!isRequestEvent && options.includeBody === true) misuse.push(`includeBody: only viewer-request and origin-request expose the body, found true at ${eventType}`);
  const body = options.request.body;
  if (options.includeBody === true && body !== null && !(body instanceof Uint8Array)) {
    misuse.push("request.body: expected a buffered body (Uint8Array or null) to expose, found a stream; read it first");
  }
  if (misuse.length > 0) {
    throw new VergeError("ERR_INVALID_EVENT", `cannot build a CloudFront ${String(eventType)} event:\n${misuse.map((m) => `  - ${m}`).join("\n")}`, {
      details: { problems: misuse },
    });
  }

  const request = requestDataToCfRequest(
    { ...options.request, headers: options.request.headers.filter(([name]) => !isHiddenHeader(name)), body: null },
    { clientIp: options.clientIp, keys: options.keys?.request },
  );
  if (options.includeBody === true) {
    const limit = options.bodyLimit === undefined ? defaultLimits("lambda-edge", eventType).exposedBodyBytes : options.bodyLimit;
    request.body = exposeRequestBody(body as Uint8Array | null, { limit });
  }
  if (isOriginEvent) request.origin = structuredClone(options.origin);

  const cf: CloudFrontRecordData = {
    config: {
      distributionDomainName: options.distribution.domainName,
      distributionId: options.distribution.id,
      eventType,
      requestId: options.requestId ?? createRequestId(),
    },
    request,
  };
  if (options.response !== undefined) {
    const { status, statusDescription, headers } = responseDataToCfResponse(
      { ...options.response, headers: options.response.headers.filter(([name]) => !isHiddenHeader(name)), body: null },
      { keys: options.keys?.response },
    );
    cf.response = { status, statusDescription, headers };
  }
  return { Records: [{ cf }] } as unknown as CloudFrontEventMap[T];
}

/** Random bytes for ids, drawn in batches: one `randomFillSync` per {@link ID_BATCH} ids. */
const ID_BYTES = 41;
const ID_BATCH = 128;
const idPool = Buffer.alloc(ID_BYTES * ID_BATCH);
let idNext = ID_BATCH;

/** A request id shaped like CloudFront's: 54 URL-safe base64 characters and "==". */
export function createRequestId(): string {
  if (idNext === ID_BATCH) {
    randomFillSync(idPool);
    idNext = 0;
  }
  const start = ID_BYTES * idNext++;
  return `${idPool.toString("base64url", start, start + ID_BYTES).slice(0, 54)}==`;
}

/**
 * Reads `Records[0].cf` from an event given by a caller (for example to
 * `dispatchEvent`), checking the parts verge relies on and listing every problem.
 *
 * @throws VergeError ERR_INVALID_EVENT naming each field that is missing or of the wrong type.
 * @example
 * const { config, request, response } = getCloudFrontRecord(event);
 */
export function getCloudFrontRecord(event: unknown): CloudFrontRecordData {
  const problems: string[] = [];
  const records = isPlainObject(event) ? event["Records"] : undefined;
  if (!Array.isArray(records) || records.length === 0) {
    problems.push(`Records: expected an array with one record, found ${found(records)}`);
    throw invalidEvent(problems);
  }
  const cf = isPlainObject(records[0]) ? records[0]["cf"] : undefined;
  if (!isPlainObject(cf)) throw invalidEvent([`Records[0].cf: expected an object, found ${found(cf)}`]);

  const base = "Records[0].cf";
  const config = cf["config"];
  if (!isPlainObject(config)) problems.push(`${base}.config: expected an object, found ${found(config)}`);
  else {
    if (!CLOUDFRONT_EVENT_TYPES.includes(config["eventType"] as CloudFrontEventType)) {
      problems.push(`${base}.config.eventType: expected one of ${CLOUDFRONT_EVENT_TYPES.join(", ")}, found ${found(config["eventType"])}`);
    }
    for (const key of ["distributionDomainName", "distributionId", "requestId"]) {
      if (typeof config[key] !== "string") problems.push(`${field(`${base}.config`, key)}: expected a string, found ${found(config[key])}`);
    }
  }
  const request = cf["request"];
  if (!isPlainObject(request)) problems.push(`${base}.request: expected an object, found ${found(request)}`);
  else {
    for (const key of ["clientIp", "method", "querystring", "uri"]) {
      if (typeof request[key] !== "string") problems.push(`${field(`${base}.request`, key)}: expected a string, found ${found(request[key])}`);
    }
    if (!isPlainObject(request["headers"])) problems.push(`${base}.request.headers: expected an object, found ${found(request["headers"])}`);
  }
  const response = cf["response"];
  const eventType = isPlainObject(config) ? config["eventType"] : undefined;
  const wantsResponse = eventType === "origin-response" || eventType === "viewer-response";
  if (wantsResponse && !isPlainObject(response)) problems.push(`${base}.response: expected an object at ${String(eventType)}, found ${found(response)}`);
  if (isPlainObject(response)) {
    if (typeof response["status"] !== "string") problems.push(`${base}.response.status: expected a string such as "200", found ${found(response["status"])}`);
    if (!isPlainObject(response["headers"])) problems.push(`${base}.response.headers: expected an object, found ${found(response["headers"])}`);
  }
  if (problems.length > 0) throw invalidEvent(problems);
  const out: CloudFrontRecordData = { config: config as unknown as CloudFrontRecordData["config"], request: request as unknown as CloudFrontRecordData["request"] };
  if (response !== undefined) out.response = response as unknown as CloudFrontResponse;
  return out;
}

/** The event type named in `Records[0].cf.config.eventType`. */
export function getEventType(event: unknown): CloudFrontEventType {
  return getCloudFrontRecord(event).config.eventType;
}

function invalidEvent(problems: string[]): VergeError {
  return new VergeError("ERR_INVALID_EVENT", `invalid CloudFront event:\n${problems.map((p) => `  - ${p}`).join("\n")}`, {
    details: { problems },
  });
}
