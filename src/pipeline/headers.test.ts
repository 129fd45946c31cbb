import { test } from "node:test";
import assert from "node:assert/strict";
import type { HeaderList } from "../shared/http.ts";
import { appendVia, deleteHeader, normalizeAcceptEncoding, setHeader, stripHopByHop, viaEntry, viewerHeaders, withNormalizedEncoding } from "./headers.ts";

/** What the viewer got before viewerHeaders did it in one pass. */
function stepByStep(list: HeaderList, cache: string | null, requestId: string, nodeId: string): HeaderList {
  let headers = deleteHeader(stripHopByHop(list), "x-verge-cache");
  if (cache !== null) headers.push(["x-verge-cache", cache]);
  headers = setHeader(headers, "x-verge-request-id", requestId);
  return appendVia(headers, nodeId);
}

test("viewerHeaders drops hop-by-hop lines and replaces x-verge-cache, x-verge-request-id and Via, as the separate steps do", () => {
  const cases: HeaderList[] = [
    [],
    [["content-type", "text/plain"], ["age", "3"]],
    [["connection", "close, X-Secret"], ["x-secret", "1"], ["keep-alive", "timeout=5"], ["proxy-authenticate", "Basic"], ["transfer-encoding", "chunked"], ["etag", '"a"']],
    [["via", "1.1 origin"], ["x-verge-cache", "Miss"], ["set-cookie", "a=1"], ["via", " "], ["set-cookie", "b=2"], ["via", "1.0 cdn "], ["x-verge-request-id", "old"]],
  ];
  for (const list of cases) {
    for (const cache of ["Hit", null]) {
      assert.deepEqual(viewerHeaders(list, cache, "rid", viaEntry("edge-1")), stepByStep(list, cache, "rid", "edge-1"), JSON.stringify(list));
    }
  }
  assert.deepEqual(viewerHeaders([["via", "1.1 origin"]], "Hit", "rid", viaEntry("n")), [["x-verge-cache", "Hit"], ["x-verge-request-id", "rid"], ["via", "1.1 origin, 1.1 n (verge)"]]);
});

test("normalizeAcceptEncoding: br and gzip as CloudFront normalises them; q=0 refuses, * accepts what it does not name", () => {
  const cases: Array<[string, string | null]> = [
    ["gzip, deflate, br, zstd", "br,gzip"],
    ["br, gzip", "br,gzip"],
    ["GZIP", "gzip"],
    ["x-gzip", "gzip"],
    ["br;q=0.5, gzip;q=0", "br"],
    ["deflate, identity", null],
    ["", null],
    ["*", "br,gzip"],
    ["*;q=0.1, br;q=0", "gzip"],
    ["gzip;q=0, *", "br"],
    ["gzip; q=1.0, identity; q=0.5, *;q=0", "gzip"],
  ];
  for (const [value, want] of cases) assert.equal(normalizeAcceptEncoding(value), want, value);
  const list: HeaderList = [["host", "a"], ["accept-encoding", "gzip"]];
  assert.equal(withNormalizedEncoding(list), list, "already normalised: the same list");
  assert.deepEqual(withNormalizedEncoding([["accept-encoding", "deflate"], ["x", "1"]]), [["x", "1"]]);
  assert.deepEqual(withNormalizedEncoding([["accept-encoding", "gzip"], ["accept-encoding", "br"]]), [["accept-encoding", "br,gzip"]]);
});
