/**
 * `verge dev --strict-lambda-edge`: a Lambda@Edge handler runs under the
 * Lambda@Edge profile (viewer-request: 5 s, 40 KB generated response), the
 * x-verge-limits header reports usage against those budgets, and output to
 * a pipe carries no colour codes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";

const HANDLER = `export const handler = async (event: any) => {
  const request = event.Records[0].cf.request;
  const size = Number(new URLSearchParams(request.querystring).get("size") ?? "2");
  console.log("viewer-request for " + request.uri);
  return { status: "200", headers: { "content-type": [{ key: "Content-Type", value: "text/plain" }] }, body: "x".repeat(size) };
};
`;

test("verge dev --strict-lambda-edge: Lambda@Edge limits, limit header, no colour on a pipe", { timeout: 30_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-limits-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "edge.ts"), HANDLER);
  const dev = await startDev(t, ["edge.ts", "--strict-lambda-edge"], dir, { NO_COLOR: "" });
  assert.match(dev.output(), /limits\s+lambda-edge: cpu 5000 ms, wall 5000 ms, memory 128 MB/);

  const ok = await fetch(`${dev.url}page?size=5`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "xxxxx");
  assert.match(ok.headers.get("x-verge-limits")!, /^cpu=[\d.]+\/5000ms; wall=[\d.]+\/5000ms; heap=[\d.]+\/128MB; subrequests=0\/50$/);
  const id = ok.headers.get("x-verge-request-id")!;
  await dev.waitFor(`[${id}] GET /page?size=5 200`);
  assert.match(dev.output(), new RegExp(`\\[${id}\\] log viewer-request for /page`));

  // Over Lambda@Edge's 40 KB for a response generated at viewer-request.
  const big = await fetch(`${dev.url}page?size=${50 * 1024}`);
  assert.equal(big.status, 502);
  assert.match(big.headers.get("x-verge-error")!, /^ERR_/);
  assert.ok(big.headers.get("x-verge-limits"));
  await big.text();
  assert.ok(!dev.output().includes("\x1b["), "no colour codes when stdout is not a TTY");
});
