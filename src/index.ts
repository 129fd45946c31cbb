/**
 * verge's public API: the Miniflare-shaped harness, config helpers, error classes and types.
 */
export { Verge, failureReport } from "./harness/index.ts";
export type { VergeOptions, ModuleDefinition, DistributionOptions, LogSource, AssetsOptions } from "./harness/index.ts";
export type { D1Database, D1PreparedStatement, D1Result } from "./harness/index.ts";
export type { KVNamespace, R2Bucket, VergeWebSocket, WebSocketResponse } from "./harness/index.ts";
export { cloudFrontEvent, originRequestEvent, originResponseEvent, viewerRequestEvent, viewerResponseEvent } from "./harness/index.ts";
export type { EventFixtureOptions } from "./harness/index.ts";
export { VergeError, isUserError, hasCode } from "./shared/errors.ts";
export type { VergeErrorCode, RuntimeErrorCode, SerializedError } from "./shared/errors.ts";
export { defaultLimits, resolveLimits, validateLimits } from "./shared/limits.ts";
export type { Limits, LimitsOptions, LimitsProfile, CloudFrontEventType } from "./shared/limits.ts";
export type { LimitReport, LogEntry } from "./runtime/report.ts";
export type { InvocationReport } from "./runtime/invocation.ts";
export type { CloudFrontEvent, CloudFrontRequest, CloudFrontResponse } from "./shared/cloudfront/index.ts";
