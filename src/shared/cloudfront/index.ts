export type {
  CloudFrontBodyEncoding,
  CloudFrontConfig,
  CloudFrontCustomOrigin,
  CloudFrontEvent,
  CloudFrontEventMap,
  CloudFrontEventType,
  CloudFrontGeneratedResponse,
  CloudFrontHeader,
  CloudFrontHeaders,
  CloudFrontOrigin,
  CloudFrontOriginRequestEvent,
  CloudFrontOriginResponseEvent,
  CloudFrontRecordData,
  CloudFrontRequest,
  CloudFrontRequestBody,
  CloudFrontResponse,
  CloudFrontResult,
  CloudFrontResultHeader,
  CloudFrontResultHeaders,
  CloudFrontResultResponse,
  CloudFrontS3Origin,
  CloudFrontViewerRequestEvent,
  CloudFrontViewerResponseEvent,
} from "./types.ts";
export { CLOUDFRONT_EVENT_TYPES } from "./types.ts";
export { keepReadOnlyHeaders } from "./workers-answer.ts";
export { canonicalHeaderKey, cfHeadersToHeaderList, cloneCfHeaders, headerListToCfHeaders } from "./headers.ts";
export { decodeBody, decodedBodyLength, encodeBody, exposeRequestBody, isBase64 } from "./body.ts";
export type { ExposeBodyOptions } from "./body.ts";
export {
  cfRequestToRequestData,
  cfResponseToResponseData,
  requestDataToCfRequest,
  responseDataToCfResponse,
  splitUrl,
} from "./convert.ts";
export type {
  BufferedRequestData,
  BufferedResponseData,
  CfRequestToRequestDataOptions,
  RequestDataToCfRequestOptions,
  ResponseDataToCfResponseOptions,
} from "./convert.ts";
export { buildCloudFrontEvent, createRequestId, getCloudFrontRecord, getEventType } from "./event.ts";
export type { BuildCloudFrontEventOptions } from "./event.ts";
export {
  DISALLOWED_HEADER_PREFIXES,
  DISALLOWED_HEADERS,
  EVENT_DISALLOWED_HEADERS,
  MAX_STATUS,
  MAX_URI_AND_QUERY_LENGTH,
  MIN_STATUS,
  READ_ONLY_HEADERS,
  isDisallowedHeader,
  isHiddenHeader,
  isReadOnlyHeader,
} from "./rules.ts";
export { assertLambdaResult, assertLambdaResultOf, validateLambdaResult, validateLambdaResultOf } from "./validate.ts";
export type { LambdaResultValidation, ValidateLambdaResultOptions } from "./validate.ts";
