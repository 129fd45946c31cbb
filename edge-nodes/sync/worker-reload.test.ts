/**
 * A worker process's applied state follows its primary (issue 4/6: a node
 * reported a deploy applied while its worker kept serving the previous version).
 *
 * - Over a real LMDB environment: another process commits a new state while this
 *   process still holds a read snapshot from just before (a request read
 *   something in the same timer tick); `reload(seq)` must read the new state.
 *   The other process's commit runs inside spawnSync, so no timer can end the
 *   snapshot meanwhile: without `store.refresh()` in reload this fails every time.
 * - followPrimaryState over a fake: re-reads until the message's seq is there,
 *   gives up (logged) after its delays, and the periodic check re-reads.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openEdgeStore } from "../store/index.ts";
import { emptySnapshot } from "./applied-state.ts";
import { readMark, writeApplied } from "./persist.ts";
import { createSync } from "./sync.ts";
import { followPrimaryState, type ReloadableState } from "./worker-reload.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-worker-reload-"));
const store = openEdgeStore({ path: dir });
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the applied state at `seq` from another process (the primary's role), synchronously. */
function commitFromAnotherProcess(seq: number): void {
  const persist = fileURLToPath(new URL("./persist.ts", import.meta.url));
  const storeIndex = fileURLToPath(new URL("../store/index.ts", import.meta.url));
  const applied = fileURLToPath(new URL("./applied-state.ts", import.meta.url));
  const code = `
    const { openEdgeStore } = await import(${JSON.stringify(storeIndex)});
    const { writeApplied } = await import(${JSON.stringify(persist)});
    const { emptySnapshot } = await import(${JSON.stringify(applied)});
    const store = openEdgeStore({ path: ${JSON.stringify(dir)} });
    await writeApplied(store, { ...emptySnapshot(), seq: ${seq} });
    await store.close();`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, `writer process: ${r.stderr}`);
}

test("reload(seq) reads a state another process committed while this process held an older read snapshot", async () => {
  await writeApplied(store, { ...emptySnapshot(), seq: 1 });
  const worker = createSync({ store, registry: { url: "http://127.0.0.1:9", token: "t" }, nodeId: "worker", follow: false, fetch: async () => new Response(null, { status: 599 }) });
  await worker.start();
  assert.equal(worker.current().seq, 1);
  for (const seq of [2, 3, 4]) {
    // A read in this tick (a request looking something up) takes the snapshot...
    assert.equal(readMark(store)?.seq, seq - 1);
    // ...then the primary commits the next state and tells the worker, before any timer runs here.
    commitFromAnotherProcess(seq);
    assert.equal(worker.reload(seq), true, `reload(${seq}) says the worker caught up`);
    assert.equal(worker.current().seq, seq, "the worker serves the state its primary applied");
  }
  await worker.close();
});

/** A fake worker state whose reads lag: the first `lag` reloads read nothing new. */
function lagging(lag: number, target: number) {
  let seq = 1;
  let calls = 0;
  const sync: ReloadableState = {
    current: () => ({ seq }),
    reload(want) {
      calls++;
      if (calls > lag) seq = target;
      return want === undefined || seq >= want;
    },
  };
  return { sync, calls: () => calls };
}

const until = async (what: string, probe: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test("followPrimaryState: a reload message re-reads until the state has its seq, and logs that it had to", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const fake = lagging(3, 7);
  const follow = followPrimaryState(fake.sync, { log: (l) => void lines.push(l), retryDelaysMs: [1, 1, 1, 1, 1] });
  follow.reload(7);
  await until("caught up", () => fake.sync.current().seq === 7 && lines.length > 0);
  assert.equal(fake.calls(), 4, "the first read and three re-reads");
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]!.msg), /behind the primary's reload message; caught up/);
  assert.deepEqual([lines[0]!.seq, lines[0]!.rereads], [7, 3]);
  follow.stop();
});

test("followPrimaryState: no re-read when the first read has the seq; gives up (logged) after its delays", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const ok = lagging(0, 5);
  const a = followPrimaryState(ok.sync, { log: (l) => void lines.push(l), retryDelaysMs: [1] });
  a.reload(5);
  assert.equal(ok.calls(), 1);
  assert.equal(lines.length, 0, "no re-read, nothing logged");

  const stuck = lagging(1_000, 9);
  const b = followPrimaryState(stuck.sync, { log: (l) => void lines.push(l), retryDelaysMs: [1, 1] });
  b.reload(9);
  await until("gave up", () => lines.length === 1);
  assert.equal(stuck.calls(), 3);
  assert.equal(lines[0]!.level, "error");
  assert.deepEqual([lines[0]!.seq, lines[0]!.have], [9, 1]);
  // A newer message while retrying raises the seq waited for.
  const later = lagging(2, 12);
  const c = followPrimaryState(later.sync, { log: (l) => void lines.push(l), retryDelaysMs: [5, 5, 5] });
  c.reload(10);
  c.reload(12);
  await until("caught up with the newer seq", () => lines.length === 2);
  assert.equal(lines[1]!.seq, 12);
  a.stop();
  b.stop();
  c.stop();
});

test("followPrimaryState: the periodic check re-reads when the primary's seq differs, and logs a state it found", () => {
  const lines: Array<Record<string, unknown>> = [];
  const fake = lagging(0, 4);
  const follow = followPrimaryState(fake.sync, { log: (l) => void lines.push(l) });
  follow.check(1);
  assert.equal(fake.calls(), 0, "same seq: no read");
  follow.check(4);
  assert.equal(fake.sync.current().seq, 4);
  assert.equal(lines.length, 1);
  assert.match(String(lines[0]!.msg), /periodic check found a state/);
  follow.check(4);
  assert.equal(fake.calls(), 1);
  follow.stop();
});
