/** The edge node's request pipeline: one viewer request through functions, cache and origin. */
export { createPipeline } from "./pipeline.ts";
export type { EdgePipeline } from "./pipeline.ts";
export type { PipelineOptions, InvocationNote } from "./flow.ts";
export { createOriginFetcher, originError, enforceContentLength } from "./origin.ts";
export type { FetchOrigin, OriginFetchInit, OriginFetcherOptions } from "./origin.ts";
export { inspectRequest, normalizePath, MAX_HEADER_BYTES } from "./hardening.ts";
export { statusFor } from "./errors.ts";
export { cachesFor, distributionScope } from "./caches.ts";
export type { ServiceScope } from "./services.ts";
