/**
 * Lazy part "streams": WHATWG streams (web-streams-polyfill) and what is built
 * on them: host-backed body streams, text and compression streams, Workers'
 * IdentityTransformStream and FixedLengthStream. Loaded by the first `.body`,
 * stream global, streaming response or `fetch()` body that needs one.
 */
export * from "../fetch/streams.ts";
export { hostStream } from "../fetch/host-stream.ts";
export { TextEncoderStream, TextDecoderStream } from "../fetch/text-streams.ts";
export { CompressionStream, DecompressionStream } from "../fetch/compression.ts";
export { IdentityTransformStream, FixedLengthStream } from "../fetch/workers-streams.ts";
