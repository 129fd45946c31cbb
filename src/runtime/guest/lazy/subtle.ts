/** Lazy part "subtle": crypto.subtle, CryptoKey and crypto.DigestStream. */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { createSubtle, SubtleCrypto } from "../platform/subtle.ts";
export { CryptoKey } from "../platform/crypto-key.ts";
export { digestStreamClass } from "../platform/digest-stream.ts";
