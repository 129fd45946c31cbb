/**
 * A worker process's applied state follows its primary (issue 4/6: a node
 * reported a deploy applied while its worker kept serving the previous version).
 *
 * - Over a real LMDB environment: another process commits a new state while this
 *   process holds a read snapshot from just before (a request read something in
 *   the same timer tick). The commit runs inside spawnSync, so no timer can end
 *   the snapshot meanwhile: the read right after the reload message is behind
 *   (the cause, every time), and followPrimaryState must still bring the state.
 *   With a single read per message (the code before the fix) it never does.
 * - followPrimaryState over a fake: re-reads until the message's seq is there,
 *   logs only past the expected re-reads, gives up (logged) after its delays, and
 *   the periodic check re-reads.
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

/** Polls `probe` every 2 ms until true, or fails after `ms`. */
const until = async (what: string, probe: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test("a reload message brings the state another process committed while this process held an older read snapshot", async () => {
  await writeApplied(store, { ...emptySnapshot(), seq: 1 });
  const worker = createSync({ store, registry: { url: "http://127.0.0.1:9", token: "t" }, nodeId: "worker", follow: false, fetch: async () => new Response(null, { status: 599 }) });
  await worker.start();
  assert.equal(worker.current().seq, 1);
  const lines: Array<Record<string, unknown>> = [];
  const follow = followPrimaryState(worker, { log: (l) => void lines.push(l) });
  for (const seq of [2, 3, 4]) {
    // A read in this tick (a request looking something up) takes the snapshot...
    assert.equal(readMark(store)?.seq, seq - 1);
    // ...then the primary commits the next state and tells the worker, before any timer runs here.
    commitFromAnotherProcess(seq);
    follow.reload(seq);
    assert.equal(worker.current().seq, seq - 1, "the read right after the message is still behind (lmdb-js's snapshot): the case this guards");
    await until(`the worker at seq ${seq}`, () => worker.current().seq === seq);
  }
  assert.ok(follow.rereads() >= 3, `re-read after each message (${follow.rereads()})`);
  assert.equal(lines.length, 0, `within the quiet re-reads: ${JSON.stringify(lines)}`);
  follow.stop();
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

test("followPrimaryState: a reload message re-reads until the state has its seq; past two re-reads it says so", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const quick = lagging(2, 5);
  const a = followPrimaryState(quick.sync, { log: (l) => void lines.push(l), retryDelaysMs: [1, 1, 1, 1, 1] });
  a.reload(5);
  await until("caught up", () => quick.sync.current().seq === 5);
  assert.equal(quick.calls(), 3, "the first read and two re-reads");
  assert.equal(a.rereads(), 2);
  assert.equal(lines.length, 0, "two re-reads are the expected cost: not logged");

  const slow = lagging(4, 7);
  const b = followPrimaryState(slow.sync, { log: (l) => void lines.push(l), retryDelaysMs: [1, 1, 1, 1, 1] });
  b.reload(7);
  await until("caught up", () => slow.sync.current().seq === 7 && lines.length > 0);
  assert.equal(slow.calls(), 5, "the first read and four re-reads");
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, "warn");
  assert.match(String(lines[0]!.msg), /behind the primary's reload message; caught up/);
  assert.deepEqual([lines[0]!.seq, lines[0]!.rereads], [7, 4]);
  a.stop();
  b.stop();
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
  await until("caught up with the newer seq", () => later.sync.current().seq === 12 && c.rereads() === 2);
  assert.equal(later.calls(), 3, "one retry sequence serves both messages");
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
