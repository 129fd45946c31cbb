/**
 * A Workers handler's `Response` at origin-response or viewer-response, read
 * as a Lambda@Edge result (DESIGN.md §3: any dialect at any event). Used by the
 * edge pipeline (src/pipeline/events.ts) and by the runtime's `event()` (the
 * harness's `dispatchEvent`), so both read an answer the same way.
 *
 * A `Response` cannot tell a header it removed from one it did not copy: a
 * read-only header the event showed and the answer leaves out keeps its value
 * (adding or changing one is still invalid, as for Lambda@Edge).
 */
import type { HeaderList } from "../http.ts";
import type { CloudFrontHeaders } from "./types.ts";
import { isReadOnlyHeader } from "./rules.ts";

export function keepReadOnlyHeaders(eventType: "origin-response" | "viewer-response", shown: CloudFrontHeaders, answer: HeaderList): HeaderList {
  let headers = answer;
  for (const [name, entries] of Object.entries(shown)) {
    if (!isReadOnlyHeader(name, eventType) || headers.some(([n]) => n === name)) continue;
    headers = [...headers, ...entries.map((e): [string, string] => [name, e.value])];
  }
  return headers;
}
