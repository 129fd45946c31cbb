/**
 * The conformance suite against its other targets (CONVENTIONS.md: one suite,
 * the harness and a real edge node): every conformance file that runs its
 * snippets through `evalGuest` runs again, in a child `node --test`, with
 * VERGE_CONFORMANCE_TARGET=harness (the public Verge class, child-process host)
 * and =edge (a registry and an edge node: each snippet a published version of a
 * Workers function at viewer-request, requested over HTTP). The default run of
 * those files (this same `npm test`) is the in-process runtime target.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const DIR = dirname(fileURLToPath(import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".test.ts") && f !== "targets.test.ts")
  .filter((f) => readFileSync(join(DIR, f), "utf8").includes("evalGuest("))
  .sort()
  .map((f) => join(DIR, f));

function runSuite(target: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", "--test", "--test-concurrency=2", "--test-reporter=spec", ...FILES], {
      env: { ...process.env, VERGE_CONFORMANCE_TARGET: target, NODE_TEST_CONTEXT: undefined },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

test("the suite covers the conformance files", () => {
  assert.ok(FILES.length >= 12, `found ${FILES.length} conformance files using evalGuest`);
});

for (const target of ["harness", "edge"]) {
  test(`conformance suite on target ${target}: every test passes`, { timeout: 300_000 }, async () => {
    const { code, out } = await runSuite(target);
    const failing = out.includes("failing tests:") ? out.slice(out.indexOf("failing tests:")) : out.slice(-4000);
    assert.equal(code, 0, `conformance on ${target} failed:\n${failing.slice(0, 6000)}`);
    const passed = /ℹ pass (\d+)/.exec(out);
    assert.ok(passed !== null && Number(passed[1]) > 100, `expected over 100 passing tests on ${target}, found ${passed?.[1]}`);
  });
}
