/** Request bodies with a size cap: JSON documents and raw bundles. */
import type { Context } from "hono";
import { originError } from "./errors.ts";

export const MAX_JSON_BYTES = 1024 * 1024;
/** A function's config with a static assets manifest (up to 20,000 files) may be larger. */
export const MAX_CONFIG_JSON_BYTES = 8 * 1024 * 1024;

/** Reads at most `max` bytes; more is refused with `code` (413) before it is all buffered. */
export async function readBody(c: Context, max: number, code: "ERR_BODY_TOO_LARGE" | "ERR_BUNDLE_TOO_LARGE", what: string): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (declared > max) throw originError(code, `${what} is ${declared} bytes; the limit is ${max} bytes`);
  const body = c.req.raw.body;
  if (body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw originError(code, `${what} is over the limit of ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; malformed JSON is ERR_INVALID_JSON with the parser's position. */
export async function readJson(c: Context, max = MAX_JSON_BYTES): Promise<unknown> {
  const bytes = await readBody(c, max, "ERR_BODY_TOO_LARGE", "the JSON body");
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") throw originError("ERR_INVALID_JSON", "expected a JSON body, found an empty body");
  try {
    return JSON.parse(text);
  } catch (err) {
    // The parser's message can quote the body (maybe a secret): keep only the position.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw originError("ERR_INVALID_JSON", `the request body is not valid JSON${at === undefined ? "" : ` (at character ${at})`}: expected a JSON document`);
  }
}
