/**
 * The CloudFront Lambda@Edge event, typed after the AWS developer guide
 * ("Lambda@Edge event structure", "Generating HTTP responses in request triggers").
 *
 * One event carries one record. Request events (viewer-request, origin-request)
 * hold `config` and `request`; response events (origin-response, viewer-response)
 * also hold `response`. Origin events carry `request.origin`.
 */
import type { CloudFrontEventType } from "../limits.ts";

export type { CloudFrontEventType };

export const CLOUDFRONT_EVENT_TYPES: readonly CloudFrontEventType[] = [
  "viewer-request",
  "origin-request",
  "origin-response",
  "viewer-response",
];

/** One header line as CloudFront exposes it: `key` keeps the case the sender used. */
export interface CloudFrontHeader {
  key: string;
  value: string;
}

/**
 * Header name in lowercase -> every value of that header, in order.
 * `headers["set-cookie"]` has one element per `Set-Cookie` line.
 */
export type CloudFrontHeaders = Record<string, CloudFrontHeader[]>;

/** A header line in a function's result: `key` may be left out. */
export interface CloudFrontResultHeader {
  key?: string;
  value: string;
}

export type CloudFrontResultHeaders = Record<string, CloudFrontResultHeader[]>;

export interface CloudFrontConfig {
  distributionDomainName: string;
  distributionId: string;
  eventType: CloudFrontEventType;
  requestId: string;
}

export type CloudFrontBodyEncoding = "base64" | "text";

/** Present on request events only when the association has "include body". */
export interface CloudFrontRequestBody {
  /** True when CloudFront cut the body at the exposed-body quota (40 KB viewer, 1 MB origin). */
  inputTruncated: boolean;
  /** "read-only" as exposed; a function sets "replace" to send `data` on instead of the original body. */
  action: "read-only" | "replace";
  /** Always "base64" as exposed; a replacement may use "text". */
  encoding: CloudFrontBodyEncoding;
  data: string;
}

export interface CloudFrontCustomOrigin {
  customHeaders: CloudFrontHeaders;
  domainName: string;
  /** Seconds, 1-60. */
  keepaliveTimeout: number;
  /** Starts with "/" and has no trailing "/", or is "". */
  path: string;
  /** 80, 443, or 1024-65535. */
  port: number;
  protocol: "http" | "https";
  /** Seconds, 4-60. */
  readTimeout: number;
  sslProtocols: string[];
}

export interface CloudFrontS3Origin {
  authMethod: "origin-access-identity" | "none";
  customHeaders: CloudFrontHeaders;
  domainName: string;
  path: string;
  region: string;
}

/** Exactly one of `custom` or `s3`. */
export type CloudFrontOrigin =
  | { custom: CloudFrontCustomOrigin; s3?: never }
  | { s3: CloudFrontS3Origin; custom?: never };

export interface CloudFrontRequest {
  clientIp: string;
  headers: CloudFrontHeaders;
  method: string;
  /** Raw query string without the leading "?"; "" when there is none. */
  querystring: string;
  /** Path of the request, starting with "/". */
  uri: string;
  body?: CloudFrontRequestBody;
  origin?: CloudFrontOrigin;
}

/** The response as exposed to origin-response and viewer-response functions (no body). */
export interface CloudFrontResponse {
  /** The status code as a decimal string, e.g. "200". */
  status: string;
  statusDescription: string;
  headers: CloudFrontHeaders;
}

/**
 * A response as a function may return it: only `status` is required.
 * A body without `bodyEncoding` is text.
 */
export interface CloudFrontResultResponse {
  status: string | number;
  statusDescription?: string;
  headers?: CloudFrontResultHeaders;
  body?: string;
  bodyEncoding?: CloudFrontBodyEncoding;
}

/** A response with every field filled in: what the validator and the converters hand back. */
export interface CloudFrontGeneratedResponse {
  status: string;
  statusDescription: string;
  headers: CloudFrontHeaders;
  body?: string;
  bodyEncoding?: CloudFrontBodyEncoding;
}

interface CloudFrontConfigOf<T extends CloudFrontEventType> extends CloudFrontConfig {
  eventType: T;
}

// Fields an event type never has are typed `?: undefined`, not left out, so code
// holding any event (the `CloudFrontEvent` union) can still read them.

export interface CloudFrontViewerRequestEvent {
  Records: [
    {
      cf: {
        config: CloudFrontConfigOf<"viewer-request">;
        request: CloudFrontRequest & { origin?: undefined };
        response?: undefined;
      };
    },
  ];
}

export interface CloudFrontOriginRequestEvent {
  Records: [
    {
      cf: {
        config: CloudFrontConfigOf<"origin-request">;
        request: CloudFrontRequest & { origin: CloudFrontOrigin };
        response?: undefined;
      };
    },
  ];
}

export interface CloudFrontOriginResponseEvent {
  Records: [
    {
      cf: {
        config: CloudFrontConfigOf<"origin-response">;
        request: CloudFrontRequest & { body?: undefined; origin: CloudFrontOrigin };
        response: CloudFrontResponse;
      };
    },
  ];
}

export interface CloudFrontViewerResponseEvent {
  Records: [
    {
      cf: {
        config: CloudFrontConfigOf<"viewer-response">;
        request: CloudFrontRequest & { body?: undefined; origin?: undefined };
        response: CloudFrontResponse;
      };
    },
  ];
}

export interface CloudFrontEventMap {
  "viewer-request": CloudFrontViewerRequestEvent;
  "origin-request": CloudFrontOriginRequestEvent;
  "origin-response": CloudFrontOriginResponseEvent;
  "viewer-response": CloudFrontViewerResponseEvent;
}

/** Any of the four events. */
export type CloudFrontEvent = CloudFrontEventMap[CloudFrontEventType];

/** `Records[0].cf` of any event, with every optional part optional. */
export interface CloudFrontRecordData {
  config: CloudFrontConfig;
  request: CloudFrontRequest;
  response?: CloudFrontResponse;
}

/** What a Lambda@Edge handler may resolve with, before validation. */
export type CloudFrontResult = CloudFrontRequest | CloudFrontResultResponse;
