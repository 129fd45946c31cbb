/**
 * A Lambda@Edge handler written for Node (CommonJS, `require("querystring")`,
 * `Buffer`), as AWS's examples are, built the way a user builds it: `verge
 * build` refuses it with a reason that names the flag, and `verge build
 * --node-compat` bundles the built-ins; the bundle then runs at origin-request
 * in front of a real origin.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Verge } from "../../src/index.ts";
import { startOrigin } from "../../src/pipeline/testing-edge.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const HANDLER = fileURLToPath(new URL("../fixtures/lambda-edge/node-querystring.js", import.meta.url));

function verge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, ...args], (err, stdout, stderr) => resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr }));
  });
}

test("verge build --node-compat: a Node-style Lambda@Edge handler bundles querystring and Buffer, and runs at origin-request", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-lae-node-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "handler.js");

  const refused = await verge(["build", HANDLER, "--outfile", out]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /"querystring" is no installed package but Node's built-in: node:querystring needs .*--node-compat with an entry/);

  const built = await verge(["build", HANDLER, "--outfile", out, "--node-compat"]);
  assert.equal(built.code, 0, built.stderr);
  const seen: Array<{ url: string; dropped: string }> = [];
  const o = await startOrigin((req, res) => {
    seen.push({ url: req.url ?? "", dropped: String(req.headers["x-dropped"] ?? "") });
    res.writeHead(200, { "cache-control": "max-age=60" });
    res.end("ok");
  });
  t.after(() => o.close());
  const v = new Verge({ script: readFileSync(out, "utf8"), event: "origin-request", upstream: o.url });
  t.after(() => v.dispose());
  const res = await v.dispatchFetch("http://shop.example/shirt?Size=M&utm_source=mail&color=red&ref=x");
  assert.equal(res.status, 200, res.headers.get("x-verge-error") ?? "");
  assert.deepEqual(seen, [{ url: "/shirt?color=red&size=M", dropped: Buffer.from("ref,utm_source").toString("base64") }]);
});
