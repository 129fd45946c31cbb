import { test } from "node:test";
import assert from "node:assert/strict";
import type { HeaderList } from "../../shared/http.ts";
import { listReader, varyMatches, varyValues } from "./vary.ts";

test("listReader reads a header list as Headers.get does: lines joined with ', ', values trimmed, null when absent", () => {
  const lines: HeaderList = [["accept-encoding", " gzip\t"], ["accept", "text/html"], ["accept-encoding", "br"], ["x-empty", ""], ["x-nbsp", "\u00a0a\u00a0"]];
  const headers = new Headers();
  for (const [n, v] of lines) headers.append(n, v);
  const reader = listReader(lines);
  for (const name of ["accept-encoding", "accept", "x-empty", "x-nbsp", "cookie"]) assert.equal(reader.get(name), headers.get(name), name);
  assert.deepEqual(varyValues(reader, ["accept", "accept-encoding"]), varyValues(headers, ["accept", "accept-encoding"]));
  assert.equal(varyMatches(reader, [], []), true);
  assert.equal(varyMatches(reader, ["*"], [null]), false);
  assert.equal(varyMatches(reader, ["accept-encoding"], ["gzip,br"]), true);
});
