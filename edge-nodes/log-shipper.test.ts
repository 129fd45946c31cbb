import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LogBatch } from "../src/shared/protocol.ts";
import { createLogShipper } from "./log-shipper.ts";
import type { RequestRecord } from "./types.ts";

/** A registry stand-in: records the batches, answers `tail` as told (or a status). */
async function fakeRegistry(t: import("node:test").TestContext) {
  const batches: Array<{ auth: string | undefined; batch: LogBatch }> = [];
  const state = { tail: false, status: 200 };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url !== "/v1/nodes/logs" || req.method !== "POST") return void res.writeHead(404).end();
      if (state.status !== 200) return void res.writeHead(state.status).end("down");
      batches.push({ auth: req.headers.authorization, batch: JSON.parse(body) as LogBatch });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ tail: state.tail }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, batches, state, events: () => batches.flatMap((b) => b.batch.events) };
}

let n = 0;
function rec(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: `r${++n}`,
    at: "2026-12-07T01:00:00.000Z",
    method: "GET",
    host: "shop.test",
    path: "/a",
    status: 200,
    cache: "Hit",
    distribution: "acme/shop",
    invocations: [],
    bytesOut: 5,
    durationMs: 1.5,
    ...over,
  };
}
const ran = (logs?: Array<{ at: string; level: string; message: string }>) => ({
  invocations: [{ event: "viewer-request" as const, function: "auth", digest: "d1", cold: false, cpuMs: 0.2, wallMs: 0.3, ...(logs ? { logs } : {}) }],
});

test("without a tail only requests that ran a function or failed go out, as LogEvents with their console lines", async (t) => {
  const reg = await fakeRegistry(t);
  const shipper = createLogShipper({ registry: { url: reg.url, token: "node-token" }, nodeId: "edge-1", region: "eu-west", intervalMs: 60_000 });
  t.after(() => shipper.close());
  shipper.record(rec());
  shipper.record(rec({ ...ran([{ at: "2026-12-07T01:00:00.001Z", level: "log", message: "hello" }]), requestId: "fn" }));
  shipper.record(rec({ status: 502, error: { code: "ERR_ORIGIN_UNREACHABLE", message: "down" }, requestId: "err" }));
  shipper.record(rec({ distribution: null, error: { code: "ERR_NO_DISTRIBUTION", message: "x" } }));
  await shipper.flush();
  assert.equal(reg.batches[0]!.auth, "Bearer node-token");
  assert.deepEqual(
    reg.events().map((e) => e.requestId),
    ["fn", "err"],
  );
  const fn = reg.events()[0]!;
  assert.deepEqual([fn.tenant, fn.distribution, fn.node, fn.region, fn.status], ["acme", "shop", "edge-1", "eu-west", 200]);
  assert.deepEqual(fn.invocations[0]!.logs, [{ at: "2026-12-07T01:00:00.001Z", level: "log", message: "hello" }]);
  assert.deepEqual(reg.events()[1]!.error, { code: "ERR_ORIGIN_UNREACHABLE", message: "down" });
});

test("while the registry says a tail is live, every request goes out", async (t) => {
  const reg = await fakeRegistry(t);
  reg.state.tail = true;
  const shipper = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 60_000 });
  t.after(() => shipper.close());
  shipper.record(rec({ requestId: "before" }));
  await shipper.flush(); // an empty batch: the answer says tail
  assert.equal(shipper.tailing(), true);
  shipper.record(rec({ requestId: "plain-hit" }));
  await shipper.flush();
  assert.deepEqual(reg.events().map((e) => e.requestId), ["plain-hit"]);
  reg.state.tail = false;
  await shipper.flush();
  shipper.record(rec({ requestId: "after" }));
  await shipper.flush();
  assert.deepEqual(reg.events().map((e) => e.requestId), ["plain-hit"]);
});

test("over the rate cap, and while the registry refuses, events are dropped and counted in the next batch", async (t) => {
  const reg = await fakeRegistry(t);
  const shipper = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 60_000, maxPerSecond: 3 });
  t.after(() => shipper.close());
  for (let i = 0; i < 5; i++) shipper.record(rec(ran()));
  reg.state.status = 503;
  await shipper.flush();
  assert.equal(reg.batches.length, 0);
  assert.equal(shipper.stats().dropped, 5, "3 sent and lost, 2 over the cap");
  reg.state.status = 200;
  await shipper.flush();
  assert.equal(reg.batches.at(-1)!.batch.dropped, 5);
  assert.equal(shipper.stats().dropped, 0);
  assert.equal(shipper.stats().droppedTotal, 5, "the running total stays");
});

test("the timer sends queued events without a flush, and a heartbeat when idle", async (t) => {
  const reg = await fakeRegistry(t);
  const shipper = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 80 });
  t.after(() => shipper.close());
  shipper.record(rec({ ...ran(), requestId: "timed" }));
  for (let i = 0; i < 100 && reg.batches.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(reg.batches[0]!.batch.events.map((e) => e.requestId), ["timed"]);
  assert.equal(reg.batches[1]!.batch.events.length, 0, "then an empty batch, to hear of a tail");
});

