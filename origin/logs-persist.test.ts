/**
 * `verge logs` across a registry restart: the rings are kept in the store's
 * `logs` table (log-store.ts). A registry closed by its real close path and
 * started again on the same data directory lists the same events in the same
 * order, per tenant; the bounds (count and console text) hold on disk too;
 * stored entries that cannot be read are skipped with a log line and the rest
 * load; new events continue after the stored ones. (A kill -9 is in
 * crash.test.ts.)
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import type { LogEvent, LogList } from "../src/shared/protocol.ts";
import { createLogHub } from "./logs.ts";
import { openLmdbStore } from "./store/lmdb.ts";
import type { Store } from "./store/store.ts";
import { startTestOrigin, type TestOrigin } from "./testing/harness.ts";
import { invocation, logBatch, logEvent } from "./testing/log-events.ts";

interface Tokens {
  acme: string;
  beta: string;
  node: string;
}

async function setUp(dataDir: string, ringSize: number): Promise<{ origin: TestOrigin; tokens: Tokens }> {
  const origin = await startTestOrigin({ keepDir: true, logRingSize: ringSize, dataDir });
  const tokens = { acme: await origin.tenant("acme", ["read"]), beta: await origin.tenant("beta", ["read"]), node: await origin.token(null, ["node"]) };
  return { origin, tokens };
}

/** Tokens live in the store too, so the same ones work after the restart. */
const reopen = (dataDir: string, ringSize: number) => startTestOrigin({ keepDir: true, logRingSize: ringSize, dataDir });

