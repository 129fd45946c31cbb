/**
 * Connections the primary hands to a worker that dies before taking them
 * (node:cluster round-robin): the client must see its connection closed, not
 * wait for ever, and the next connections must reach the replacement.
 *
 * The stuck worker: `/hang` blocks its main thread after writing the crash
 * marker, so the test knows when it is blocked. A connection opened then is
 * handed to it by the primary (it was idle, so first in line) and never taken;
 * the hang watch kills the worker.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get, poll, startSupervised } from "./testing/harness.ts";

const root = mkdtempSync(join(tmpdir(), "verge-handoff-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

const FN = `acme/stuck/${"d".repeat(64)}`;

/** A fixed port: with port 0, cluster picks a new one when its only worker is down. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A GET that settles with what happened to it: an answer, a closed connection, or nothing within `ms`. */
function outcome(port: number, path: string, ms: number): Promise<{ kind: "answer"; status: number } | { kind: "closed"; code: string } | { kind: "hung" }> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ kind: "answer", status: res.statusCode ?? 0 }));
      res.on("error", (err: NodeJS.ErrnoException) => resolve({ kind: "closed", code: err.code ?? err.message }));
    });
    const timer = setTimeout(() => {
      resolve({ kind: "hung" });
      req.destroy();
    }, ms);
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ kind: "closed", code: err.code ?? err.message });
    });
    req.on("close", () => clearTimeout(timer));
  });
}

test("a connection handed to a worker that dies before taking it is closed, not left hanging; the replacement serves", { timeout: 60_000 }, async (t) => {
  const dataDir = join(root, "hang");
  const sup = await startSupervised({ dataDir, workers: 1, hangTimeoutMs: 1_000, workerArgs: [`--port=${await freePort()}`] }, (fn) => t.after(fn));
  const marker = join(dataDir, "workers", "0.marker");
  const first = (await get(sup.port, "/pid")).body.pid;

  const stuck = outcome(sup.port, `/hang?id=${FN}`, 20_000);
  await poll("the worker to be blocked in /hang", async () => (readFileSync(marker, "utf8").startsWith(FN) ? true : undefined));
  // Opened while the only worker is blocked: the primary hands it over and waits for an ack that never comes.
  const queued = outcome(sup.port, "/pid", 15_000);

  const exit = await sup.waitFor((l) => l.event === "worker-exit", 15_000);
  assert.equal(exit.hung, true);
  assert.deepEqual(await stuck, { kind: "closed", code: "ECONNRESET" }, "the request on the killed worker loses its connection");
  const q = await queued;
  assert.notEqual(q.kind, "hung", "the connection handed to the dying worker was left open with no answer");
  assert.equal(q.kind, "closed");
  const closed = await sup.waitFor((l) => l.event === "worker-connections-closed", 5_000);
  assert.equal(closed.count, 1);
  assert.equal(closed.pid, exit.pid);
  await sup.waitFor((l) => l.event === "worker-ready" && l.pid !== first, 15_000);
  for (let i = 0; i < 5; i++) {
    const a = await get(sup.port, "/pid");
    assert.equal(a.status, 200);
    assert.notEqual(a.body.pid, first);
  }
  sup.kill("SIGTERM");
  assert.equal((await sup.exited).code, 0);
});
