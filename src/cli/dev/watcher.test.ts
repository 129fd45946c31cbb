import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGraphWatcher } from "./watcher.ts";

test("after a failed build, a new source file in the graph's directory triggers a rebuild; a log or an editor's swap file does not", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-watch-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.ts"), "import './missing';\n");
  const bursts: string[][] = [];
  const watcher = createGraphWatcher((files) => bursts.push(files.map((f) => f.slice(dir.length + 1))), 30);
  t.after(() => watcher.close());
  watcher.update([join(dir, "index.ts")], true);
  const settle = () => new Promise((r) => setTimeout(r, 250));
  await settle();
  for (const name of ["dev.log", ".index.ts.swp", "index.ts~", ".#index.ts", "4913"]) writeFileSync(join(dir, name), "x");
  await settle();
  assert.deepEqual(bursts, [], "nothing a build reads");
  writeFileSync(join(dir, "missing.ts"), "export {};\n");
  await settle();
  assert.deepEqual(bursts, [["missing.ts"]]);
});