async function post(origin: TestOrigin, node: string, events: LogEvent[]): Promise<void> {
  const r = await origin.call("POST", "/v1/nodes/logs", { token: node, json: logBatch(events) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function list(origin: TestOrigin, tenant: string, token: string, limit: number): Promise<LogEvent[]> {
  const r = await origin.call<LogList>("GET", `/v1/tenants/${tenant}/logs?limit=${limit}`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.events;
}

/** What the `logs` table holds for a tenant, read with the registry stopped. */
async function onDisk(dataDir: string, tenant: string): Promise<Array<{ key: string; path: string }>> {
  const store = openLmdbStore({ path: join(dataDir, "lmdb") });
  try {
    return store.read((tx) => tx.range<LogEvent>("logs", { prefix: `${tenant}/`, onUndecodable: () => {} })).map((r) => ({ key: r.key as string, path: r.value.path }));
  } finally {
    await store.close();
  }
}

/** Closes, newest first, what a failed assertion left open (else the test process never ends), then removes `dir`. */
function cleanup(t: TestContext) {
  const open = new Set<{ close(): Promise<void> }>();
  const dirs: string[] = [];
  t.after(async () => {
    for (const x of [...open].reverse()) await x.close().catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return {
    keep<T extends { close(): Promise<void> }>(x: T): T {
      open.add(x);
      return x;
    },
    async close(x: { close(): Promise<void> }): Promise<void> {
      open.delete(x);
      await x.close();
    },
    dir(dir = mkdtempSync(join(tmpdir(), "verge-logs-persist-"))): string {
      dirs.push(dir);
      return dir;
    },
  };
}

test("a restarted registry lists the same events in the same order, each tenant its own, and new ones come after them", async (t) => {
  const c = cleanup(t);
  const { origin, tokens } = await setUp(c.dir(), 1000).then((r) => (c.keep(r.origin), r));
  const talky = invocation("auth", { logs: [{ at: "2026-12-07T01:02:03.001Z", level: "warn", message: "line one\nline two ✓" }] });
  const first = [logEvent("acme", { invocations: [talky] }), logEvent("beta"), logEvent("acme", { status: 503, error: { code: "ERR_CPU_LIMIT", message: "too slow" }, cache: null })];
  const cron = logEvent("acme", { method: "SCHEDULED", host: "", path: "*/5 * * * *", distribution: "", cache: null, scheduled: { cron: "*/5 * * * *", scheduledTime: "2026-12-07T01:05:00.000Z", outcome: "ok" }, invocations: [invocation("warmer", { event: "scheduled" })] });
  await post(origin, tokens.node, first);
  await post(origin, tokens.node, [cron, logEvent("beta", { node: "edge-2" })]);
  const acmeBefore = await list(origin, "acme", tokens.acme, 1000);
  const betaBefore = await list(origin, "beta", tokens.beta, 1000);
  assert.equal(acmeBefore.length, 3);
  assert.equal(betaBefore.length, 2);
  await c.close(origin);

  const again = c.keep(await reopen(origin.dataDir, 1000));
  const acmeAfter = await list(again, "acme", tokens.acme, 1000);
  assert.deepEqual(acmeAfter, acmeBefore, "acme's events, as they were listed before");
  assert.equal(JSON.stringify(acmeAfter), JSON.stringify(acmeBefore), "byte for byte, field order included");
  assert.deepEqual(await list(again, "beta", tokens.beta, 1000), betaBefore);
  assert.ok(acmeAfter.every((e) => e.tenant === "acme"), "no beta event in acme's list");
  assert.equal((await again.call("GET", "/v1/tenants/beta/logs", { token: tokens.acme })).status, 404, "acme still cannot read beta's");
  assert.deepEqual(again.logs.filter((l) => l.startsWith("logs:")), [], "nothing skipped");

  const later = [logEvent("acme", { path: "/after/1" }), logEvent("acme", { path: "/after/2" })];
  await post(again, tokens.node, later);
  assert.deepEqual(await list(again, "acme", tokens.acme, 1000), [...acmeBefore, ...later], "new events after the stored ones");
  await c.close(again);
  const third = c.keep(await reopen(origin.dataDir, 1000));
  assert.deepEqual((await list(third, "acme", tokens.acme, 1000)).map((e) => e.path), [...acmeBefore.map((e) => e.path), "/after/1", "/after/2"], "and so after a second restart");
});

test("the count bound holds across restarts: the evicted are gone from disk, and a smaller ring trims what was stored", async (t) => {
  const c = cleanup(t);
  const { origin, tokens } = await setUp(c.dir(), 5).then((r) => (c.keep(r.origin), r));
  const sent = Array.from({ length: 12 }, (_, i) => logEvent("acme", { path: `/n/${i}` }));
  await post(origin, tokens.node, sent.slice(0, 4));
  await post(origin, tokens.node, sent.slice(4, 9));
  await post(origin, tokens.node, sent.slice(9));
  await post(origin, tokens.node, [logEvent("beta", { path: "/beta/0" })]);
  await c.close(origin);

  const newest = sent.slice(7).map((e) => e.path);
  const stored = await onDisk(origin.dataDir, "acme");
  assert.deepEqual(stored.map((r) => r.path), newest, "exactly the newest 5 on disk, oldest first");
  assert.deepEqual((await onDisk(origin.dataDir, "beta")).map((r) => r.path), ["/beta/0"], "beta's own ring is untouched");

  const again = c.keep(await reopen(origin.dataDir, 5));
  assert.deepEqual((await list(again, "acme", tokens.acme, 5)).map((e) => e.path), newest);
  await c.close(again);

  const smaller = c.keep(await reopen(origin.dataDir, 3));
  assert.deepEqual((await list(smaller, "acme", tokens.acme, 3)).map((e) => e.path), newest.slice(2));
  await c.close(smaller);
  assert.deepEqual((await onDisk(origin.dataDir, "acme")).map((r) => r.path), newest.slice(2), "trimmed on disk at start too");
  const keys = (await onDisk(origin.dataDir, "acme")).map((r) => r.key);
  assert.deepEqual([...keys].sort(), keys, "keys sort in arrival order");
});

test("the console-text bound holds across a restart, on disk too", async (t) => {
  const c = cleanup(t);
  const dir = c.dir();
  const loud = (i: number) => logEvent("acme", { path: `/loud/${i}`, invocations: [invocation("talky", { logs: [{ at: "2026-12-07T00:00:00.000Z", level: "log", message: "x".repeat(30_000) }] })] });
  let store: Store = c.keep(openLmdbStore({ path: dir }));
  let hub = c.keep(createLogHub({ store, ringBytes: 100_000 }));
  await hub.append([1, 2, 3].map(loud));
  await hub.append([4, 5].map(loud));
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/loud/3", "/loud/4", "/loud/5"]);
  await c.close(hub);
  await c.close(store);

  store = c.keep(openLmdbStore({ path: dir }));
  assert.deepEqual(store.read((tx) => tx.range<LogEvent>("logs", { prefix: "acme/" })).map((r) => r.value.path), ["/loud/3", "/loud/4", "/loud/5"]);
  hub = c.keep(createLogHub({ store, ringBytes: 100_000 }));
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/loud/3", "/loud/4", "/loud/5"]);
  await hub.append([loud(6)]);
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/loud/4", "/loud/5", "/loud/6"]);
  await c.close(hub);
  assert.deepEqual(store.read((tx) => tx.range<LogEvent>("logs", { prefix: "acme/" })).map((r) => r.value.path), ["/loud/4", "/loud/5", "/loud/6"]);
  await c.close(store);
});

test("stored entries that cannot be read are skipped with a log line, the rest load, and none is overwritten", async (t) => {
  const c = cleanup(t);
  const { origin, tokens } = await setUp(c.dir(), 1000).then((r) => (c.keep(r.origin), r));
  const good = [logEvent("acme", { path: "/good/0" }), logEvent("acme", { path: "/good/1" }), logEvent("beta", { path: "/good/beta" }), logEvent("acme", { path: "/good/2" })];
  await post(origin, tokens.node, good);
  await c.close(origin);

  // Damage as a disk, a bug or another version could leave it: bytes that are not msgpack, a
  // value that is not an event, another tenant's event under acme's key, a key of no known form.
  const path = join(origin.dataDir, "lmdb");
  const keys = (await onDisk(origin.dataDir, "acme")).map((r) => r.key);
  assert.equal(keys.length, 3);
  const env = c.keep(open({ path, maxDbs: 40 }));
  const raw = env.openDB({ name: "logs", encoding: "binary" });
  await raw.put(keys[1]!, Buffer.from([0xc1, 0xff, 0x00]));
  await raw.put("acme/0000000000000900", Buffer.from([0xdb, 0xff, 0xff, 0xff, 0x12]));
  await c.close(env);
  const store = c.keep(openLmdbStore({ path }));
  await store.write((tx) => {
    tx.put("logs", "acme/0000000000000050", { not: "an event" });
    tx.put("logs", "acme/0000000000000060", { ...logEvent("beta", { path: "/smuggled" }) });
    tx.put("logs", "junk", logEvent("acme", { path: "/junk" }));
  });
  await c.close(store);

  const again = c.keep(await reopen(origin.dataDir, 1000));
  assert.deepEqual((await list(again, "acme", tokens.acme, 1000)).map((e) => e.path), ["/good/0", "/good/2"], "the readable acme events, in order");
  assert.deepEqual((await list(again, "beta", tokens.beta, 1000)).map((e) => e.path), ["/good/beta"], "the smuggled event does not reach beta either");
  const lines = again.logs.filter((l) => l.startsWith("logs: skipped"));
  assert.equal(lines.length, 5, lines.join("\n"));
  assert.ok(lines.some((l) => l.includes(keys[1]!) && /cannot be decoded/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("acme/0000000000000900") && /cannot be decoded/.test(l)));
  assert.ok(lines.some((l) => l.includes("acme/0000000000000050") && /not a valid log event \(.*event\.at: expected an ISO 8601 time/.test(l)));
  assert.ok(lines.some((l) => l.includes("acme/0000000000000060") && /an event of tenant "beta" under tenant "acme"/.test(l)));
  assert.ok(lines.some((l) => l.includes('"junk"') && /not a key of the form/.test(l)));
  await post(again, tokens.node, [logEvent("acme", { path: "/new" })]);
  assert.deepEqual((await list(again, "acme", tokens.acme, 1000)).map((e) => e.path), ["/good/0", "/good/2", "/new"]);
  await c.close(again);
  const after = await onDisk(origin.dataDir, "acme");
  assert.ok(after.some((r) => r.key === "acme/0000000000000050"), "a bad entry is left in place");
  const fresh = after.find((r) => r.path === "/new")!;
  assert.ok(fresh.key > "acme/0000000000000900", `the new event's number (${fresh.key}) is past every stored key, readable or not`);
});

test("a hub without a store keeps memory only, and its appends resolve at once", async () => {
  const hub = createLogHub({ ringSize: 2 });
  await hub.append([logEvent("acme"), logEvent("acme"), logEvent("acme")]);
  assert.equal(hub.recent("acme", 10).length, 2);
  await hub.close();
});
