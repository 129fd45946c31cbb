/** Lazy part "subtle": crypto.subtle, CryptoKey and crypto.DigestStream. */
export { createSubtle, SubtleCrypto } from "../platform/subtle.ts";
export { CryptoKey } from "../platform/crypto-key.ts";
export { digestStreamClass } from "../platform/digest-stream.ts";
