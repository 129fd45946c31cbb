import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const verge = (...args: string[]) => spawnSync(process.execPath, ["--no-node-snapshot", MAIN, ...args], { encoding: "utf8" });

test("verge bench: an unknown benchmark is a usage error naming the known ones; --help lists them", () => {
  const bad = verge("bench", "nope");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown benchmark "nope"; expected one of cold-start, warm-dispatch, density, registry, fleet, functions, edge, profile/);
  const help = verge("bench", "--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Names: cold-start, warm-dispatch/);
  assert.match(verge("--help").stdout, /bench {5}run the benchmarks/);
});
