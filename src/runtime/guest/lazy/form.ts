/** Lazy part "form": Blob, File, FormData and the multipart and urlencoded codecs. */
export { Blob, File, blobBytes, blobFrom } from "../fetch/blob.ts";
export { FormData } from "../fetch/form-data.ts";
export { mimeEssence, mimeParam, parseMultipart, parseUrlEncoded, serializeMultipart } from "../fetch/multipart.ts";
