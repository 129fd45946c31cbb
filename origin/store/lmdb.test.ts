/**
 * The LMDB store at shutdown: a request handler still running when the server
 * closes (its socket gone, an await pending) may touch the store after close()
 * began. lmdb-js lets such a read start while close() waits for pending writes,
 * then throws from its read-txn reset timer, an uncaught exception that took
 * down the process (and failed whichever test was running).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLmdbStore } from "./lmdb.ts";
import { startTestOrigin } from "../testing/harness.ts";

test("once close() began, reads and writes fail with ERR_INTERNAL instead of reaching the closing environment", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-origin-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openLmdbStore({ path: dir });
  const pending = store.write((tx) => tx.put("meta", "a", 1));
  const closing = store.close();
  assert.throws(() => store.read((tx) => tx.get("meta", "a")), { code: "ERR_INTERNAL" });
  await assert.rejects(store.write((tx) => tx.put("meta", "b", 2)), { code: "ERR_INTERNAL" });
  await pending;
  await closing;
});

test("closing the registry with requests in flight throws nothing uncaught", async () => {
  // Uncaught exceptions fail this test (node:test attributes them to it). Reports write then
  // read; long polls wake on close; each round closes at a different point of their work.
  for (let round = 0; round < 15; round++) {
    const origin = await startTestOrigin();
    const token = await origin.token(null, ["node"]);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const inFlight: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) {
      inFlight.push(fetch(`${origin.url}/v1/nodes/n${i}/report`, { method: "POST", headers, body: JSON.stringify({ appliedSeq: 0, staleSeconds: 0 }) }).then((r) => r.text(), () => {}));
      inFlight.push(fetch(`${origin.url}/v1/feed?since=0&wait=5`, { headers }).then((r) => r.text(), () => {}));
    }
    await new Promise((resolve) => setImmediate(resolve));
    if (round % 2 === 1) await new Promise((resolve) => setTimeout(resolve, round));
    await origin.close();
    await Promise.all(inFlight);
  }
});
