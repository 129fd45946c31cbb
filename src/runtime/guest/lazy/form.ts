/** Lazy part "form": Blob, File, FormData and the multipart and urlencoded codecs. */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { Blob, File, blobBytes, blobFrom } from "../fetch/blob.ts";
export { FormData } from "../fetch/form-data.ts";
export { mimeEssence, mimeParam, parseMultipart, parseUrlEncoded, serializeMultipart } from "../fetch/multipart.ts";