test("a request's console text is cut at 32 KiB with a line saying how much more there was; batches stay under 768 KiB", async (t) => {
  const reg = await fakeRegistry(t);
  const shipper = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 60_000, maxBytesPerSecond: 1e9 });
  t.after(() => shipper.close());
  const line = (i: number) => ({ at: "2026-12-07T01:00:00.000Z", level: "log", message: `${i}:${"z".repeat(10_000)}` });
  for (let i = 0; i < 40; i++) shipper.record(rec({ ...ran(Array.from({ length: 10 }, (_, k) => line(k))), requestId: `loud-${i}` }));
  await shipper.flush();
  const events = reg.events();
  assert.equal(events.length, 40, "every event arrives");
  assert.ok(reg.batches.length >= 2, `split over ${reg.batches.length} batches`);
  const logs = events[0]!.invocations[0]!.logs;
  assert.equal(logs.length, 4, "3 lines of 10 KB fit in 32 KiB, then the notice");
  assert.match(logs[3]!.message, /^7 more console line\(s\) of this invocation not sent to verge logs/);
  assert.equal(logs[3]!.level, "warn");
});

test("a cron run this node made goes out as a scheduled LogEvent with its console lines; one another node ran does not", async (t) => {
  const reg = await fakeRegistry(t);
  const shipper = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 60_000 });
  t.after(() => shipper.close());
  const fire = { tenant: "acme", function: "warmer", version: "d".repeat(64), cron: "*/10 * * * *", scheduledTime: "2026-12-07T01:10:00.000Z", cpuMs: 1.5, wallMs: 4 };
  shipper.scheduled({ ...fire, outcome: "ok" }, [{ at: "2026-12-07T01:10:00.001Z", level: "log", message: "warmed 2/2" }]);
  shipper.scheduled({ ...fire, outcome: "claimed-elsewhere", claimedBy: "edge-2" });
  shipper.scheduled({ ...fire, outcome: "ERR_CPU_LIMIT", message: "too long" });
  await shipper.flush();
  const [ok, failed, ...rest] = reg.events();
  assert.equal(rest.length, 0);
  assert.deepEqual(ok!.scheduled, { cron: "*/10 * * * *", scheduledTime: "2026-12-07T01:10:00.000Z", outcome: "ok" });
  assert.deepEqual([ok!.method, ok!.host, ok!.path, ok!.distribution, ok!.tenant, ok!.status], ["SCHEDULED", "", "*/10 * * * *", "", "acme", 200]);
  assert.deepEqual(ok!.invocations.map((i) => [i.event, i.function, i.logs.map((l) => l.message)]), [["scheduled", "warmer", ["warmed 2/2"]]]);
  assert.deepEqual([failed!.status, failed!.error, failed!.invocations[0]!.error], [500, { code: "ERR_CPU_LIMIT", message: "too long" }, "ERR_CPU_LIMIT"]);
});

test("a service binding call's record goes out as its own LogEvent with service, under the caller's request id; a cron run's call has no distribution", async (t) => {
  const reg = await fakeRegistry(t);
  const shipper = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 60_000 });
  t.after(() => shipper.close());
  const inv = { event: "service" as const, function: "auth", digest: "d".repeat(64), cold: false, cpuMs: 0.4, wallMs: 2, logs: [{ at: "2026-12-07T01:00:00.001Z", level: "log", message: "checked" }] };
  shipper.record(rec({ requestId: "req-1", host: "auth.internal", path: "/check", cache: null, bytesOut: 0, invocations: [inv], service: { binding: "AUTH", caller: "front" } }));
  shipper.record(rec({ requestId: "scheduled:acme/warmer@t", distribution: "acme/", cache: null, invocations: [inv], service: { binding: "AUTH", caller: "warmer" } }));
  await shipper.flush();
  const [call, fromCron] = reg.events();
  assert.deepEqual([call!.requestId, call!.tenant, call!.distribution, call!.host, call!.path, call!.service], ["req-1", "acme", "shop", "auth.internal", "/check", { binding: "AUTH", caller: "front" }]);
  assert.deepEqual(call!.invocations.map((i) => [i.event, i.function, i.logs.map((l) => l.message)]), [["service", "auth", ["checked"]]]);
  assert.deepEqual([fromCron!.tenant, fromCron!.distribution, fromCron!.service?.caller], ["acme", "", "warmer"]);
});

test("a function that prints a lot is held to the byte rate, and what waits is bounded by bytes (the oldest dropped, counted)", async (t) => {
  const reg = await fakeRegistry(t);
  const loud = (i: number) => rec({ ...ran([{ at: "2026-12-07T01:00:00.000Z", level: "log", message: "x".repeat(30_000) }]), requestId: `loud-${i}` });
  // Bounded by bytes: 30 events of ~30 KB, of which about 400 KB may wait.
  const small = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-1", region: "r", intervalMs: 60_000, maxQueuedBytes: 400_000 });
  t.after(() => small.close());
  for (let i = 0; i < 30; i++) small.record(loud(i));
  const waiting = small.stats();
  assert.ok(waiting.queued >= 11 && waiting.queued <= 13, `queued ${waiting.queued}`);
  assert.equal(waiting.dropped, 30 - waiting.queued, "the oldest went, counted");
  // Held to the byte rate: one flush sends at most a batch's worth (768 KiB), the rest waits its turn.
  // 1 byte a second: what the test's own running time adds to the allowance is nothing.
  const slow = createLogShipper({ registry: { url: reg.url, token: "x" }, nodeId: "edge-2", region: "r", intervalMs: 60_000, maxBytesPerSecond: 1 });
  t.after(() => slow.close());
  for (let i = 0; i < 40; i++) slow.record(loud(i));
  await slow.flush();
  const sent = reg.events().filter((e) => e.node === "edge-2").length;
  assert.ok(sent >= 20 && sent <= 26, `sent ${sent}`);
  assert.equal(slow.stats().queued, 40 - sent, "the rest waits");
  await slow.flush();
  assert.ok(reg.events().filter((e) => e.node === "edge-2").length <= sent + 1, "at most one more event before the allowance refills");
});
